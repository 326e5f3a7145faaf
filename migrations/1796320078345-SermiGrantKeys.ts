import type { MigrationInterface, QueryRunner } from 'typeorm';

export class SermiGrantKeys1796320078345 implements MigrationInterface {
  name = 'SermiGrantKeys1796320078345';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "sermi_grant_keys" ("kid" text NOT NULL, "public_jwk" jsonb NOT NULL, "first_published_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "published_until" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "sermi_grant_keys_pkey" PRIMARY KEY ("kid"))`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "sermi_grant_keys"`);
  }
}
