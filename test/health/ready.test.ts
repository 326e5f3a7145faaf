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
    expect(down.body).toMatchObject({
      code: 'service_unavailable',
      status: 503,
      detail: expect.stringMatching(/^The database is not reachable \((connection_refused|unavailable)\)$/),
      checks: { database: { status: 'failing', reason: expect.stringMatching(/^(connection_refused|unavailable)$/) } },
    });
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

  it('stays 200 while every connection of the request pool is busy and the database answers', async () => {
    const held = Array.from({ length: t.config.database.poolSize }, () => t.dataSource.createQueryRunner());
    await Promise.all(held.map((runner) => runner.connect()));
    try {
      // The request pool is saturated: a request's query waits for a connection and gives up.
      await expect(t.dataSource.query('SELECT 1')).rejects.toThrow(/timeout exceeded when trying to connect/);
      const ready = await Promise.all([1, 2, 3].map(() => request(t.http).get('/ready')));
      for (const response of ready) {
        expect(response.status).toBe(200);
        expect(response.body).toEqual({
          status: 'ok',
          checks: {
            database: { status: 'ok', latencyMs: expect.any(Number) },
            // Sealing is off in this app (SERMI_LOG_SEAL_INTERVAL_MS=0, AUDIT_SEAL_INTERVAL_MS=0).
            accessLogSealing: { status: 'not_measured' },
            auditSealing: { status: 'not_measured' },
          },
        });
      }
    } finally {
      await Promise.all(held.map((runner) => runner.release()));
    }
  });
});
