import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
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
