import pg from 'pg';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from './data-source-options.js';

/** Any fixed number works; it only has to be the same for every instance of this service. */
const MIGRATION_LOCK_KEY = 724_001;

/**
 * Applies pending migrations, holding a Postgres advisory lock so that several instances starting at once
 * do not race each other. Returns the names of the migrations applied.
 */
export async function applyMigrations(url: string): Promise<string[]> {
  const lock = new pg.Client({ connectionString: url, application_name: 'rmi-identity-backend:migrations' });
  await lock.connect();
  try {
    await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    const dataSource = new DataSource(
      dataSourceOptions({ url, poolSize: 1, applicationName: 'rmi-identity-backend:migrations' }),
    );
    await dataSource.initialize();
    try {
      const applied = await dataSource.runMigrations({ transaction: 'each' });
      return applied.map((migration) => migration.name);
    } finally {
      await dataSource.destroy();
    }
  } finally {
    await lock.end();
  }
}
