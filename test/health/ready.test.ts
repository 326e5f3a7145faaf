import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { TcpLink } from '../support/tcp-link.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

describe('/ready', () => {
  let database: TestDatabase;
  let link: TcpLink;
  let t: TestApp;

  beforeAll(async () => {
    database = await createTestDatabase();
    const opened = await TcpLink.to(database.url);
    link = opened.link;
    t = await startTestApp({ DATABASE_CONNECT_TIMEOUT_MS: '1000' }, { database, databaseUrl: opened.viaLink });
  });
  afterAll(async () => {
    await link.restore();
    await t.close();
    await link.cut();
    await database.drop();
  });

  it('turns 503 when the database goes away and 200 again when it returns, without a restart', async () => {
    expect((await request(t.http).get('/ready')).status).toBe(200);

    await link.cut();
    const down = await request(t.http).get('/ready');
    expect(down.status).toBe(503);
    expect(down.body).toMatchObject({ code: 'service_unavailable', status: 503 });
    expect((await request(t.http).get('/health')).status).toBe(200);
    const signedIn = await request(t.http)
      .get('/api/me')
      .set('Cookie', `${t.config.session.cookieName}=${'C'.repeat(43)}`);
    expect([signedIn.status, signedIn.body.code]).toEqual([503, 'service_unavailable']);

    await link.restore();
    let status = 0;
    for (let attempt = 0; attempt < 3 && status !== 200; attempt += 1)
      status = (await request(t.http).get('/ready')).status;
    expect(status).toBe(200);
  });
});
