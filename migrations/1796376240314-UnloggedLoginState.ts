import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Logins in flight and the login start counters live for minutes and matter only while they live: unlogged, they
 * write no WAL and their commits wait for no flush. A database crash or a failover empties them (a login in flight
 * then ends on "start again", a counter starts over); nothing else is lost, and a used state can never come back.
 */
export class UnloggedLoginState1796376240314 implements MigrationInterface {
  name = 'UnloggedLoginState1796376240314';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "login_transactions" SET UNLOGGED`);
    await queryRunner.query(`ALTER TABLE "login_start_counters" SET UNLOGGED`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "login_start_counters" SET LOGGED`);
    await queryRunner.query(`ALTER TABLE "login_transactions" SET LOGGED`);
  }
}
