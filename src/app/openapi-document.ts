import { generateKeyPairSync } from 'node:crypto';
import { NestFactory } from '@nestjs/core';
import type { OpenAPIObject } from '@nestjs/swagger';
import { pino } from 'pino';
import { AppModule } from './app.module.js';
import { loadConfig } from './app.config.js';
import { buildOpenApiDocument } from '../common/openapi/openapi.js';

const rsaPem = () =>
  generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

/**
 * The OpenAPI document from the route and DTO metadata alone: the module graph is built in preview mode, so no
 * provider is instantiated and no database is needed. Fixed settings keep the output stable.
 */
export async function generateOpenApiDocument(): Promise<OpenAPIObject> {
  const config = loadConfig({
    NODE_ENV: 'production',
    PUBLIC_BASE_URL: 'https://portal.example',
    DATABASE_URL: 'postgres://openapi@localhost/openapi',
    DIGIDENTITY_ISSUER: 'https://auth.digidentity.example',
    DIGIDENTITY_CLIENT_ID: 'openapi',
    DIGIDENTITY_CLIENT_SECRET: 'openapi',
    DIGIDENTITY_PRODUCT_SCOPE: 'openapiopenapi00',
    SIGNICAT_IDIN_ENABLED: 'true',
    SIGNICAT_IDIN_ISSUER: 'https://idin.example/auth/open',
    SIGNICAT_IDIN_CLIENT_ID: 'openapi',
    SIGNICAT_IDIN_CLIENT_SECRET: 'openapi',
    ITSME_ENABLED: 'true',
    ITSME_ISSUER: 'https://idp.itsme.example/v2',
    ITSME_CLIENT_ID: 'openapi',
    ITSME_SERVICE_CODE: 'OPENAPI',
    ITSME_SIGNING_KEY: rsaPem(),
    ITSME_ENCRYPTION_KEYS: rsaPem(),
    SIGNICAT_EHERKENNING_ENABLED: 'true',
    SIGNICAT_EHERKENNING_BASE_URL: 'https://api.signicat.example',
    SIGNICAT_EHERKENNING_CLIENT_ID: 'openapi',
    SIGNICAT_EHERKENNING_CLIENT_SECRET: 'openapi',
    SERMI_GRANT_SIGNING_KEY: generateKeyPairSync('ec', { namedCurve: 'P-256' })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString(),
  });
  const app = await NestFactory.create(AppModule.register(config, pino({ level: 'silent' })), {
    preview: true,
    logger: false,
    abortOnError: false,
  });
  try {
    return buildOpenApiDocument(app, config);
  } finally {
    await app.close();
  }
}

export function serializeOpenApi(document: OpenAPIObject): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}
