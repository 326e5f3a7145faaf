import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { auditEvents, createAccount, createAdmin, type SignedIn } from '../support/factories.js';
import { concretePath, routeTable } from '../support/route-table.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/** Every GET route the app serves. */
const readRoutes = (t: TestApp) =>
  routeTable(t).flatMap((route) => (route.startsWith('GET ') ? [route.slice('GET '.length)] : []));

const ADMIN_AREA = /^\/(console|api\/admin)(\/|$)/;

/** Reads in the admin area are audited in the admin's name: another site must not be able to make one. */
describe('reads in the admin area', () => {
  let t: TestApp;
  let admin: SignedIn;
  let subjectId: string;
  const concrete = (path: string) => concretePath(path, { id: subjectId });
  const read = (path: string, headers: Record<string, string>) =>
    request(t.app.getHttpServer()).get(path).set('Cookie', admin.cookie).set('Accept', 'application/json').set(headers);

  beforeAll(async () => {
    t = await startTestApp();
    admin = (await createAdmin(t)).session;
    subjectId = (await createAccount(t.dataSource, { displayName: 'Someone' })).id;
  });
  afterAll(async () => t?.close());

  it('are refused, before the handler, when the browser says another site opened them: nothing is audited', async () => {
    const routes = readRoutes(t).filter((path) => ADMIN_AREA.test(path));
    expect(routes).toEqual(expect.arrayContaining(['/console', '/api/admin/accounts/:id', '/api/admin/audit-events']));
    const before = (await auditEvents(t.dataSource)).length;
    for (const path of routes) {
      const res = await read(concrete(path), { 'Sec-Fetch-Site': 'cross-site' });
      expect({ path, status: res.status, code: res.body.code }).toEqual({
        path,
        status: 403,
        code: 'opened_from_another_site',
      });
    }
    expect(await auditEvents(t.dataSource)).toHaveLength(before);
  });

  it('pass when the browser says this site, or it made the request itself, or says nothing', async () => {
    const cases: Array<Record<string, string>> = [
      { 'Sec-Fetch-Site': 'same-origin' },
      { 'Sec-Fetch-Site': 'none' },
      {},
      { 'Sec-Fetch-Site': 'same-site', Referer: `${t.config.http.publicBaseUrl.origin}/console` },
      { Referer: `${t.config.http.publicBaseUrl.origin}/console` },
    ];
    for (const headers of cases) {
      const res = await read(`/api/admin/accounts/${subjectId}`, headers);
      expect({ headers, status: res.status }).toEqual({ headers, status: 200 });
    }
    const viewed = (await auditEvents(t.dataSource, 'account.viewed')).filter(
      (event) => event.subject_account_id === subjectId,
    );
    expect(viewed).toHaveLength(5);
  });

  it("refuse a sibling host without a trusted origin, another site whatever its Referer, an older browser's other site", async () => {
    const cases: Array<Record<string, string>> = [
      { 'Sec-Fetch-Site': 'same-site' },
      { 'Sec-Fetch-Site': 'same-site', Referer: 'https://blog.example.test/post' },
      { 'Sec-Fetch-Site': 'cross-site', Referer: `${t.config.http.publicBaseUrl.origin}/console` },
      // A browser without Fetch Metadata that names the other site.
      { Referer: 'https://mail.example.test/inbox' },
    ];
    for (const headers of cases) {
      const res = await read(`/api/admin/accounts/${subjectId}`, headers);
      expect({ headers, code: res.body.code }).toEqual({ headers, code: 'opened_from_another_site' });
    }
  });

  it('refuse a HEAD request as they refuse a GET', async () => {
    const res = await request(t.app.getHttpServer())
      .head(`/api/admin/accounts/${subjectId}`)
      .set('Cookie', admin.cookie)
      .set('Sec-Fetch-Site', 'cross-site');
    expect(res.status).toBe(403);
    const here = await request(t.app.getHttpServer())
      .head(`/api/admin/accounts/${subjectId}`)
      .set('Cookie', admin.cookie)
      .set('Sec-Fetch-Site', 'same-origin');
    expect(here.status).toBe(200);
  });

  it('answers a browser with a page that opens the address from here', async () => {
    const res = await request(t.app.getHttpServer())
      .get(`/console/accounts/${subjectId}?notice=x`)
      .set('Cookie', admin.cookie)
      .set('Accept', 'text/html')
      .set('Sec-Fetch-Site', 'cross-site');
    expect(res.status).toBe(403);
    expect(res.text).toContain('Opened from another site');
    expect(res.text).toContain(`<a class="button" href="/console/accounts/${subjectId}?notice=x">Open it here</a>`);
  });

  it('are the only reads refused for another site: every route outside /console and /api/admin passes', async () => {
    const others = readRoutes(t).filter((path) => !ADMIN_AREA.test(path));
    expect(others).toEqual(expect.arrayContaining(['/api/me', '/health']));
    for (const path of others) {
      const res = await read(concrete(path), { 'Sec-Fetch-Site': 'cross-site' });
      expect({ path, code: res.body?.code }).not.toEqual({ path, code: 'opened_from_another_site' });
    }
  });
});
