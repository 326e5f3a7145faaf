import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { AuditService } from '../../src/audit/audit.service.js';
import { createAccount, createAdmin, type SignedIn } from '../support/factories.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/** The database clock with full (microsecond) precision, as an ISO 8601 string. */
const NOW = `SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS now`;

describe('admin audit events API', () => {
  let t: TestApp;
  let admin: SignedIn;
  let alice: string;
  let bob: string;
  let between: { after: string; before: string };

  beforeAll(async () => {
    t = await startTestApp();
    admin = (await createAdmin(t)).session;
    alice = (await createAccount(t.dataSource)).id;
    bob = (await createAccount(t.dataSource)).id;
    const audit = t.app.get(AuditService);
    await audit.record({
      type: 'session.revoked',
      actor: { type: 'account', accountId: alice },
      subjectAccountId: alice,
      details: { n: 1 },
    });
    const [{ now: after }] = await t.dataSource.query(NOW);
    await audit.record({
      type: 'account.updated',
      actor: { type: 'account', accountId: bob },
      subjectAccountId: alice,
      details: { n: 2 },
    });
    await audit.record({
      type: 'session.created',
      actor: { type: 'system' },
      subjectAccountId: bob,
      details: { n: 3 },
    });
    const [{ now: before }] = await t.dataSource.query(NOW);
    await audit.record({ type: 'session.revoked', actor: { type: 'anonymous' }, details: { n: 4 } });
    between = { after, before };
  });
  afterAll(async () => t.close());

  const list = async (query: string) => {
    const res = await request(t.http).get(`/api/admin/audit-events?${query}`).set('Cookie', admin.cookie);
    expect(res.status).toBe(200);
    return res.body as {
      items: Array<{ seq: string; type: string; details: { n: number } }>;
      nextCursor: string | null;
    };
  };
  const ns = (page: { items: Array<{ details: { n: number } }> }) => page.items.map((item) => item.details.n);

  it('lists events newest first with their chain position and hash', async () => {
    const page = await list('');
    expect(ns(page)).toEqual([4, 3, 2, 1]);
    expect(page.items[0]).toEqual({
      seq: '4',
      id: expect.any(String),
      type: 'session.revoked',
      actorType: 'anonymous',
      actorAccountId: null,
      subjectAccountId: null,
      details: { n: 4 },
      requestId: null,
      occurredAt: expect.any(String),
      hash: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(page.nextCursor).toBeNull();
  });

  it('filters by exact type and by type prefix', async () => {
    expect(ns(await list('type=session.revoked'))).toEqual([4, 1]);
    expect(ns(await list('type=session.*'))).toEqual([4, 3, 1]);
  });

  it('filters by account as actor or subject', async () => {
    expect(ns(await list(`accountId=${alice}`))).toEqual([2, 1]);
    expect(ns(await list(`accountId=${bob}`))).toEqual([3, 2]);
  });

  it('filters by time range', async () => {
    expect(
      ns(await list(`from=${encodeURIComponent(between.after)}&to=${encodeURIComponent(between.before)}`)),
    ).toEqual([3, 2]);
  });

  it('pages with a cursor', async () => {
    const first = await list('limit=3');
    expect(ns(first)).toEqual([4, 3, 2]);
    expect(ns(await list(`limit=3&cursor=${first.nextCursor}`))).toEqual([1]);
  });

  it.each([
    ['type=DROP TABLE', 'validation_failed'],
    ['accountId=alice', 'validation_failed'],
    ['from=yesterday', 'validation_failed'],
    ['limit=500', 'validation_failed'],
    ['extra=1', 'validation_failed'],
    ['cursor=bm9wZQ', 'invalid_cursor'],
  ])('refuses %s with 400 %s', async (query, code) => {
    const res = await request(t.http).get(`/api/admin/audit-events?${query}`).set('Cookie', admin.cookie);
    expect([res.status, res.body.code]).toEqual([400, code]);
  });
});
