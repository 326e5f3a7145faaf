import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { createAdmin, type SignedIn } from '../support/factories.js';
import { concretePath, routeTable } from '../support/route-table.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/**
 * What the API answers a signed-in person (an admin's view of accounts and audit events, the access log, a person's
 * own data) stays out of the browser's cache, whatever the route: the next person at a shared PC finds none of it.
 */
describe('answers made for a signed-in person', () => {
  let t: TestApp;
  let admin: SignedIn;

  beforeAll(async () => {
    t = await startTestApp();
    admin = (await createAdmin(t)).session;
  });
  afterAll(async () => t.close());

  it('tell the browser not to store them, on every API read an admin can make', async () => {
    const reads = routeTable(t)
      // The OpenAPI document and its viewer are public and the same for everyone.
      .filter((route) => route.startsWith('GET /api/') && !route.startsWith('GET /api/docs'))
      .map((route) => route.slice('GET '.length));
    expect(reads).toEqual(expect.arrayContaining(['/api/me', '/api/admin/accounts', '/api/admin/audit-events']));
    const stored: string[] = [];
    for (const path of reads) {
      const answer = await request(t.http)
        .get(concretePath(path))
        .set('Cookie', admin.cookie)
        .set('Origin', t.config.http.publicBaseUrl.origin);
      if (answer.headers['cache-control'] !== 'no-store') stored.push(`${path}: ${answer.status}`);
    }
    expect(stored).toEqual([]);
  });

  it('tell it so too where the route checks the session in its own statement (an access decision)', async () => {
    await t.dataSource.query(
      `INSERT INTO rmi_items (code, title, security_related) VALUES ('SERVICE_SCHEDULE', 'Service schedule', false)`,
    );
    const answer = await request(t.http)
      .post('/api/sermi/access')
      .set('Cookie', admin.cookie)
      .set(admin.writeHeaders)
      .send({ vin: 'WVWZZZ1JZXW000001', item: 'SERVICE_SCHEDULE' });
    expect([answer.status, answer.headers['cache-control']]).toEqual([200, 'no-store']);
  });
});
