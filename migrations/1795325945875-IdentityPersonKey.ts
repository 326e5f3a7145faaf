import type { MigrationInterface, QueryRunner } from 'typeorm';

export class IdentityPersonKey1795325945875 implements MigrationInterface {
  name = 'IdentityPersonKey1795325945875';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "identity_links" ADD "person_key" text`);
    await queryRunner.query(`ALTER TABLE "pending_identities" ADD "person_key" text`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "identity_links_provider_person_key_key" ON "identity_links"  ("provider", "person_key") WHERE "person_key" IS NOT NULL`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."identity_links_provider_person_key_key"`);
    await queryRunner.query(`ALTER TABLE "pending_identities" DROP COLUMN "person_key"`);
    await queryRunner.query(`ALTER TABLE "identity_links" DROP COLUMN "person_key"`);
  }
}
