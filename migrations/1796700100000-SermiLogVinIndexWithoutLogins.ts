import type { MigrationInterface, QueryRunner } from 'typeorm';

const INDEX = 'sermi_access_log_vin_recorded_at_idx';
const BUILDING = 'sermi_access_log_vin_recorded_at_new_idx';

/**
 * The access log's VIN index without the login records, which have no VIN: every login wrote a NULL entry into it
 * that no query reads (the admin's VIN filter is `vin = $n`, which Postgres serves from the partial index).
 *
 * The log is the largest table and decisions write it all the time, so the index is built and the old one dropped
 * concurrently, outside a transaction, with no lock timeout (both wait for every older transaction to end). A run
 * cut short leaves at most an invalid new index or both; the next run drops the new one and starts again.
 */
export class SermiLogVinIndexWithoutLogins1796700100000 implements MigrationInterface {
  name = 'SermiLogVinIndexWithoutLogins1796700100000';
  transaction = false as const;

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('SET lock_timeout = 0');
    try {
      await queryRunner.query(`DROP INDEX CONCURRENTLY IF EXISTS "${BUILDING}"`);
      await queryRunner.query(
        `CREATE INDEX CONCURRENTLY "${BUILDING}" ON "sermi_access_log" ("vin", "recorded_at") WHERE "vin" IS NOT NULL`,
      );
      await queryRunner.query(`DROP INDEX CONCURRENTLY IF EXISTS "${INDEX}"`);
    } finally {
      await queryRunner.query('RESET lock_timeout');
    }
    await queryRunner.query(`ALTER INDEX "${BUILDING}" RENAME TO "${INDEX}"`);
  }

  /** Reverted in a transaction (TypeORM's undo), so not concurrently: a development step, not a deployment's. */
  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "${INDEX}"`);
    await queryRunner.query(`CREATE INDEX "${INDEX}" ON "sermi_access_log" ("vin", "recorded_at")`);
  }
}
