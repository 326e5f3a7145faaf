// Owns every statement on `login_start_counters`; login-transactions.repository.ts embeds countStartSql in the
// statement that stores a login, so that a start is counted and stored in one round trip.
import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { preparedRows } from '../database/sql.js';
import type { LoginStartKind } from './login-start-limits.js';
import { underPurgeLock, type PurgeBatch } from './purge-lock.js';

/** A counted start: `hits` is null when the start was refused (the window was already over the limit). */
export interface LoginStartCountRow {
  hits: number | null;
  /** Seconds until the current window ends (1–60). */
  retry_after: number;
}

/**
 * Counts a start in the client's current one-minute window (placeholders: kind, client key, limit). Once the window
 * is full, the first refused start takes `hits` to limit + 1 (so that it is logged once); later ones see that in
 * their snapshot and leave the row alone: no row lock, no write, no WAL flush at commit, so a flood from one
 * address does not queue on its counter row. No row comes back for a refused start.
 */
export const countStartSql = (kind: string, client: string, limit: string) => `
  INSERT INTO login_start_counters AS c (kind, client_key, window_start)
  SELECT ${kind}, ${client}, date_trunc('minute', now())
   WHERE NOT EXISTS (SELECT FROM login_start_counters
                      WHERE kind = ${kind} AND client_key = ${client} AND window_start = date_trunc('minute', now())
                        AND hits > ${limit})
  ON CONFLICT (kind, client_key, window_start) DO UPDATE SET hits = c.hits + 1 WHERE c.hits <= ${limit}
  RETURNING hits`;

/** Seconds until the current window ends (1–60), in database time like the windows themselves. */
export const RETRY_AFTER_SQL = `ceil(extract(epoch FROM date_trunc('minute', now()) + interval '1 minute' - now()))::int`;

@Injectable()
export class LoginStartCountersRepository {
  /** Counts one start of `kind` by `client` against `limit` (countStartSql), in one statement. */
  async countStart(
    manager: EntityManager,
    kind: LoginStartKind,
    client: string,
    limit: number,
  ): Promise<LoginStartCountRow> {
    const [row] = await preparedRows<LoginStartCountRow>(
      manager,
      'rmi_login_start_admit',
      `WITH hit AS (${countStartSql('$1::text', '$2::text', '$3::int')})
       SELECT (SELECT hits FROM hit) AS hits, ${RETRY_AFTER_SQL} AS retry_after`,
      [kind, client, limit],
    );
    return row;
  }

  /** Deletes up to `batchSize` finished windows, under the purge lock. */
  deleteFinishedWindows(manager: EntityManager, batchSize: number): Promise<PurgeBatch> {
    return underPurgeLock(
      manager,
      `DELETE FROM login_start_counters
        WHERE (kind, client_key, window_start) IN (
              SELECT kind, client_key, window_start FROM login_start_counters
               WHERE window_start < date_trunc('minute', now()) LIMIT $1::int FOR UPDATE SKIP LOCKED)`,
      [batchSize],
    );
  }
}
