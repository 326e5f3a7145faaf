import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { createAccount, createAdmin, signIn } from '../support/factories.js';
import { concretePath, routeTable } from '../support/route-table.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/**
 * State-changing routes that legitimately cannot carry the X-CSRF-Token (e.g. a provider posting back cross-site),
 * each with the reason. Empty today: every provider comes back with a top-level GET.
 */
const CANNOT_CARRY_A_TOKEN: Record<string, string> = {};

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const rsaPem = () =>
  generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

/** Every state-changing route the app serves, as `METHOD /path/:param`. */
const stateChangingRoutes = (t: TestApp) => routeTable(t).filter((route) => !SAFE_METHODS.has(route.split(' ')[0]));

const SAMPLE_PARAMETERS: Record<string, string> = { provider: 'digidentity', code: 'IMMO_KEY_PROGRAMMING' };
const concrete = (path: string) => concretePath(path, SAMPLE_PARAMETERS);

/** Every row of every table, so "nothing was written" covers whatever a handler might have touched. */
async function databaseContents(t: TestApp): Promise<Record<string, string | null>> {
  const tables: Array<{ name: string }> = await t.dataSource.query(
    `SELECT table_name AS name FROM information_schema.tables
      WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`,
  );
  const contents: Record<string, string | null> = {};
  for (const { name } of tables) {
    const [{ digest }] = await t.dataSource.query(
      `SELECT md5(string_agg(row_text, ',' ORDER BY row_text)) AS digest FROM (SELECT t::text AS row_text FROM "${name}" t) rows`,
    );
    contents[name] = digest;
  }
  return contents;
}

