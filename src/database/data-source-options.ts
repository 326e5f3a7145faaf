import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DataSourceOptions } from 'typeorm';
import { ENTITIES } from './entities.js';

const projectRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Compiled (dist/migrations/*.js) or source (migrations/*.ts), whichever this process runs from. */
export const MIGRATIONS_GLOB = join(projectRoot, 'migrations', `*.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`);

export interface DatabaseConnectionSettings {
  url: string;
  poolSize?: number;
  connectTimeoutMs?: number;
  statementTimeoutMs?: number;
  applicationName?: string;
}

/**
 * The one options object behind the app's DataSource, the migration scripts and the test set-up.
 * `synchronize` is never on: the schema only changes through migrations.
 */
export function dataSourceOptions(settings: DatabaseConnectionSettings): DataSourceOptions {
  return {
    type: 'postgres',
    url: settings.url,
    entities: ENTITIES,
    migrations: [MIGRATIONS_GLOB],
    migrationsTableName: 'schema_migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    // gen_random_uuid() is built into Postgres 13+; the app never needs rights to create extensions.
    uuidExtension: 'pgcrypto',
    installExtensions: false,
    logging: false,
    applicationName: settings.applicationName ?? 'rmi-identity-backend',
    poolSize: settings.poolSize ?? 10,
    connectTimeoutMS: settings.connectTimeoutMs ?? 5000,
    extra: {
      statement_timeout: settings.statementTimeoutMs ?? 15000,
      idle_in_transaction_session_timeout: 60000,
    },
  };
}
