import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { MIGRATIONS } from '../../migrations/index.js';
import { ForgetSessionIdTokens1796600100000 } from '../../migrations/1796600100000-ForgetSessionIdTokens.js';
import { createAccount } from '../support/factories.js';
import { eventually } from '../support/eventually.js';
import { PROJECT_ROOT, runTypeScript } from '../support/spawn-process.js';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../../src/app/data-source-options.js';
import { applyMigrations, MIGRATION_LOCK_KEY, migrationConnection } from '../../src/app/migrations.js';
import { schemaDiff } from '../../src/app/schema-drift.js';
import { adminQuery, createTestDatabase, databaseUrl, type TestDatabase } from '../support/test-database.js';

describe('migrations', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => database.drop());

  it('produce exactly the schema the entities describe', async () => {
    expect(await schemaDiff(database.url)).toEqual({ up: [], down: [] });
  });

  it('are already all applied in a migrated database, so a restart applies nothing', async () => {
    expect(await applyMigrations(database.url)).toEqual([]);
  });

  it('can be reverted completely and applied again', async () => {
    const dataSource = await new DataSource(dataSourceOptions({ url: database.url, poolSize: 1 })).initialize();
    try {
      const count = dataSource.migrations.length;
      for (let i = 0; i < count; i += 1) await dataSource.undoLastMigration({ transaction: 'each' });
      const tables: { table_name: string }[] = await dataSource.query(
        `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> 'schema_migrations'`,
      );
      expect(tables).toEqual([]);
    } finally {
      await dataSource.destroy();
    }
    expect(await applyMigrations(database.url)).toHaveLength(MIGRATIONS.length);
    expect(await schemaDiff(database.url)).toEqual({ up: [], down: [] });
  });

  it('clear the ID tokens sessions kept before the sign-out hints had a table of their own, batch after batch', async () => {
    const dataSource = await new DataSource(dataSourceOptions({ url: database.url, poolSize: 2 })).initialize();
    const runner = dataSource.createQueryRunner();
    try {
      const account = await createAccount(dataSource);
      // More than one batch (5,000) of sessions from before 12-05, and one from after without a token.
      await dataSource.query(
        `INSERT INTO sessions (token_hash, account_id, provider, last_seen_at, idle_expires_at, absolute_expires_at,
                               id_token_hint)
         SELECT sha256(convert_to($2 || i, 'UTF8')), $1, 'digidentity', now(), now() + interval '1 hour',
                now() + interval '2 hours', CASE WHEN i <= 5001 THEN 'eyJhbGciOiJSUzI1NiJ9.e30.c2ln' END
           FROM generate_series(1, 5002) AS i`,
        [account.id, randomBytes(8).toString('hex')],
      );
      const kept = () =>
        dataSource.query<{ tokens: number; sessions: number }[]>(
          `SELECT count(id_token_hint)::int AS tokens, count(*)::int AS sessions FROM sessions WHERE account_id = $1`,
          [account.id],
        );
      expect(await kept()).toEqual([{ tokens: 5001, sessions: 5002 }]);
      await new ForgetSessionIdTokens1796600100000().up(runner);
      expect(await kept()).toEqual([{ tokens: 0, sessions: 5002 }]);
    } finally {
      await runner.release();
      await dataSource.destroy();
    }
  });

  it('wait for another instance’s migrations without a snapshot that its concurrent index build would wait for', async () => {
    const holder = new pg.Client({ connectionString: database.url });
    await holder.connect();
    try {
      await holder.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
      const waiting = applyMigrations(database.url);
      // Until the starting instance has asked for the lock (before that, nothing of it could be waited for).
      await eventually(async () => {
        const { rows } = await holder.query(
          `SELECT 1 FROM pg_stat_activity WHERE datname = current_database()
              AND application_name = 'rmi-identity-backend:migrations' AND query LIKE '%advisory_lock%'`,
        );
        return rows.length > 0;
      });
      // What the holder's migration may run: it waits for every older snapshot in the database. A waiter blocked in
      // pg_advisory_lock holds one: Postgres would end that wait as a deadlock, and the waiting start would fail.
      await holder.query(`SET statement_timeout = '5s'`);
      await holder.query('CREATE INDEX CONCURRENTLY probe_waiter_idx ON accounts (display_name)');
      await holder.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
      expect(await waiting).toEqual([]);
    } finally {
      await holder.query('SELECT pg_advisory_unlock_all()');
      await holder.query('DROP INDEX IF EXISTS probe_waiter_idx');
      await holder.end();
    }
  });

  it('run without a statement timeout and with a lock timeout, whatever the database sets', async () => {
    await adminQuery(`ALTER DATABASE ${database.name} SET statement_timeout = '150ms'`);
    try {
      const dataSource = await new DataSource(migrationConnection(database.url)).initialize();
      try {
        const [statement] = await dataSource.query('SHOW statement_timeout');
        const [lock] = await dataSource.query('SHOW lock_timeout');
        expect([statement, lock]).toEqual([{ statement_timeout: '0' }, { lock_timeout: '10s' }]);
      } finally {
        await dataSource.destroy();
      }
    } finally {
      await adminQuery(`ALTER DATABASE ${database.name} RESET statement_timeout`);
    }
  });

  it('give up on a table that running transactions hold rather than stall the queries queued behind, and apply later', async () => {
    // Reverted back to the migration that rewrites login_transactions (SET UNLOGGED needs the table to itself).
    const dataSource = await new DataSource(dataSourceOptions({ url: database.url, poolSize: 1 })).initialize();
    const reverted: string[] = [];
    try {
      while (!reverted.includes('UnloggedLoginState1796376240314')) {
        const [last] = await dataSource.query<{ name: string }[]>(
          'SELECT name FROM schema_migrations ORDER BY id DESC LIMIT 1',
        );
        await dataSource.undoLastMigration({ transaction: 'each' });
        reverted.push(last.name);
      }
    } finally {
      await dataSource.destroy();
    }
    const persistence = async () =>
      (
        await adminQuery<{ p: string }>(
          "SELECT relpersistence AS p FROM pg_class WHERE relname = 'login_transactions'",
          [],
          database.name,
        )
      ).rows[0].p;
    const login = new pg.Client({ connectionString: database.url });
    await login.connect();
    try {
      await login.query('BEGIN');
      await login.query('SELECT count(*) FROM login_transactions');
      const failure = await applyMigrations(database.url, 200).then(
        () => undefined,
        (error: Error) => error,
      );
      expect(failure?.message).toMatch(
        /^a migration waited 0\.2 s for a table that running transactions hold and gave up/,
      );
      expect(await persistence()).toBe('p');
    } finally {
      await login.query('ROLLBACK');
      await login.end();
    }
    expect((await applyMigrations(database.url)).sort()).toEqual(reverted.sort());
    expect(await persistence()).toBe('u');
  });
});

