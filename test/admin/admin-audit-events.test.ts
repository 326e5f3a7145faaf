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
  let adminId: string;
  let alice: string;
  let bob: string;
  let between: { after: string; before: string };

  beforeAll(async () => {
    t = await startTestApp();
    const created = await createAdmin(t);
    admin = created.session;
    adminId = created.account.id;
    alice = (await createAccount(t.dataSource)).id;
    bob = (await createAccount(t.dataSource)).id;
    const audit = t.app.get(AuditService);
    await audit.record({
      type: 'session.revoked',
      actor: { type: 'account', accountId: alice },
      requestId: null,
      subjectAccountId: alice,
      details: { n: 1 },
    });
    const [{ now: after }] = await t.dataSource.query(NOW);
    await audit.record({
      type: 'account.updated',
      actor: { type: 'account', accountId: bob },
      requestId: null,
      subjectAccountId: alice,
      details: { n: 2 },
    });
    await audit.record({
      type: 'session.created',
      actor: { type: 'system' },
      requestId: null,
      subjectAccountId: bob,
      details: { n: 3 },
    });
    const [{ now: before }] = await t.dataSource.query(NOW);
    await audit.record({ type: 'session.revoked', actor: { type: 'anonymous' }, requestId: null, details: { n: 4 } });
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
  /** The seeded events in a page (listing is itself audited, so later pages also hold audit.events_viewed). */
  const ns = (page: { items: Array<{ type: string; details: { n: number } }> }) =>
    page.items.filter((item) => item.type !== 'audit.events_viewed').map((item) => item.details.n);

  it('lists events newest first with their chain position and hash', async () => {
    const page = await list('');
    expect(ns(page)).toEqual([4, 3, 2, 1]);
    expect(page.items.find((item) => item.details.n === 4)).toEqual({
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
    const first = await list('type=session.*&limit=2');
    expect(ns(first)).toEqual([4, 3]);
    const second = await list(`type=session.*&limit=2&cursor=${first.nextCursor}`);
    expect(ns(second)).toEqual([1]);
    expect(second.nextCursor).toBeNull();
  });

  it('records who looked at the audit trail and with which filters', async () => {
    await list(`type=account.updated&accountId=${alice}`);
    const [viewed] = (await list('type=audit.events_viewed&limit=1')).items as unknown as Array<{
      actorAccountId: string;
      details: Record<string, unknown>;
    }>;
    expect(viewed.details).toEqual({ query: { type: 'account.updated', accountId: alice, limit: 50 }, results: 1 });
    expect(viewed.actorAccountId).toBe(adminId);
  });

  it.each([
    ['from=2024', 'validation_failed'],
    ['from=2024-01', 'validation_failed'],
    ['from=2024-W01', 'validation_failed'],
    ['from=2024-01-01T10', 'validation_failed'],
    ['from=2024-01-01T10:00:00,5Z', 'validation_failed'],
    ['to=2026-02-30T00:00:00Z', 'validation_failed'],
    ['to=0000-01-01T00:00:00Z', 'validation_failed'],
    ['type=a%00b', 'validation_failed'],
    [`cursor=${Buffer.from(JSON.stringify({ seq: '9999999999999999999' })).toString('base64url')}`, 'invalid_cursor'],
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
