import type { MigrationInterface, QueryRunner } from 'typeorm';

export class ServerSecrets1796319200088 implements MigrationInterface {
  name = 'ServerSecrets1796319200088';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "server_secrets" ("name" text NOT NULL, "secret" bytea NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "server_secrets_secret_check" CHECK (octet_length("secret") >= 32), CONSTRAINT "server_secrets_name_check" CHECK ("name" ~ '^[a-z][a-z0-9_]{0,62}$'), CONSTRAINT "server_secrets_pkey" PRIMARY KEY ("name"))`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "server_secrets"`);
  }
}
