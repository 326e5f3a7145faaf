import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { applyMigrations } from '../../src/app/migrations.js';
import { EmbeddedPostgres } from '../../src/database/embedded-postgres.js';
import { freePort } from '../support/free-port.js';

async function query<T extends pg.QueryResultRow>(url: string, text: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}

describe('a database crash', () => {
  let dataDir: string;
  let port: number;

  beforeAll(async () => {
    const workDir = await mkdtemp(join(tmpdir(), 'rmi-crash-'));
    await chmod(workDir, 0o755);
    dataDir = join(workDir, 'pgdata');
    port = await freePort();
  });
  afterAll(async () => {
    await EmbeddedPostgres.stopRunning(dataDir);
    await rm(join(dataDir, '..'), { recursive: true, force: true });
  });

  it('ends the logins in flight and empties the start counters, and keeps everything else', async () => {
    const before = await EmbeddedPostgres.start({ dataDir, port, durability: 'durable' });
    await applyMigrations(before.url);
    const [account] = await query<{ id: string }>(
      before.url,
      `INSERT INTO accounts (display_name) VALUES ('kept') RETURNING id`,
    );
    await query(
      before.url,
      `INSERT INTO login_transactions (provider, state_hash, browser_binding_hash, expires_at)
       VALUES ('digidentity', $1, $2, now() + interval '10 minutes')`,
      [randomBytes(32), randomBytes(32)],
    );
    await query(
      before.url,
      `INSERT INTO login_start_counters (kind, client_key, window_start) VALUES ('login', '192.0.2.1', now())`,
    );

    await before.stop({ mode: 'immediate' });
    const after = await EmbeddedPostgres.start({ dataDir, port, durability: 'durable' });
    try {
      expect(await query(after.url, `SELECT id FROM accounts`)).toEqual([{ id: account.id }]);
      expect(await query(after.url, `SELECT count(*)::int AS n FROM login_transactions`)).toEqual([{ n: 0 }]);
      expect(await query(after.url, `SELECT count(*)::int AS n FROM login_start_counters`)).toEqual([{ n: 0 }]);
    } finally {
      await after.stop();
    }
  }, 120_000);
});
