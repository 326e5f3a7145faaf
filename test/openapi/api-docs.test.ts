import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

const PRODUCTION = {
  NODE_ENV: 'production',
  SERMI_GRANT_SIGNING_KEY: generateKeyPairSync('ec', { namedCurve: 'P-256' })
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString(),
};

describe('Swagger UI and the OpenAPI JSON', () => {
  let database: TestDatabase;
  const apps: TestApp[] = [];
  const start = async (env: Record<string, string>) => {
    const app = await startTestApp(env, { database });
    apps.push(app);
    return app;
  };

  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
    await database.drop();
  });

  const served = async (app: TestApp) => {
    const ui = await request(app.http).get('/api/docs/');
    const json = await request(app.http).get('/api/docs/openapi.json');
    return { ui: ui.status, json: json.status, paths: Object.keys(json.body.paths ?? {}).length > 0 };
  };

  it('are served outside production by default', async () => {
    expect(await served(await start({}))).toEqual({ ui: 200, json: 200, paths: true });
  });

  it('are not served in production by default', async () => {
    const app = await start(PRODUCTION);
    expect(await served(app)).toEqual({ ui: 404, json: 404, paths: false });
    const res = await request(app.http).get('/api/docs/openapi.json');
    expect(res.body.code).toBe('not_found');
  });

  it('are served in production with API_DOCS_ENABLED=true, and can be switched off anywhere', async () => {
    expect(await served(await start({ ...PRODUCTION, API_DOCS_ENABLED: 'true' }))).toEqual({
      ui: 200,
      json: 200,
      paths: true,
    });
    expect(await served(await start({ API_DOCS_ENABLED: 'false' }))).toEqual({ ui: 404, json: 404, paths: false });
  });
});
