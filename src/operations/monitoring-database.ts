import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import pg from 'pg';
import type { AppConfig } from '../app/app.config.js';
import { InjectAppConfig } from '../config/config.module.js';

/** How long a readiness check may take, connecting included. */
export const PROBE_TIMEOUT_MS = 2000;

export type DatabaseProbe =
  | { status: 'ok'; latencyMs: number }
  | { status: 'failing'; reason: 'timeout' | 'connection_refused' | 'authentication_failed' | 'unavailable' };

/** Why a probe failed, in words a load balancer's operator can act on (never the server's address or a password). */
function reasonOf(error: unknown): Extract<DatabaseProbe, { status: 'failing' }>['reason'] {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if (code === 'ECONNREFUSED') return 'connection_refused';
  if (code === '28P01' || code === '28000') return 'authentication_failed';
  if (code === '57014' || (typeof message === 'string' && /timeout|timed out/i.test(message))) return 'timeout';
  return 'unavailable';
}

/**
 * A tiny pool of its own (two connections, short timeouts) for readiness checks and the metrics' database reads.
 * They never queue behind the request pool: a saturated pool on a database that answers is not "not ready", and a
 * load balancer must not take every instance out at once for it.
 */
@Injectable()
export class MonitoringDatabase implements OnApplicationShutdown {
  private readonly pool: pg.Pool;
  private probing: Promise<DatabaseProbe> | null = null;

  constructor(@InjectAppConfig() config: AppConfig) {
    this.pool = new pg.Pool({
      connectionString: config.database.url,
      max: 2,
      connectionTimeoutMillis: PROBE_TIMEOUT_MS,
      // Kept open between checks: a probe every few seconds should not open a connection each time.
      idleTimeoutMillis: 0,
      allowExitOnIdle: true,
      statement_timeout: PROBE_TIMEOUT_MS,
      query_timeout: PROBE_TIMEOUT_MS + 500,
      application_name: 'rmi-identity-backend/monitoring',
    });
    // A connection the server ends (restart, outage) is dropped from the pool; the next check opens a new one.
    this.pool.on('error', () => undefined);
  }

  /** Whether the database answers now. Concurrent callers share one check, so probes never pile up. */
  probe(): Promise<DatabaseProbe> {
    this.probing ??= (async (): Promise<DatabaseProbe> => {
      const startedAt = performance.now();
      try {
        await this.pool.query('SELECT 1');
        return { status: 'ok', latencyMs: Math.round((performance.now() - startedAt) * 10) / 10 };
      } catch (error) {
        return { status: 'failing', reason: reasonOf(error) };
      }
    })().finally(() => {
      this.probing = null;
    });
    return this.probing;
  }

  /** A read for the metrics (bounded by the statement timeout above). */
  async query<T extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<T[]> {
    return (await this.pool.query<T>(text, values)).rows;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.pool.end();
  }
}
