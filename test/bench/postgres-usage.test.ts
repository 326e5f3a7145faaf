import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import pg from 'pg';
import { PostgresUsage } from '../../bench/postgres-usage.js';
import { adminQuery, databaseUrl } from '../support/test-database.js';

/** The bench's Postgres CPU per database (bench/postgres-usage.ts), on the test run's real server. */
describe("the bench's Postgres CPU of a database", () => {
  const [busy, idle] = ['busy', 'idle'].map((role) => `rmi_test_usage_${role}_${randomBytes(4).toString('hex')}`);
  let usage: PostgresUsage;
  const clients: pg.Client[] = [];

  beforeAll(async () => {
    for (const name of [busy, idle]) {
      await adminQuery(`CREATE DATABASE ${name}`);
      const client = new pg.Client({ connectionString: databaseUrl(name) });
      await client.connect();
      clients.push(client);
    }
    usage = await PostgresUsage.connect(process.env.RMI_TEST_SERVER_URL!);
  });
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.end()));
    await usage.close();
    for (const name of [busy, idle]) await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  });

  it("counts the work of the database's own clients, none of it as autovacuum", async () => {
    expect(usage.seesProcesses).toBe(true);
    const [busyCpu, idleCpu] = await Promise.all([usage.cpu(busy, 20), usage.cpu(idle, 20)]);
    await clients[0].query('SELECT count(*) FROM generate_series(1, 3000000)');
    const [busyMs, idleMs] = await Promise.all([busyCpu.stop(), idleCpu.stop()]);

    expect(busyMs.ms).toBeGreaterThan(50);
    // Not 0: the autovacuum launcher may send a worker to look at any database at any time (for a few ms).
    expect(busyMs.autovacuumMs).toBeLessThan(busyMs.ms / 10);
    expect(idleMs.ms).toBeLessThan(busyMs.ms / 10);
  });

  it('sends the readings of overlapping windows one query at a time, each with its own answer', async () => {
    let running = 0;
    let most = 0;
    const query = pg.Client.prototype.query;
    const spy = jest.spyOn(pg.Client.prototype, 'query').mockImplementation(function (this: pg.Client, ...args) {
      running += 1;
      most = Math.max(most, running);
      const result = (query as (...a: unknown[]) => Promise<unknown>).apply(this, args);
      return result.finally(() => (running -= 1)) as never;
    });
    try {
      const [wal, processes, commits] = await Promise.all([
        usage.walBytes(),
        usage.processes(busy),
        usage.commits(busy),
      ]);
      expect(wal).toBeGreaterThan(0);
      expect(processes.length).toBeGreaterThanOrEqual(1);
      expect(commits).toBeGreaterThan(0);
      expect(most).toBe(1);
    } finally {
      spy.mockRestore();
    }
  });

  it("reads the server's write-ahead log position, which writes move on by what they wrote", async () => {
    await clients[0].query('CREATE TABLE filler (n int, text text)');
    const before = await usage.walBytes();
    // An insert into an existing table is logged whatever the wal_level (CREATE TABLE AS may not be, at minimal).
    await clients[0].query(`INSERT INTO filler SELECT n, repeat('x', 100) FROM generate_series(1, 10000) n`);
    const written = (await usage.walBytes()) - before;

    // At least the rows' own bytes; the server is shared with the other test files, so no upper bound.
    expect(Number.isSafeInteger(before)).toBe(true);
    expect(written).toBeGreaterThan(10000 * 100);
  });
});
