import type { MigrationInterface, QueryRunner } from 'typeorm';

const BATCH = 5000;

/**
 * Clears the ID tokens sessions still hold from before 2026-12-05, when the login's ID token moved to the unlogged
 * `sign_out_hints`: an ID token names the person, and in `sessions` it stayed for as long as the session row was
 * kept. What the rows held before stays in their dead versions until VACUUM, and in earlier WAL and backups until
 * those age out. The 12-05 release no longer reads or writes the column, and no statement names it any more; a later
 * release drops it. Deployed straight from a release older than 12-05, that release's instances would write tokens
 * again during the deploy: they go at the column's drop.
 *
 * Outside a transaction, in batches, each its own: a live session's row is locked for one batch at most, not until
 * every batch is done. Not reverted: the tokens are gone.
 */
export class ForgetSessionIdTokens1796600100000 implements MigrationInterface {
  name = 'ForgetSessionIdTokens1796600100000';
  transaction = false as const;

  async up(queryRunner: QueryRunner): Promise<void> {
    for (;;) {
      const { affected } = await queryRunner.query(
        `UPDATE sessions SET id_token_hint = NULL
          WHERE id IN (SELECT id FROM sessions WHERE id_token_hint IS NOT NULL LIMIT ${BATCH})`,
        undefined,
        true,
      );
      if ((affected ?? 0) < BATCH) return;
    }
  }

  async down(): Promise<void> {}
}
