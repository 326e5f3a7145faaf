import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { AuditService } from '../../src/audit/audit.service.js';
import { createAdmin, createAccount, signIn } from '../support/factories.js';
import { openTestDataSource, settle } from '../support/test-data-source.js';
import { adminQuery } from '../support/test-database.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

describe('audit trail', () => {
  /** Each test gets its own database, so tampering in one cannot affect another. */
  async function freshTrail(events = 0) {
    const opened = await openTestDataSource(20);
    const audit = new AuditService(opened.dataSource);
    for (let i = 0; i < events; i += 1)
      await audit.record({ type: 'test.event', actor: { type: 'system' }, requestId: null, details: { i } });
    /** A superuser connection, as an attacker with database access would have; triggers switched off. */
    const tamper = (sql: string) =>
      adminQuery(`SET session_replication_role = replica; ${sql}`, [], opened.database.name);
    return { ...opened, audit, tamper };
  }

  async function withFreshTrail(
    events: number,
    test: (trail: Awaited<ReturnType<typeof freshTrail>>) => Promise<void>,
  ) {
    const trail = await freshTrail(events);
    try {
      await test(trail);
    } finally {
      await trail.close();
    }
  }

  it('chains every event to the previous one, in order, without gaps', () =>
    withFreshTrail(5, async ({ dataSource, audit }) => {
      const rows: { seq: string; prev_hash: Buffer; hash: Buffer }[] = await dataSource.query(
        `SELECT seq, prev_hash, hash FROM audit_events ORDER BY seq`,
      );
      expect(rows.map((row) => row.seq)).toEqual(['1', '2', '3', '4', '5']);
      rows.forEach((row, index) => {
        expect(row.prev_hash).toEqual(index === 0 ? Buffer.alloc(32) : rows[index - 1].hash);
        expect(row.hash).toHaveLength(32);
      });
      expect(await audit.verifyChain()).toEqual({
        valid: true,
        checkedEvents: 5,
        head: { seq: '5', hash: rows[4].hash.toString('hex') },
        firstBroken: null,
      });
    }));

  it('keeps one unbroken chain when many transactions append at the same time', () =>
    withFreshTrail(0, async ({ dataSource, audit }) => {
      const outcome = await settle(
        Array.from({ length: 40 }, (_, i) =>
          dataSource.transaction((manager) =>
            audit.record(
              { type: 'test.concurrent', actor: { type: 'system' }, requestId: null, details: { i } },
              manager,
            ),
          ),
        ),
      );
      expect(outcome).toEqual({ fulfilled: 40, errorCodes: [] });
      expect(await audit.verifyChain()).toMatchObject({ valid: true, checkedEvents: 40, firstBroken: null });
    }));

  it('rolls an event back with the transaction that wrote it, leaving no gap', () =>
    withFreshTrail(1, async ({ dataSource, audit }) => {
      await expect(
        dataSource.transaction(async (manager) => {
          await audit.record({ type: 'test.rolled_back', actor: { type: 'system' }, requestId: null }, manager);
          throw new Error('business failure after the audit insert');
        }),
      ).rejects.toThrow('business failure');
      await audit.record({ type: 'test.after_rollback', actor: { type: 'system' }, requestId: null });
      const rows = await dataSource.query(`SELECT seq, type FROM audit_events ORDER BY seq`);
      expect(rows).toEqual([
        { seq: '1', type: 'test.event' },
        { seq: '2', type: 'test.after_rollback' },
      ]);
      expect((await audit.verifyChain()).valid).toBe(true);
    }));

  it('ignores attempts to choose the chain position, hashes or time from the application', () =>
    withFreshTrail(2, async ({ dataSource, audit }) => {
      const [row] = await dataSource.query(
        `INSERT INTO audit_events (seq, type, actor_type, prev_hash, hash, occurred_at)
       VALUES (1, 'test.forged', 'system', '\\x00', '\\x00', '2000-01-01') RETURNING seq, occurred_at, hash`,
      );
      expect(row.seq).toBe('3');
      expect(new Date(row.occurred_at).getFullYear()).toBeGreaterThan(2000);
      expect(row.hash).toHaveLength(32);
      expect((await audit.verifyChain()).valid).toBe(true);
    }));

  it('refuses updates, deletes and truncation, even from the table owner', () =>
    withFreshTrail(2, async ({ dataSource, audit }) => {
      const outcome = await settle([
        dataSource.query(`UPDATE audit_events SET details = '{"changed": true}' WHERE seq = 1`),
        dataSource.query(`DELETE FROM audit_events WHERE seq = 1`),
        dataSource.query(`TRUNCATE audit_events`),
      ]);
      expect(outcome).toEqual({ fulfilled: 0, errorCodes: ['42501', '42501', '42501'] });
      expect(await audit.verifyChain()).toMatchObject({ valid: true, checkedEvents: 2 });
    }));

  it('walks chains longer than one batch', () =>
    withFreshTrail(7, async ({ audit, tamper }) => {
      expect(await audit.verifyChain({ batchSize: 3 })).toMatchObject({
        valid: true,
        checkedEvents: 7,
        head: { seq: '7' },
      });
      await tamper(`UPDATE audit_events SET details = '{"i": 40}' WHERE seq = 5`);
      expect(await audit.verifyChain({ batchSize: 3 })).toMatchObject({
        valid: false,
        checkedEvents: 4,
        firstBroken: { seq: '5', problem: 'hash_mismatch' },
      });
    }));

  it('computes the same hash as the database for any text, including non-ASCII, quotes and nulls', () =>
    withFreshTrail(0, async ({ audit }) => {
      await audit.record({
        type: 'test.unicode',
        actor: { type: 'account', accountId: '8b4a5f0e-2b7b-4f39-9a38-2d0c9f6f4a11' },
        requestId: null,
        subjectAccountId: null,
        details: {
          name: 'Garage Müller — Ærø 𝄞',
          quote: 'a "b" \\ c',
          nested: { list: [1, 2.5, null, true] },
          '': 'empty key',
        },
      });
      expect(await audit.verifyChain()).toMatchObject({ valid: true, checkedEvents: 1 });
    }));

  it('does not trust the database to vouch for its hashes: a replaced digest function is caught', () =>
    withFreshTrail(2, async ({ audit, database }) => {
      await adminQuery(
        `CREATE OR REPLACE FUNCTION audit_event_digest(
           p_prev_hash bytea, p_seq bigint, p_id uuid, p_type text, p_actor_type text, p_actor_account_id uuid,
           p_subject_account_id uuid, p_details jsonb, p_request_id text, p_occurred_at timestamptz
         ) RETURNS bytea LANGUAGE sql AS $$ SELECT sha256('forged'::bytea) $$`,
        [],
        database.name,
      );
      const { seq } = await audit.record({ type: 'test.after_forgery', actor: { type: 'system' }, requestId: null });
      expect((await audit.verifyChain()).firstBroken).toEqual({ seq, problem: 'hash_mismatch' });
    }));

  it('detects a row a superuser changed behind the triggers, and names it', () =>
    withFreshTrail(5, async ({ audit, tamper }) => {
      await tamper(`UPDATE audit_events SET details = '{"i": 99}' WHERE seq = 3`);
      expect(await audit.verifyChain()).toEqual({
        valid: false,
        checkedEvents: 2,
        head: null,
        firstBroken: { seq: '3', problem: 'hash_mismatch' },
      });
    }));

  it('detects a deleted row', () =>
    withFreshTrail(5, async ({ audit, tamper }) => {
      await tamper(`DELETE FROM audit_events WHERE seq = 4`);
      expect((await audit.verifyChain()).firstBroken).toEqual({ seq: '5', problem: 'sequence_gap' });
    }));

  it('detects a row whose hash was recomputed to hide an edit, at the next link', () =>
    withFreshTrail(3, async ({ audit, tamper }) => {
      await tamper(
        `UPDATE audit_events SET details = '{"i": 42}',
         hash = audit_event_digest(prev_hash, seq, id, type, actor_type, actor_account_id, subject_account_id, '{"i": 42}', request_id, occurred_at)
       WHERE seq = 2`,
      );
      expect((await audit.verifyChain()).firstBroken).toEqual({ seq: '3', problem: 'previous_hash_mismatch' });
    }));
});

