import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import request from 'supertest';
import { applyMigrations } from '../../src/app/migrations.js';
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

  /** Seals until nothing committed is left unsealed, then verifies (sealing may stop a moment short of the end). */
  async function sealedVerification(audit: AuditService) {
    for (let attempt = 0; ; attempt += 1) {
      await audit.seal();
      const result = await audit.verifyChain({ seal: false });
      if (result.unsealedEvents === 0 || !result.valid || attempt >= 50) return result;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  it('stamps each event with its position, transaction and digest, and seals them into one chain', () =>
    withFreshTrail(5, async ({ dataSource, audit }) => {
      const rows: { seq: string; txid: string; prev_hash: Buffer | null; hash: Buffer }[] = await dataSource.query(
        `SELECT seq, txid::text AS txid, prev_hash, hash FROM audit_events ORDER BY seq`,
      );
      expect(rows.map((row) => row.seq)).toEqual(['1', '2', '3', '4', '5']);
      expect(new Set(rows.map((row) => row.txid)).size).toBe(5);
      rows.forEach((row) => {
        expect(row.prev_hash).toBeNull();
        expect(row.hash).toHaveLength(32);
      });
      expect(await audit.verifyChain({ seal: false })).toMatchObject({
        valid: true,
        checkedEvents: 0,
        unsealedEvents: 5,
      });
      const result = await sealedVerification(audit);
      const [seal] = await dataSource.query(`SELECT seq, hash FROM audit_seals ORDER BY seq DESC LIMIT 1`);
      expect(result).toEqual({
        valid: true,
        checkedEvents: 5,
        checkedSeals: expect.any(Number),
        unsealedEvents: 0,
        head: { sealSeq: seal.seq, hash: seal.hash.toString('hex') },
        firstBroken: null,
      });
      const [{ first }] = await dataSource.query(`SELECT prev_hash AS first FROM audit_seals WHERE seq = 1`);
      expect(first).toEqual(Buffer.alloc(32));
    }));

  it('does not serialise writers: two open transactions each append an event, neither waits for the other', () =>
    withFreshTrail(0, async ({ database, audit, dataSource }) => {
      const connect = async () => {
        const client = new pg.Client({ connectionString: database.url });
        await client.connect();
        return client;
      };
      const [first, second, monitor] = await Promise.all([connect(), connect(), connect()]);
      try {
        const insert = `INSERT INTO audit_events (type, actor_type) VALUES ('test.concurrent', 'system')`;
        const [{ pid: secondPid }] = (await second.query(`SELECT pg_backend_pid() AS pid`)).rows;
        await first.query('BEGIN');
        await first.query(insert);
        await second.query('BEGIN');
        const secondInsert = second.query(insert);
        // The second insert either finishes (idle in its open transaction) or waits for a lock: see which.
        let activity: { state: string; wait_event_type: string | null };
        for (;;) {
          [activity] = (
            await monitor.query(`SELECT state, wait_event_type FROM pg_stat_activity WHERE pid = $1`, [secondPid])
          ).rows;
          if (activity.state === 'idle in transaction' || activity.wait_event_type === 'Lock') break;
        }
        // Done and idle in its open transaction, not waiting for a lock (the wait event reads `Client` once the
        // backend is back in its read loop, null for the moment before).
        expect(activity.state).toBe('idle in transaction');
        expect(activity.wait_event_type).not.toBe('Lock');
        await secondInsert;
        const locks = await monitor.query(
          `SELECT locktype, granted FROM pg_locks
            WHERE pid IN (SELECT pid FROM pg_stat_activity WHERE datname = current_database())
              AND (locktype = 'advisory' OR NOT granted)`,
        );
        expect(locks.rows).toEqual([]);
        await second.query('COMMIT');
        await first.query('COMMIT');
      } finally {
        await Promise.all([first.end(), second.end(), monitor.end()]);
      }
      expect(await sealedVerification(audit)).toMatchObject({ valid: true, checkedEvents: 2, firstBroken: null });
      expect(await dataSource.query(`SELECT count(*)::int AS n FROM audit_events`)).toEqual([{ n: 2 }]);
    }));

  it('seals every event when many transactions append at the same time', () =>
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
      expect(await sealedVerification(audit)).toMatchObject({ valid: true, checkedEvents: 40, firstBroken: null });
    }));

  it('rolls an event back with the transaction that wrote it; the chain holds what committed', () =>
    withFreshTrail(1, async ({ dataSource, audit }) => {
      await expect(
        dataSource.transaction(async (manager) => {
          await audit.record({ type: 'test.rolled_back', actor: { type: 'system' }, requestId: null }, manager);
          throw new Error('business failure after the audit insert');
        }),
      ).rejects.toThrow('business failure');
      await audit.record({ type: 'test.after_rollback', actor: { type: 'system' }, requestId: null });
      const rows = await dataSource.query(`SELECT type FROM audit_events ORDER BY seq`);
      expect(rows).toEqual([{ type: 'test.event' }, { type: 'test.after_rollback' }]);
      expect(await sealedVerification(audit)).toMatchObject({ valid: true, checkedEvents: 2 });
    }));

  it('ignores attempts to choose the position, transaction, hashes or time from the application', () =>
    withFreshTrail(2, async ({ dataSource, audit }) => {
      const [row] = await dataSource.query(
        `INSERT INTO audit_events (seq, txid, type, actor_type, prev_hash, hash, occurred_at)
       VALUES (1, 5, 'test.forged', 'system', '\\x00', '\\x00', '2000-01-01')
       RETURNING seq, txid::text AS txid, prev_hash, occurred_at, hash, pg_current_xact_id()::text AS current`,
      );
      expect(row).toMatchObject({ seq: '3', txid: row.current, prev_hash: null });
      expect(new Date(row.occurred_at).getFullYear()).toBeGreaterThan(2000);
      expect(row.hash).toHaveLength(32);
      expect(await sealedVerification(audit)).toMatchObject({ valid: true, checkedEvents: 3 });
    }));

  it('refuses updates, deletes and truncation of events, seals and the anchor, even from the table owner', () =>
    withFreshTrail(2, async ({ dataSource, audit }) => {
      await sealedVerification(audit);
      const outcome = await settle(
        ['audit_events', 'audit_seals', 'audit_anchors'].flatMap((table) => [
          dataSource.query(`UPDATE ${table} SET ${table === 'audit_events' ? 'type' : 'to_txid'} = DEFAULT`),
          dataSource.query(`DELETE FROM ${table}`),
          dataSource.query(`TRUNCATE ${table}`),
        ]),
      );
      expect(outcome).toEqual({ fulfilled: 0, errorCodes: Array(9).fill('42501') });
      expect(await audit.verifyChain()).toMatchObject({ valid: true, checkedEvents: 2 });
    }));

  it('computes the same digest as the database for any text, including non-ASCII, quotes and nulls', () =>
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
      expect(await sealedVerification(audit)).toMatchObject({ valid: true, checkedEvents: 1 });
    }));

  it('does not trust the database to vouch for its digests: a replaced digest function is caught', () =>
    withFreshTrail(2, async ({ audit, database }) => {
      await adminQuery(
        `CREATE OR REPLACE FUNCTION audit_event_record_digest(
           p_id uuid, p_txid bigint, p_seq bigint, p_occurred_at timestamptz, p_type text, p_actor_type text,
           p_actor_account_id uuid, p_subject_account_id uuid, p_details jsonb, p_request_id text
         ) RETURNS bytea LANGUAGE sql AS $$ SELECT sha256('forged'::bytea) $$`,
        [],
        database.name,
      );
      const { seq, id } = await audit.record({
        type: 'test.after_forgery',
        actor: { type: 'system' },
        requestId: null,
      });
      expect((await sealedVerification(audit)).firstBroken).toEqual({
        seq,
        eventId: id,
        sealSeq: expect.any(String),
        problem: 'record_changed',
      });
    }));

  it('detects a sealed event a superuser changed behind the triggers, and names it', () =>
    withFreshTrail(5, async ({ audit, tamper, dataSource }) => {
      await sealedVerification(audit);
      const [{ id }] = await dataSource.query(`SELECT id FROM audit_events WHERE seq = 3`);
      await tamper(`UPDATE audit_events SET details = '{"i": 99}' WHERE seq = 3`);
      expect(await audit.verifyChain()).toMatchObject({
        valid: false,
        head: null,
        firstBroken: { seq: '3', eventId: id, sealSeq: expect.any(String), problem: 'record_changed' },
      });
    }));

  it('detects a change whose digest was recomputed to hide it: the seal still holds the original digest', () =>
    withFreshTrail(3, async ({ audit, tamper }) => {
      await sealedVerification(audit);
      await tamper(
        `UPDATE audit_events SET details = '{"i": 42}',
           hash = audit_event_record_digest(id, txid, seq, occurred_at, type, actor_type, actor_account_id,
                                            subject_account_id, '{"i": 42}', request_id)
         WHERE seq = 2`,
      );
      expect((await audit.verifyChain()).firstBroken).toMatchObject({ seq: '2', problem: 'record_changed' });
    }));

  it('detects a deleted sealed event', () =>
    withFreshTrail(5, async ({ audit, tamper, dataSource }) => {
      await sealedVerification(audit);
      const [{ id }] = await dataSource.query(`SELECT id FROM audit_events WHERE seq = 4`);
      await tamper(`DELETE FROM audit_events WHERE seq = 4`);
      expect((await audit.verifyChain()).firstBroken).toEqual({
        seq: null,
        eventId: id,
        sealSeq: expect.any(String),
        problem: 'record_missing',
      });
    }));

  it('detects an event inserted into a sealed range', () =>
    withFreshTrail(3, async ({ audit, tamper, dataSource }) => {
      await sealedVerification(audit);
      const [{ txid }] = await dataSource.query(`SELECT txid::text AS txid FROM audit_events WHERE seq = 2`);
      await tamper(
        `INSERT INTO audit_events (seq, id, txid, type, actor_type, details, occurred_at, hash)
         VALUES (99, gen_random_uuid(), ${BigInt(txid)}, 'test.inserted', 'system', '{}', now(), sha256(''::bytea))`,
      );
      expect((await audit.verifyChain()).firstBroken).toMatchObject({ seq: '99', problem: 'record_unexpected' });
    }));

  it('detects a rewritten seal at the next one', () =>
    withFreshTrail(1, async ({ audit, tamper }) => {
      await sealedVerification(audit);
      await audit.record({ type: 'test.later', actor: { type: 'system' }, requestId: null });
      await sealedVerification(audit);
      await tamper(`UPDATE audit_seals SET hash = sha256(hash) WHERE seq = 1`);
      expect((await audit.verifyChain()).firstBroken).toMatchObject({ problem: 'seal_hash_mismatch', sealSeq: '1' });
    }));
});

