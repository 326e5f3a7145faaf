import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import request from 'supertest';
import { chainEnd, unsealedTailSql } from '../../src/common/hash-chain/sealed-log.js';
import { SERMI_LOG } from '../../src/sermi/access-log/log-chain.js';
import { SermiLogSealer } from '../../src/sermi/access-log/sermi-log-sealer.js';
import { SermiLogVerifier } from '../../src/sermi/access-log/sermi-log-verifier.js';
import { eventually } from '../support/eventually.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

const VIN = 'WVWZZZ1JZXW000001';

/** A write transaction left open (as an admin's psql session or a stuck job would): it holds an xid until it ends. */
async function openWriteTransaction(url: string): Promise<{ xid: bigint; end(): Promise<void> }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query('BEGIN');
  const { rows } = await client.query<{ xid: string }>(`SELECT pg_current_xact_id()::text AS xid`);
  return {
    xid: BigInt(rows[0].xid),
    end: async () => {
      await client.query('ROLLBACK');
      await client.end();
    },
  };
}

async function writeRecords(t: TestApp, count: number): Promise<void> {
  await t.dataSource.query(
    `INSERT INTO sermi_access_log (kind, vin, item_code, item_security_related, decision, reason)
     SELECT 'access', $1, 'IMMO', true, 'denied', 'sermi_login_required' FROM generate_series(1, $2)`,
    [VIN, count],
  );
}

const unsealed = async (t: TestApp) =>
  Number(
    (
      await t.dataSource.query(
        `SELECT count(*) FROM sermi_access_log
          WHERE txid >= coalesce((SELECT max(to_txid) FROM sermi_log_seals), 0)`,
      )
    )[0].count,
  );

describe('SERMI access log sealing behind a long transaction', () => {
  let t: TestApp;
  let other: TestDatabase;
  const held: Array<{ end(): Promise<void> }> = [];

  beforeAll(async () => {
    t = await startTestApp({ SERMI_LOG_SEAL_INTERVAL_MS: '100', SERMI_LOG_SEAL_LAG_WARN_SECONDS: '1' });
    other = await createTestDatabase();
  });
  afterEach(async () => {
    await Promise.all(held.splice(0).map((transaction) => transaction.end()));
  });
  afterAll(async () => {
    await t.close();
    await other.drop();
  });

  it('goes on while a write transaction is open in another database of the same server', async () => {
    const elsewhere = await openWriteTransaction(other.url);
    held.push(elsewhere);
    await writeRecords(t, 50);
    // The whole server's oldest transaction is the one elsewhere: a server-wide horizon would seal none of these.
    const [{ server_horizon }] = await t.dataSource.query(
      `SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS server_horizon`,
    );
    expect(BigInt(server_horizon)).toBeLessThanOrEqual(elsewhere.xid);

    await t.app.get(SermiLogSealer).sealAll();
    expect(await unsealed(t)).toBe(0);
    expect(await t.app.get(SermiLogVerifier).verify()).toMatchObject({ valid: true, unsealedRecords: 0 });
    const status = await t.app.get(SermiLogSealer).measureLag();
    expect(status).toMatchObject({ unsealedRecords: 0, lagSeconds: 0, lagging: false });
  });

  it('is reported (log, /ready) while a transaction of its own database holds it back, and catches up after', async () => {
    const logsBefore = t.logs.lines.length;
    const blocker = await openWriteTransaction(t.database.url);
    held.push(blocker);
    await writeRecords(t, 20);

    // The scheduled sealer runs every 100 ms; the records wait behind the open transaction until past 1 s.
    const sealer = t.app.get(SermiLogSealer);
    const deadline = Date.now() + 15_000;
    while (sealer.status?.lagging !== true && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(sealer.status).toEqual({
      unsealedRecords: 20,
      lagSeconds: expect.any(Number),
      lagging: true,
      measuredAt: expect.any(Date),
    });
    expect(sealer.status!.lagSeconds).toBeGreaterThan(1);
    // /ready says so, and stays 200: lagging sealing is every instance's, not a reason to take this one out.
    const ready = await request(t.http).get('/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.checks.accessLogSealing).toEqual({
      status: 'lagging',
      unsealedRecords: 20,
      lagSeconds: expect.any(Number),
      measuredAt: expect.any(String),
    });
    const warnings = t.logs.lines
      .slice(logsBefore)
      .filter((line) => String(line.msg).startsWith('SERMI access log sealing is behind'));
    expect(warnings).toEqual([
      expect.objectContaining({
        level: 'warn',
        unsealedRecords: 20,
        thresholdSeconds: 1,
        horizon: String(blocker.xid),
      }),
    ]);
    expect(await unsealed(t)).toBe(20);

    await Promise.all(held.splice(0).map((transaction) => transaction.end()));
    const caughtUp = Date.now() + 15_000;
    while (sealer.status?.lagging !== false && Date.now() < caughtUp) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(await unsealed(t)).toBe(0);
    expect(sealer.status).toMatchObject({ unsealedRecords: 0, lagging: false });
    expect((await request(t.http).get('/ready')).body.checks.accessLogSealing).toMatchObject({
      status: 'ok',
      unsealedRecords: 0,
    });
    expect(t.logs.lines.slice(logsBefore).filter((line) => line.msg === 'SERMI access log sealing caught up')).toEqual([
      expect.objectContaining({ level: 'info' }),
    ]);
  });
});

