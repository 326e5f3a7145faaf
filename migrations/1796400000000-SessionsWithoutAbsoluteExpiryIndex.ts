import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * No statement reads sessions by `absolute_expires_at` alone: a session's idle expiry never passes its absolute one
 * (`sessions_expiry_check`), so the purge and the live-session counts go by `idle_expires_at`, which has its own
 * index. The unused index cost an entry on every login and on every touch of a session.
 */
export class SessionsWithoutAbsoluteExpiryIndex1796400000000 implements MigrationInterface {
  name = 'SessionsWithoutAbsoluteExpiryIndex1796400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."sessions_absolute_expires_at_idx"`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE INDEX "sessions_absolute_expires_at_idx" ON "sessions" ("absolute_expires_at") `);
  }
}