describe('migrations/index.ts', () => {
  it('lists every migration file in the folder, oldest first', async () => {
    const files = (await readdir(join(PROJECT_ROOT, 'migrations'))).filter((file) => /^\d+-\w+\.ts$/.test(file)).sort();
    const expected = files.map((file) => {
      const [, timestamp, name] = /^(\d+)-(\w+)\.ts$/.exec(file)!;
      return `${name}${timestamp}`;
    });
    expect(MIGRATIONS.map((migration) => migration.name)).toEqual(expected);
  });
});

describe('npm run migration:run', () => {
  const name = `rmi_test_empty_${randomBytes(6).toString('hex')}`;
  const url = () => databaseUrl(name);
  const floor = async () =>
    (await adminQuery<{ minimum_days: number }>(`SELECT minimum_days FROM sermi_log_retention`, [], name)).rows;

  beforeAll(async () => adminQuery(`CREATE DATABASE ${name}`));
  afterAll(async () => adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));

  it('migrates an empty database and keeps SERMI_LOG_RETENTION_DAYS as the access log purge floor, every run', async () => {
    const first = runTypeScript('scripts/migrate.ts', { DATABASE_URL: url(), SERMI_LOG_RETENTION_DAYS: '400' });
    expect(await first.exited).toBe(0);
    expect(first.stderr()).toContain(`applied: ${MIGRATIONS[0].name}`);
    expect(await floor()).toEqual([{ minimum_days: 400 }]);

    const again = runTypeScript('scripts/migrate.ts', { DATABASE_URL: url(), SERMI_LOG_RETENTION_DAYS: '500' });
    expect(await again.exited).toBe(0);
    expect(again.stderr()).toContain('no pending migrations');
    expect(await floor()).toEqual([{ minimum_days: 500 }]);
  });
});
