import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import type { AppConfig } from '../../app/app.config.js';
import { ERROR_STATUS } from '../problem/error-codes.js';
import { SESSION_COOKIE_SECURITY } from './problem-responses.js';

export const OPENAPI_PATH = 'api/docs';

export function buildOpenApiDocument(app: INestApplication, config: AppConfig): OpenAPIObject {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('RMI portal identity backend')
      .setDescription(
        'Accounts, identity links, sessions and the audit trail behind the RMI portal. Every error is ' +
          'application/problem+json (RFC 9457) with a stable `code`. State-changing requests need the ' +
          '`X-CSRF-Token` header (csrfToken from GET /api/me).',
      )
      .setVersion('0.1.0')
      .addCookieAuth(
        config.session.cookieName,
        { type: 'apiKey', in: 'cookie', name: config.session.cookieName },
        SESSION_COOKIE_SECURITY,
      )
      .build(),
  );
  document.components ??= {};
  document.components.schemas ??= {};
  document.components.schemas.Problem = {
    type: 'object',
    required: ['type', 'title', 'status', 'code'],
    properties: {
      type: { type: 'string', format: 'uri', example: 'urn:rmi-identity:problem:validation_failed' },
      title: { type: 'string' },
      status: { type: 'integer' },
      detail: { type: 'string' },
      instance: { type: 'string' },
      code: { type: 'string', enum: Object.keys(ERROR_STATUS) },
      requestId: { type: 'string' },
      errors: {
        type: 'array',
        items: {
          type: 'object',
          required: ['field', 'rule', 'message'],
          properties: { field: { type: 'string' }, rule: { type: 'string' }, message: { type: 'string' } },
        },
      },
    },
  };
  return document;
}

export function serveOpenApi(app: INestApplication, document: OpenAPIObject): void {
  SwaggerModule.setup(OPENAPI_PATH, app, document, { jsonDocumentUrl: `${OPENAPI_PATH}/openapi.json` });
}
