import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { sqlState } from '../database/postgres-errors.js';
import { dataSourceOptions } from './data-source-options.js';
import type { AppConfig } from './app.config.js';
import { keepSermiLogFor } from '../sermi/access-log/sermi-log-retention.js';

/** Any fixed number works; it only has to be the same for every instance of this service. */
export const MIGRATION_LOCK_KEY = 724_001;

/** How often an instance asks for the migration lock while another one holds it. */
const LOCK_POLL_MS = 250;

/**
 * How long a migration's statement waits for a table's lock. A statement that changes a table queues for its lock
 * behind the transactions using it, and every query on that table after it — logins, decisions — queues behind the
 * statement: waiting long would stall the running instances. Giving up instead leaves that migration unapplied
 * (it is one transaction) and the start fails; the next start tries again.
 */
export const MIGRATION_LOCK_TIMEOUT_MS = 10_000;

const LOCK_NOT_AVAILABLE = '55P03';

/**
 * The migrations' connection: no statement timeout (rewriting or indexing a large table may take minutes), a lock
 * timeout so that it does not wait behind busy transactions.
 */
export const migrationConnection = (url: string, lockTimeoutMs = MIGRATION_LOCK_TIMEOUT_MS) =>
  dataSourceOptions({
    url,
    poolSize: 1,
    applicationName: 'rmi-identity-backend:migrations',
    statementTimeoutMs: 0,
    lockTimeoutMs,
  });

/**
 * Applies pending migrations, holding a Postgres advisory lock so that several instances starting at once
 * do not race each other. Returns the names of the migrations applied.
 *
 * The lock is asked for again and again rather than waited for in one statement: a statement that waits holds a
 * snapshot, and `CREATE INDEX CONCURRENTLY` in the holder's migration waits for every older snapshot in the database:
 * the two would wait for each other, until Postgres cancels the waiter's statement as a deadlock and its start fails.
 */
export async function applyMigrations(url: string, lockTimeoutMs = MIGRATION_LOCK_TIMEOUT_MS): Promise<string[]> {
  const lock = new pg.Client({ connectionString: url, application_name: 'rmi-identity-backend:migrations' });
  await lock.connect();
  try {
    await waitForLock(lock);
    const dataSource = new DataSource(migrationConnection(url, lockTimeoutMs));
    await dataSource.initialize();
    try {
      const applied = await dataSource.runMigrations({ transaction: 'each' });
      return applied.map((migration) => migration.name);
    } catch (error) {
      if (sqlState(error) !== LOCK_NOT_AVAILABLE) throw error;
      throw new Error(
        `a migration waited ${lockTimeoutMs / 1000} s for a table that running transactions hold and gave up, ` +
          'so as not to hold up the requests queued behind it; it was not applied (the migrations before it were). ' +
          'Start again, or run `npm run migration:run`, when the database is quieter.',
        { cause: error },
      );
    } finally {
      await dataSource.destroy();
    }
  } finally {
    await lock.end();
  }
}

/**
 * The migrations as the app (MIGRATIONS_RUN) and `npm run migration:run` apply them, on the owner's connection: the
 * pending migrations, then what only the owner may write from the settings (the access log's retention floor).
 */
export async function migrateAsOwner(ownerUrl: string, config: Pick<AppConfig, 'sermi'>): Promise<string[]> {
  const applied = await applyMigrations(ownerUrl);
  await keepSermiLogFor(ownerUrl, config.sermi.log.retentionDays);
  return applied;
}

async function waitForLock(lock: pg.Client): Promise<void> {
  for (;;) {
    const { rows } = await lock.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [
      MIGRATION_LOCK_KEY,
    ]);
    if (rows[0].locked) return;
    await sleep(LOCK_POLL_MS);
  }
}