describe('SERMI access log sealing on demand', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ SERMI_LOG_SEAL_INTERVAL_MS: '0' });
  });
  afterAll(async () => t.close());

  it('seals records committed while a run was under way: the call waits for that run and starts another', async () => {
    const sealer = t.app.get(SermiLogSealer);
    await writeRecords(t, 10);
    // Hold the run at its seal INSERT, after it fixed its horizon on the first 10 records.
    const holder = new pg.Client({ connectionString: t.database.url });
    await holder.connect();
    let first: Promise<number>;
    let second: Promise<number>;
    try {
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE sermi_log_seals IN EXCLUSIVE MODE');
      first = sealer.sealAll();
      const waitingOnTheLock = async () =>
        (
          await t.dataSource.query(
            `SELECT count(*)::int AS waiting FROM pg_locks
              WHERE relation = 'sermi_log_seals'::regclass AND NOT granted`,
          )
        )[0].waiting as number;
      await eventually(async () => (await waitingOnTheLock()) > 0);

      await writeRecords(t, 50);
      second = sealer.sealAll();
    } finally {
      // Also when the run never reached the lock: the app's close must not wait on it.
      await holder.query('ROLLBACK');
      await holder.end();
    }

    expect(await first).toBe(10);
    expect(await second).toBe(50);
    expect(await unsealed(t)).toBe(0);
  });
});

/** The plan nodes that read `table`, by node type, for a statement and its parameters. */
async function scansOf(client: pg.Client, table: string, sql: string, params: unknown[]): Promise<string[]> {
  const { rows } = await client.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(`EXPLAIN (FORMAT JSON) ${sql}`, params);
  const scans: string[] = [];
  const walk = (node: PlanNode) => {
    if (node['Relation Name'] === table) scans.push(node['Node Type']);
    for (const child of node.Plans ?? []) walk(child);
  };
  walk(rows[0]['QUERY PLAN'][0].Plan);
  return scans;
}
interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  Plans?: PlanNode[];
}

describe('SERMI access log: measuring the unsealed tail of a long log', () => {
  let database: TestDatabase;
  let t: TestApp;
  let admin: pg.Client;

  beforeAll(async () => {
    database = await createTestDatabase();
    t = await startTestApp({ SERMI_LOG_SEAL_INTERVAL_MS: '0' }, { database });
    admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    // Statistics that lag behind the newest records, as they do between two automatic ANALYZEs of a busy log.
    await admin.query('ALTER TABLE sermi_access_log SET (autovacuum_enabled = off)');
  });
  afterAll(async () => {
    await admin.end();
    await t.close();
    await database.drop();
  });

  it('reads the tail through the index, not the whole log, before and after its statistics are gathered', async () => {
    const sealer = t.app.get(SermiLogSealer);
    await writeRecords(t, 20_000);
    expect(await sealer.sealAll()).toBe(20_000);
    await writeRecords(t, 7);
    const end = await chainEnd(t.dataSource.manager, SERMI_LOG);

    for (const statistics of ['none', 'gathered']) {
      if (statistics === 'gathered') await admin.query('ANALYZE sermi_access_log');
      const scans = await scansOf(admin, 'sermi_access_log', unsealedTailSql(SERMI_LOG), [end.toTxid]);
      expect({ statistics, scans }).toEqual({
        statistics,
        scans: [expect.not.stringMatching(/Seq Scan/), expect.not.stringMatching(/Seq Scan/)],
      });
      expect(await sealer.measureLag()).toMatchObject({ unsealedRecords: 7, lagging: false });
      expect(await t.app.get(SermiLogVerifier).verify()).toMatchObject({ valid: true, unsealedRecords: 7 });
    }
  });
});
