import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Clears the ID tokens sessions still hold from before 2026-12-05, when the login's ID token moved to the unlogged
 * `sign_out_hints`: an ID token names the person, and in `sessions` it stayed, with the table's WAL and backups, for
 * as long as the session row was kept. The release before this one no longer reads or writes the column, and no
 * statement names it any more; a later release drops it. Not reverted: the tokens are gone.
 */
export class ForgetSessionIdTokens1796600100000 implements MigrationInterface {
  name = 'ForgetSessionIdTokens1796600100000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`UPDATE sessions SET id_token_hint = NULL WHERE id_token_hint IS NOT NULL`);
  }

  async down(): Promise<void> {}
}