describe('CSRF on every state-changing route', () => {
  let t: TestApp;

  beforeAll(async () => {
    // Every provider enabled, so their routes exist; they point at a closed port and are never reached here.
    t = await startTestApp({
      OIDC_ALLOW_INSECURE_HTTP: 'true',
      DIGIDENTITY_ENABLED: 'true',
      DIGIDENTITY_ISSUER: 'http://127.0.0.1:9/digidentity',
      DIGIDENTITY_CLIENT_ID: 'csrf',
      DIGIDENTITY_CLIENT_SECRET: 'csrf',
      DIGIDENTITY_PRODUCT_SCOPE: 'csrfcsrfcsrfcsrf',
      DIGIDENTITY_UNKNOWN_IDENTITY_POLICY: 'choose',
      SIGNICAT_IDIN_ENABLED: 'true',
      SIGNICAT_IDIN_ISSUER: 'http://127.0.0.1:9/idin',
      SIGNICAT_IDIN_CLIENT_ID: 'csrf',
      SIGNICAT_IDIN_CLIENT_SECRET: 'csrf',
      ITSME_ENABLED: 'true',
      ITSME_ISSUER: 'http://127.0.0.1:9/itsme',
      ITSME_CLIENT_ID: 'csrf',
      ITSME_SERVICE_CODE: 'CSRF',
      ITSME_SIGNING_KEY: rsaPem(),
      ITSME_ENCRYPTION_KEYS: rsaPem(),
      SIGNICAT_EHERKENNING_ENABLED: 'true',
      SIGNICAT_EHERKENNING_BASE_URL: 'http://127.0.0.1:9',
      SIGNICAT_EHERKENNING_CLIENT_ID: 'csrf',
      SIGNICAT_EHERKENNING_CLIENT_SECRET: 'csrf',
    });
  });
  afterAll(async () => t?.close());

  it('finds the routes to check in the route table', () => {
    const routes = stateChangingRoutes(t);
    expect(routes).toEqual(
      expect.arrayContaining([
        'POST /api/pending-identity/create-account',
        'POST /api/pending-identity/attach',
        'POST /auth/logout',
        'POST /auth/digidentity/passwordless',
        'PATCH /api/admin/accounts/:id',
        'DELETE /api/me/links/:id',
        'POST /api/sermi/access',
      ]),
    );
    expect(routes.length).toBeGreaterThanOrEqual(18);
    for (const exception of Object.keys(CANNOT_CARRY_A_TOKEN)) expect(routes).toContain(exception);
  });

  it('refuses each one with a live session cookie and no token (nor Origin/Referer), before the handler runs', async () => {
    const { session } = await createAdmin(t);
    const refused: string[] = [];
    for (const route of stateChangingRoutes(t).filter((route) => !(route in CANNOT_CARRY_A_TOKEN))) {
      const [method, path] = route.split(' ');
      const before = await databaseContents(t);
      const res = await request(t.http)
        [method.toLowerCase() as 'post'](concrete(path))
        .set('Cookie', session.cookie)
        .send({});
      if (res.status === 403 && res.body.code === 'csrf_check_failed') refused.push(route);
      else refused.push(`${route} answered ${res.status} ${res.body.code}`);
      expect({ route, written: await databaseContents(t) }).toEqual({ route, written: before });
    }
    expect(refused).toEqual(stateChangingRoutes(t).filter((route) => !(route in CANNOT_CARRY_A_TOKEN)));
  });

  it('lets each one past the check with the token (the refusal above was the CSRF check, not something else)', async () => {
    for (const route of stateChangingRoutes(t).filter((route) => !(route in CANNOT_CARRY_A_TOKEN))) {
      const [method, path] = route.split(' ');
      // A session of its own: some of these routes end it.
      const { session } = await createAdmin(t);
      const res = await request(t.http)
        [method.toLowerCase() as 'post'](concrete(path))
        .set('Cookie', session.cookie)
        .set(session.writeHeaders);
      expect([route, res.body.code]).not.toEqual([route, 'csrf_check_failed']);
    }
  });

  it('treats an unknown session cookie as no session: cleared, and the origin check alone decides', async () => {
    const stale = `${t.config.session.cookieName}=${'B'.repeat(43)}`;
    const crossSite = await request(t.http)
      .post('/api/pending-identity/create-account')
      .set('Cookie', stale)
      .set('Origin', 'https://evil.example')
      .send({ pendingIdentityId: randomUUID() });
    expect([crossSite.status, crossSite.body.code]).toEqual([403, 'csrf_check_failed']);
    expect(String(crossSite.headers['set-cookie'])).toContain(`${t.config.session.cookieName}=;`);

    const sameSite = await request(t.http)
      .post('/api/pending-identity/create-account')
      .set('Cookie', stale)
      .set('Origin', t.config.http.publicBaseUrl.origin)
      .send({ pendingIdentityId: randomUUID() });
    // Past the guard: the handler finds no pending identity for this browser.
    expect([sameSite.status, sameSite.body.code]).toEqual([404, 'pending_identity_not_found']);
    expect(String(sameSite.headers['set-cookie'])).toContain(`${t.config.session.cookieName}=;`);
  });

  it('applies the origin check to a state-changing request without any session', async () => {
    const crossSite = await request(t.http).post('/auth/logout').set('Origin', 'https://evil.example');
    expect([crossSite.status, crossSite.body.code]).toEqual([403, 'csrf_check_failed']);
    const fetchMetadata = await request(t.http).post('/auth/logout').set('Sec-Fetch-Site', 'cross-site');
    expect([fetchMetadata.status, fetchMetadata.body.code]).toEqual([403, 'csrf_check_failed']);
    expect((await request(t.http).post('/auth/logout')).status).toBe(204);
  });

  it('accepts a public state-changing route with a live session and its token', async () => {
    const session = await signIn(t, await createAccount(t.dataSource));
    const res = await request(t.http)
      .post('/api/pending-identity/create-account')
      .set('Cookie', session.cookie)
      .set(session.writeHeaders)
      .send({ pendingIdentityId: randomUUID() });
    expect([res.status, res.body.code]).toEqual([404, 'pending_identity_not_found']);
  });
});
