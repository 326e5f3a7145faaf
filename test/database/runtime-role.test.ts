import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import request from 'supertest';
import { AuditService } from '../../src/audit/audit.service.js';
import { applyMigrations } from '../../src/app/migrations.js';
import { adminQuery } from '../support/test-database.js';
import { PROJECT_ROOT } from '../support/spawn-process.js';
import { startTestApp } from '../support/test-app.js';

/**
 * The deployment in docker-compose.yml: the table owner migrates, the app runs as a role that owns nothing
 * (deploy/postgres/runtime-role.sql). This is what makes the audit triggers binding on the app.
 */
describe('the runtime database role', () => {
  const suffix = randomBytes(4).toString('hex');
  const role = `rmi_app_${suffix}`;
  const password = randomBytes(12).toString('hex');
  const database = `rmi_role_${suffix}`;
  let ownerUrl: string;
  let appUrl: string;

  beforeAll(async () => {
    const server = new URL(process.env.RMI_TEST_SERVER_URL!);
    await adminQuery(`CREATE DATABASE ${database}`);
    const script = (await readFile(join(PROJECT_ROOT, 'deploy/postgres/runtime-role.sql'), 'utf8'))
      .replaceAll(`:"app_role"`, `"${role}"`)
      .replaceAll(`:'app_password'`, `'${password}'`)
      .replaceAll(`:"owner"`, `"${decodeURIComponent(server.username)}"`)
      .replaceAll(`:"dbname"`, `"${database}"`);
    await adminQuery(script, [], database);
    ownerUrl = Object.assign(new URL(server), { pathname: `/${database}` }).toString();
    appUrl = Object.assign(new URL(ownerUrl), { username: role, password }).toString();
    await applyMigrations(ownerUrl);
  });
  afterAll(async () => {
    await adminQuery(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await adminQuery(`DROP ROLE IF EXISTS ${role}`);
  });

  async function asApp<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
    const client = new pg.Client({ connectionString: appUrl });
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end();
    }
  }

  /** What each statement ended with, one after the other ('succeeded' or its SQLSTATE); a failed one is rolled back. */
  async function outcomesOf(client: pg.Client, statements: string[]): Promise<string[]> {
    const outcomes: string[] = [];
    for (const sql of statements) {
      await client.query(sql).then(
        () => outcomes.push('succeeded'),
        (error: { code: string }) => outcomes.push(error.code),
      );
      await client.query('ROLLBACK').catch(() => undefined);
    }
    return outcomes;
  }

  it('can write rows and audit events but cannot switch off or rewrite the audit trail', async () => {
    await asApp(async (client) => {
      await client.query(`INSERT INTO accounts (display_name) VALUES ('runtime role')`);
      await client.query(`INSERT INTO audit_events (type, actor_type) VALUES ('test.runtime', 'system')`);
      const attempts = [
        `ALTER TABLE audit_events DISABLE TRIGGER USER`,
        `SET session_replication_role = replica`,
        `UPDATE audit_events SET details = '{"x": 1}'`,
        `DELETE FROM audit_events`,
        `TRUNCATE audit_events`,
        `DROP TRIGGER audit_events_append_only ON audit_events`,
        `CREATE OR REPLACE FUNCTION audit_events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN OLD; END $$`,
      ];
      expect(await outcomesOf(client, attempts)).toEqual(Array(attempts.length).fill('42501'));
      const { rows } = await client.query(`SELECT count(*)::int AS count FROM audit_events`);
      expect(rows).toEqual([{ count: 1 }]);
      // A temporary sequence of the same name, found before the real one by an unqualified name, must not choose
      // the event's seq (the primary key: claimed ahead, it would fail every later audit write).
      await client.query(`CREATE TEMP SEQUENCE audit_events_seq START 1000000000`);
      const forged = await client.query(
        `INSERT INTO audit_events (type, actor_type) VALUES ('test.runtime', 'system') RETURNING seq::bigint AS seq`,
      );
      expect(Number(forged.rows[0].seq)).toBeLessThan(1_000_000_000);
    });
  });

  it('can append to the SERMI access log but delete from it only through the retention purge', async () => {
    await asApp(async (client) => {
      await client.query(
        `INSERT INTO sermi_access_log (kind, vin, item_code, item_security_related, decision, reason)
         VALUES ('access', 'WVWZZZ1JZXW000001', 'IMMO', true, 'denied', 'sermi_login_required')`,
      );
      const [{ txid }] = (await client.query(`SELECT txid::text AS txid FROM sermi_access_log`)).rows;
      await client.query(
        `INSERT INTO sermi_log_seals (seq, from_txid, to_txid, record_count, record_ids, record_digests,
                                      last_recorded_at, prev_hash, hash)
         SELECT 1, 0, $1::bigint + 1, 1, ARRAY[id], decode(repeat('00', 32), 'hex'), recorded_at,
                decode(repeat('00', 32), 'hex'), decode(repeat('00', 32), 'hex')
           FROM sermi_access_log`,
        [txid],
      );
      const attempts = [
        `UPDATE sermi_access_log SET decision = 'granted'`,
        `BEGIN; SELECT set_config('rmi.sermi_log_purge', 'on', true); DELETE FROM sermi_access_log; COMMIT`,
        `DELETE FROM sermi_log_seals`,
        `TRUNCATE sermi_access_log`,
        `ALTER TABLE sermi_access_log DISABLE TRIGGER USER`,
        // A temporary table is found before pg_catalog by unqualified names: one posing as pg_class, naming this role
        // the owner, must not open the delete path (or the retention row).
        `BEGIN; CREATE TEMP TABLE pg_class (oid oid, relowner oid) ON COMMIT DROP;
           INSERT INTO pg_class SELECT c.oid, r.oid FROM pg_catalog.pg_class c, pg_roles r
            WHERE c.relname IN ('sermi_access_log', 'sermi_log_retention') AND r.rolname = current_user;
           SELECT set_config('rmi.sermi_log_purge', 'on', true); DELETE FROM sermi_access_log; COMMIT`,
        `BEGIN; CREATE TEMP TABLE pg_class (oid oid, relowner oid) ON COMMIT DROP;
           INSERT INTO pg_class SELECT c.oid, r.oid FROM pg_catalog.pg_class c, pg_roles r
            WHERE c.relname = 'sermi_log_retention' AND r.rolname = current_user;
           UPDATE sermi_log_retention SET minimum_days = 0; COMMIT`,
      ];
      expect(await outcomesOf(client, attempts)).toEqual(Array(attempts.length).fill('42501'));
      // The purge takes no cut-off younger than the retention the owner set (730 days as migrated), and only the
      // owner sets it: the runtime role cannot purge the log it writes.
      const refused = [
        `SELECT * FROM sermi_log_purge(now() + interval '1 day')`,
        `SELECT * FROM sermi_log_purge(now() - interval '728 days')`,
        `UPDATE sermi_log_retention SET minimum_days = 0`,
        `DELETE FROM sermi_log_retention`,
        `INSERT INTO sermi_log_retention (singleton, minimum_days) VALUES (false, 0)`,
        `TRUNCATE sermi_log_retention`,
      ];
      expect(await outcomesOf(client, refused)).toEqual(Array(refused.length).fill('42501'));
      const old = await client.query(
        `SELECT seals_removed, records_removed::int FROM sermi_log_purge(now() - interval '731 days')`,
      );
      expect(old.rows).toEqual([{ seals_removed: 0, records_removed: 0 }]);
      // A seal the runtime role wrote itself, claiming ancient records, must not let an old cut-off purge young ones.
      await client.query(
        `INSERT INTO sermi_log_seals (seq, from_txid, to_txid, record_count, record_ids, record_digests,
                                      last_recorded_at, prev_hash, hash)
         SELECT -1, 0, pg_snapshot_xmax(pg_current_snapshot())::text::bigint, 1, ARRAY[gen_random_uuid()],
                decode(repeat('00', 32), 'hex'), now() - interval '10 years', decode(repeat('00', 32), 'hex'),
                decode(repeat('00', 32), 'hex')`,
      );
      await expect(client.query(`SELECT * FROM sermi_log_purge(now() - interval '731 days')`)).rejects.toMatchObject({
        code: '42501',
        message: expect.stringContaining('younger than the cut-off'),
      });
      const counts = `SELECT (SELECT count(*)::int FROM sermi_access_log) AS records,
                             (SELECT count(*)::int FROM sermi_log_anchors) AS anchors`;
      expect((await client.query(counts)).rows).toEqual([{ records: 1, anchors: 0 }]);

      // With the owner's retention at 0 days, the same purge takes everything sealed.
      await adminQuery(`UPDATE sermi_log_retention SET minimum_days = 0`, [], database);
      const purged = await client.query(
        `SELECT seals_removed, records_removed::int FROM sermi_log_purge(now() + interval '1 day')`,
      );
      // The forged seal (seq -1) goes with the real one: whole seals up to the newest one all older than the cut-off.
      expect(purged.rows).toEqual([{ seals_removed: 2, records_removed: 1 }]);
      expect((await client.query(counts)).rows).toEqual([{ records: 0, anchors: 1 }]);
    });
  });

  it('cannot seal past every transaction started so far (the sealer would stop for good)', async () => {
    await asApp(async (client) => {
      for (const seals of ['sermi_log_seals', 'audit_seals']) {
        const far = client.query(
          `INSERT INTO ${seals} (seq, from_txid, to_txid, record_count, record_ids, record_digests, last_recorded_at,
                                 prev_hash, hash)
           VALUES (1000, 1, 4611686018427387904, 1, ARRAY[gen_random_uuid()], decode(repeat('00', 32), 'hex'), now(),
                   decode(repeat('00', 32), 'hex'), decode(repeat('00', 32), 'hex'))`,
        );
        await expect(far).rejects.toMatchObject({
          code: '23514',
          message: expect.stringContaining(`${seals} reaches past every transaction started so far`),
        });
      }
    });
  });

  it('runs the app, with migrations going through the owner', async () => {
    const t = await startTestApp(
      { DATABASE_MIGRATION_URL: ownerUrl },
      { database: { url: appUrl, name: database, drop: async () => undefined } },
    );
    try {
      expect((await request(t.http).get('/ready')).status).toBe(200);
      expect((await t.app.get(AuditService).verifyChain()).valid).toBe(true);
    } finally {
      await t.close();
    }
  });
});
