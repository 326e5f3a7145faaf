import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { auditEvents, createAdmin, type SignedIn } from '../support/factories.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const BROWSER = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

/** Admin reads are audited in the admin's name: a link on another site must not make one. */
describe('the admin area opened from another site', () => {
  let t: TestApp;
  let admin: SignedIn;
  beforeAll(async () => {
    t = await startTestApp();
    ({ session: admin } = await createAdmin(t));
  });
  afterAll(async () => t.close());

  const searches = async () => (await auditEvents(t.dataSource, 'account.searched')).length;
  /** A GET as the admin's browser, which says where it came from (`Sec-Fetch-Site`) unless `site` is undefined. */
  const open = (path: string, site: string | undefined, accept = 'application/json') => {
    const get = request(t.http).get(path).set('Cookie', admin.cookie).set('Accept', accept);
    return site ? get.set('Sec-Fetch-Site', site) : get;
  };

  it('refuses a read of the admin API from another site, reading and auditing nothing', async () => {
    const before = await searches();
    const crossSite = await open('/api/admin/accounts?q=someone', 'cross-site');
    expect([crossSite.status, crossSite.body.code]).toEqual([403, 'cross_site_navigation']);
    expect(await searches()).toBe(before);
    // Typed or bookmarked (none), from the portal itself, or from a client that says nothing: read and audited.
    for (const site of ['none', 'same-origin', undefined]) {
      expect((await open('/api/admin/accounts?q=someone', site)).status).toBe(200);
    }
    expect(await searches()).toBe(before + 3);
  });

  it('answers a support desk page opened from another site with a link to open it from here', async () => {
    const before = await searches();
    const page = await open('/console/accounts?q=someone', 'cross-site', BROWSER);
    expect(page.status).toBe(403);
    expect(page.text).toContain('<a class="button" href="/console/accounts?q=someone">Open it</a>');
    expect(await searches()).toBe(before);
    expect((await open('/console/accounts?q=someone', 'same-origin', BROWSER)).status).toBe(200);
    expect(await searches()).toBe(before + 1);
  });

  it('leaves the rest of the portal open to links from elsewhere', async () => {
    expect((await open('/', 'cross-site', BROWSER)).status).toBe(200);
  });
});
