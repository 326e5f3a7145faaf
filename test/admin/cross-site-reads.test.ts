import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { auditEvents, createAdmin } from '../support/factories.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const BROWSER = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

/** Admin reads are audited in the admin's name: a link on another site must not make one. */
describe('the admin area opened from another site', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t.close());

  const searches = async () => (await auditEvents(t.dataSource, 'account.searched')).length;

  it('refuses a read of the admin API from another site, reading and auditing nothing', async () => {
    const { session } = await createAdmin(t);
    const before = await searches();
    const crossSite = await request(t.http)
      .get('/api/admin/accounts?q=someone')
      .set('Cookie', session.cookie)
      .set('Sec-Fetch-Site', 'cross-site');
    expect([crossSite.status, crossSite.body.code]).toEqual([403, 'cross_site_navigation']);
    expect(await searches()).toBe(before);
    // Typed or bookmarked (none), from the portal itself, or from a client that says nothing: read and audited.
    for (const site of ['none', 'same-origin', undefined]) {
      const read = request(t.http).get('/api/admin/accounts?q=someone').set('Cookie', session.cookie);
      expect((await (site ? read.set('Sec-Fetch-Site', site) : read)).status).toBe(200);
    }
    expect(await searches()).toBe(before + 3);
  });

  it('answers a support desk page opened from another site with a link to open it from here', async () => {
    const { session } = await createAdmin(t);
    const before = await searches();
    const page = await request(t.http)
      .get('/console/accounts?q=someone')
      .set('Cookie', session.cookie)
      .set('Accept', BROWSER)
      .set('Sec-Fetch-Site', 'cross-site');
    expect(page.status).toBe(403);
    expect(page.text).toContain('<a class="button" href="/console/accounts?q=someone">Open it</a>');
    expect(await searches()).toBe(before);
    const fromHere = await request(t.http)
      .get('/console/accounts?q=someone')
      .set('Cookie', session.cookie)
      .set('Accept', BROWSER)
      .set('Sec-Fetch-Site', 'same-origin');
    expect(fromHere.status).toBe(200);
    expect(await searches()).toBe(before + 1);
  });

  it('leaves the rest of the portal open to links from elsewhere', async () => {
    const res = await request(t.http).get('/').set('Accept', BROWSER).set('Sec-Fetch-Site', 'cross-site');
    expect(res.status).toBe(200);
  });
});