describe('audit chain verification endpoint', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t.close());

  it('reports a valid chain with its head to an admin and records that it ran', async () => {
    const { account, session } = await createAdmin(t);
    await t.app.get(AuditService).record({ type: 'test.event', actor: { type: 'system' }, requestId: null });
    const res = await request(t.http)
      .post('/api/admin/audit-events/verify')
      .set('Cookie', session.cookie)
      .set(session.writeHeaders);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      valid: true,
      checkedEvents: 1,
      head: { seq: '1', hash: expect.stringMatching(/^[0-9a-f]{64}$/) },
      firstBroken: null,
    });
    const [event] = await t.dataSource.query(`SELECT type, actor_account_id, details FROM audit_events WHERE seq = 2`);
    expect(event).toEqual({
      type: 'audit.chain_verified',
      actor_account_id: account.id,
      details: expect.objectContaining({ valid: true, checkedEvents: 1 }),
    });
  });

  it('is for admins only', async () => {
    const user = await signIn(t, await createAccount(t.dataSource));
    const res = await request(t.http)
      .post('/api/admin/audit-events/verify')
      .set('Cookie', user.cookie)
      .set(user.writeHeaders);
    expect(res.status).toBe(403);
    expect((await request(t.http).post('/api/admin/audit-events/verify')).status).toBe(401);
  });
});

describe('audit chain verification endpoint after tampering', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t.close());

  it('reports the first broken link', async () => {
    const { session } = await createAdmin(t);
    const audit = t.app.get(AuditService);
    await audit.record({ type: 'test.first', actor: { type: 'system' }, requestId: null });
    const { seq } = await audit.record({ type: 'test.second', actor: { type: 'system' }, requestId: null });
    await adminQuery(
      `SET session_replication_role = replica; UPDATE audit_events SET type = 'test.renamed' WHERE seq = ${Number(seq)}`,
      [],
      t.database.name,
    );
    const res = await request(t.http)
      .post('/api/admin/audit-events/verify')
      .set('Cookie', session.cookie)
      .set(session.writeHeaders);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ valid: false, checkedEvents: 1, firstBroken: { seq, problem: 'hash_mismatch' } });
  });
});
