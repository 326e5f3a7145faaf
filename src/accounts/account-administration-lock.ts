import type { EntityManager } from 'typeorm';

const ACCOUNT_ADMINISTRATION_LOCK = 724_002;

/**
 * Serialises every change of an account's status or roles (admin API, CLI) until the transaction ends.
 * These changes are rare; one queue is simpler and safer than row-lock ordering, which deadlocks as soon as
 * the set of admins being checked overlaps the account being changed.
 */
export async function lockAccountAdministration(manager: EntityManager): Promise<void> {
  await manager.query('SELECT pg_advisory_xact_lock($1)', [ACCOUNT_ADMINISTRATION_LOCK]);
}
