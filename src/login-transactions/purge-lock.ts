import type { EntityManager } from 'typeorm';
import { sqlRows } from '../database/sql.js';

/** One bounded purge DELETE: `locked` false when another instance held the purge lock and nothing was deleted. */
export interface PurgeBatch {
  locked: boolean;
  deleted: number;
}

const PURGE_LOCK = `hashtext('login_transactions.purge')`;

/**
 * Runs a bounded DELETE (its parameters first; it must end in a WHERE clause) only while this transaction holds
 * the purge lock that login transactions and login-start counters share, and counts the rows it deleted.
 */
export async function underPurgeLock(
  manager: EntityManager,
  deleteStatement: string,
  parameters: unknown[],
): Promise<PurgeBatch> {
  const [row] = await sqlRows<PurgeBatch>(
    manager,
    `WITH leader AS (SELECT pg_try_advisory_xact_lock(${PURGE_LOCK}) AS locked),
          gone AS (${deleteStatement} AND (SELECT locked FROM leader) RETURNING 1)
     SELECT (SELECT locked FROM leader) AS locked, (SELECT count(*)::int FROM gone) AS deleted`,
    parameters,
  );
  return row;
}
