import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The ID token a sign-out hands the provider lives only in `sign_out_hints` now (unlogged, under the browser's note),
 * not in the durable sessions table, its WAL and its backups. Sessions live at the upgrade lose theirs: their
 * browsers' notes from before hold no handle, so their next sign-out asks those providers by `client_id`.
 */
export class SessionsWithoutIdToken1796507161855 implements MigrationInterface {
  name = 'SessionsWithoutIdToken1796507161855';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "sessions" DROP COLUMN "id_token_hint"`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "sessions" ADD "id_token_hint" text`);
  }
}
