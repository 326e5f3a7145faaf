import type { DataSourceOptions } from 'typeorm';
import { MIGRATIONS } from '../../migrations/index.js';
import { ENTITIES } from './entities.js';
import { ClientDroppingStuckConnections } from '../database/pg-client.js';

export interface DatabaseConnectionSettings {
  url: string;
  poolSize?: number;
  /** How long an unused connection stays in the pool (pg's default, 10 s, when unset). */
  poolIdleTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** Postgres `statement_timeout`; 0 for none. */
  statementTimeoutMs?: number;
  /** Postgres `lock_timeout`: how long a statement waits for a lock; none when unset. */
  lockTimeoutMs?: number;
  applicationName?: string;
}

/**
 * The one options object behind the app's DataSource, the migration scripts and the test set-up.
 * `synchronize` is never on: the schema only changes through migrations.
 */
export function dataSourceOptions(settings: DatabaseConnectionSettings): DataSourceOptions {
  const statementTimeoutMs = settings.statementTimeoutMs ?? 15000;
  return {
    type: 'postgres',
    url: settings.url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
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
      statement_timeout: timeoutSetting(statementTimeoutMs),
      // The server cancels a statement at statement_timeout; one that stopped answering would leave the request
      // waiting for ever: the client gives up a little later and drops the connection (a 503, "try again").
      ...(statementTimeoutMs > 0
        ? { query_timeout: statementTimeoutMs + STUCK_SERVER_MARGIN_MS, Client: ClientDroppingStuckConnections }
        : {}),
      idle_in_transaction_session_timeout: timeoutSetting(60000),
      ...(settings.lockTimeoutMs === undefined ? {} : { lock_timeout: timeoutSetting(settings.lockTimeoutMs) }),
      ...(settings.poolIdleTimeoutMs === undefined ? {} : { idleTimeoutMillis: settings.poolIdleTimeoutMs }),
      // Probes after a minute without traffic keep a firewall or NAT in between from dropping an idle connection.
      keepAlive: true,
      keepAliveInitialDelayMillis: 60000,
    },
  };
}

/** How long past statement_timeout the client waits for an answer before it takes the server for stuck. */
export const STUCK_SERVER_MARGIN_MS = 5000;

/** A Postgres timeout as text for pg, which leaves out a falsy setting: 0 (none) would not be sent. */
const timeoutSetting = (ms: number) => String(ms);
