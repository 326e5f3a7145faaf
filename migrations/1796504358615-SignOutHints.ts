import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The ID tokens a sign-out hands the providers as `id_token_hint` (SignOutHint). Unlogged, like the logins in flight: a
 * crash or a failover empties it, and the next sign-out asks those providers by `client_id` instead.
 */
export class SignOutHints1796504358615 implements MigrationInterface {
  name = 'SignOutHints1796504358615';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE UNLOGGED TABLE "sign_out_hints" ("handle_hash" bytea NOT NULL, "provider" text NOT NULL, "id_token" text NOT NULL, "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "sign_out_hints_handle_hash_check" CHECK (octet_length("handle_hash") = 32), CONSTRAINT "sign_out_hints_provider_check" CHECK ("provider" IN ('digidentity', 'itsme', 'signicat-idin', 'signicat-eherkenning')), CONSTRAINT "sign_out_hints_pkey" PRIMARY KEY ("handle_hash"))`,
    );
    await queryRunner.query(`CREATE INDEX "sign_out_hints_expires_at_idx" ON "sign_out_hints"  ("expires_at") `);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."sign_out_hints_expires_at_idx"`);
    await queryRunner.query(`DROP TABLE "sign_out_hints"`);
  }
}
