import { describe, expect, it } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateOpenApiDocument, serializeOpenApi } from '../../src/app/openapi-document.js';
import { PROJECT_ROOT } from '../support/spawn-process.js';

describe('OpenAPI document', () => {
  it('committed openapi.json matches the code (run `npm run openapi` after changing routes or DTOs)', async () => {
    const committed = await readFile(join(PROJECT_ROOT, 'openapi.json'), 'utf8');
    expect(committed).toBe(serializeOpenApi(await generateOpenApiDocument()));
  });

  it('documents every route with its problem responses and the session cookie', async () => {
    const document = await generateOpenApiDocument();
    expect(Object.keys(document.paths).sort()).toEqual([
      '/.well-known/jwks.json',
      '/api/admin/accounts',
      '/api/admin/accounts/{id}',
      '/api/admin/accounts/{id}/rebind',
      '/api/admin/audit-events',
      '/api/admin/audit-events/verify',
      '/api/admin/pending-identities',
      '/api/admin/rebind-requests',
      '/api/admin/rebind-requests/{id}/approve',
      '/api/admin/rebind-requests/{id}/reject',
      '/api/admin/rmi-items',
      '/api/admin/rmi-items/import',
      '/api/admin/rmi-items/{code}',
      '/api/admin/sermi/access-log',
      '/api/admin/sermi/access-log/export',
      '/api/admin/sermi/access-log/verify',
      '/api/me',
      '/api/me/links',
      '/api/me/links/{id}',
      '/api/me/links/{provider}',
      '/api/me/sessions',
      '/api/me/sessions/revoke-others',
      '/api/me/sessions/{id}',
      '/api/pending-identity',
      '/api/pending-identity/attach',
      '/api/pending-identity/create-account',
      '/api/sermi/access',
      '/auth/digidentity/callback',
      '/auth/digidentity/login',
      '/auth/digidentity/passwordless',
      '/auth/digidentity/passwordless/{id}',
      '/auth/itsme/callback',
      '/auth/itsme/jwks.json',
      '/auth/itsme/login',
      '/auth/login-error',
      '/auth/logout',
      '/auth/logout/done',
      '/auth/reauthenticate',
      '/auth/signicat-eherkenning/callback/{outcome}',
      '/auth/signicat-eherkenning/login',
      '/auth/signicat-idin/callback',
      '/auth/signicat-idin/login',
      '/health',
      '/ready',
    ]);
    expect(document.paths['/api/me'].get?.responses['401']).toBeDefined();
    expect(document.paths['/api/admin/accounts/{id}'].patch?.responses['409']).toBeDefined();
    expect(document.components?.securitySchemes?.session).toEqual({
      type: 'apiKey',
      in: 'cookie',
      name: '__Host-rmi_session',
    });
  });
});
