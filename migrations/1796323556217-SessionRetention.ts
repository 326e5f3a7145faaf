import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Ended sessions are deleted SESSION_RETENTION_DAYS after their idle expiry (the last moment they could have been
 * used, revoked or not); the index serves that purge and the count of live sessions.
 */
export class SessionRetention1796323556217 implements MigrationInterface {
  name = 'SessionRetention1796323556217';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE INDEX "sessions_idle_expires_at_idx" ON "sessions" ("idle_expires_at") `);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."sessions_idle_expires_at_idx"`);
  }
}