describe('the audit trail across the AuditSealedBatches migration', () => {
  /** A database whose events were written by the one-by-one chain, then migrated to the sealed form. */
  async function legacyTrail(legacy: number) {
    const opened = await openTestDataSource(4);
    const { dataSource, database } = opened;
    // Back to before AuditSealedBatches (the migrations after it undone too; applyMigrations brings all back).
    const sealed = dataSource.migrations.findIndex((migration) => migration.name?.startsWith('AuditSealedBatches'));
    expect(sealed).toBeGreaterThanOrEqual(0);
    for (let i = dataSource.migrations.length; i > sealed; i -= 1) {
      await dataSource.undoLastMigration({ transaction: 'each' });
    }
    for (let i = 0; i < legacy; i += 1) {
      await dataSource.query(
        `INSERT INTO audit_events (type, actor_type, details) VALUES ('test.legacy', 'system', $1)`,
        [JSON.stringify({ i })],
      );
    }
    await applyMigrations(database.url);
    const audit = new AuditService(dataSource);
    const tamper = (sql: string) => adminQuery(`SET session_replication_role = replica; ${sql}`, [], database.name);
    return { ...opened, audit, tamper };
  }

  it('keeps the legacy prefix verified by its own rule and continues the sealed chain from its head', async () => {
    const { dataSource, audit, close } = await legacyTrail(3);
    try {
      const [anchor] = await dataSource.query(
        `SELECT seal_seq, seal_hash, to_txid, legacy_head_seq FROM audit_anchors`,
      );
      const [head] = await dataSource.query(`SELECT hash FROM audit_events WHERE seq = 3`);
      expect(anchor).toEqual({ seal_seq: '0', seal_hash: head.hash, to_txid: '0', legacy_head_seq: '3' });
      await audit.record({ type: 'test.sealed', actor: { type: 'system' }, requestId: null });
      await audit.record({ type: 'test.sealed', actor: { type: 'system' }, requestId: null });
      const result = await audit.verifyChain();
      expect(result).toMatchObject({ valid: true, checkedEvents: 5, firstBroken: null });
      const [seal] = await dataSource.query(`SELECT prev_hash FROM audit_seals WHERE seq = 1`);
      expect(seal.prev_hash).toEqual(head.hash);
      const order = await dataSource.query(`SELECT seq, type FROM audit_events ORDER BY seq`);
      expect(order.map((row: { seq: string }) => row.seq)).toEqual(['1', '2', '3', '4', '5']);
    } finally {
      await close();
    }
  });

  it('detects a changed, a deleted and an appended legacy event', async () => {
    const { audit, tamper, close } = await legacyTrail(4);
    try {
      await tamper(`UPDATE audit_events SET details = '{"i": 9}' WHERE seq = 2`);
      expect((await audit.verifyChain()).firstBroken).toEqual({ seq: '2', problem: 'hash_mismatch' });
      await tamper(`UPDATE audit_events SET details = '{"i": 1}' WHERE seq = 2`);
      expect((await audit.verifyChain()).valid).toBe(true);
      await tamper(`DELETE FROM audit_events WHERE seq = 4`);
      expect((await audit.verifyChain()).firstBroken).toEqual({ seq: '3', problem: 'legacy_head_mismatch' });
      await tamper(
        `INSERT INTO audit_events (seq, id, type, actor_type, details, occurred_at, prev_hash, hash)
         SELECT 7, gen_random_uuid(), 'test.appended', 'system', '{}', now(), hash, hash FROM audit_events WHERE seq = 3`,
      );
      expect((await audit.verifyChain()).firstBroken).toEqual({ seq: '7', problem: 'legacy_head_mismatch' });
      await tamper(`DELETE FROM audit_events WHERE seq = 3`);
      expect((await audit.verifyChain()).firstBroken).toEqual({ seq: '7', problem: 'legacy_head_mismatch' });
    } finally {
      await close();
    }
  });
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
      checkedEvents: expect.any(Number),
      checkedSeals: expect.any(Number),
      unsealedEvents: expect.any(Number),
      head: { sealSeq: expect.stringMatching(/^\d+$/), hash: expect.stringMatching(/^[0-9a-f]{64}$/) },
      firstBroken: null,
    });
    // Sealed before the check: only an event of a transaction still open could be left out.
    expect(res.body.checkedEvents + res.body.unsealedEvents).toBe(1);
    const [event] = await t.dataSource.query(`SELECT type, actor_account_id, details FROM audit_events WHERE seq = 2`);
    expect(event).toEqual({
      type: 'audit.chain_verified',
      actor_account_id: account.id,
      details: expect.objectContaining({ valid: true, checkedEvents: res.body.checkedEvents }),
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
    await audit.seal();
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
    expect(res.body).toMatchObject({ valid: false, firstBroken: { seq, problem: 'record_changed' } });
  });
});
