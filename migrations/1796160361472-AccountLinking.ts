import type { MigrationInterface, QueryRunner } from 'typeorm';

export class AccountLinking1796160361472 implements MigrationInterface {
  name = 'AccountLinking1796160361472';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "rebind_requests" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "account_id" uuid NOT NULL, "pending_identity_id" uuid NOT NULL, "requested_by" uuid NOT NULL, "reason" text NOT NULL, "reviewed" jsonb NOT NULL DEFAULT '{}', "status" text NOT NULL DEFAULT 'requested', "decided_by" uuid, "decided_at" TIMESTAMP WITH TIME ZONE, "decision_comment" text, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "rebind_requests_reason_check" CHECK (char_length("reason") BETWEEN 1 AND 1000), CONSTRAINT "rebind_requests_four_eyes_check" CHECK ("decided_by" IS NULL OR "decided_by" <> "requested_by"), CONSTRAINT "rebind_requests_decided_check" CHECK (("status" = 'requested') = ("decided_at" IS NULL)), CONSTRAINT "rebind_requests_status_check" CHECK ("status" IN ('requested', 'applied', 'rejected', 'expired')), CONSTRAINT "rebind_requests_pkey" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "rebind_requests_created_at_idx" ON "rebind_requests"  ("created_at") `);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "rebind_requests_open_pending_identity_key" ON "rebind_requests"  ("pending_identity_id") WHERE "status" = 'requested'`,
    );
    await queryRunner.query(`ALTER TABLE "pending_identities" ADD "held_for_session_id" uuid`);
    await queryRunner.query(`ALTER TABLE "pending_identities" ADD "display_name" text`);
    await queryRunner.query(`ALTER TABLE "pending_identities" ADD "may_create_account" boolean NOT NULL DEFAULT false`);
    await queryRunner.query(
      `ALTER TABLE "pending_identities" ADD "last_seen_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now()`,
    );
    await queryRunner.query(`ALTER TABLE "pending_identities" ADD "resolved_account_id" uuid`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "pending_identities_open_identity_key" ON "pending_identities"  ("provider", "issuer", "subject") WHERE "resolved_at" IS NULL`,
    );
    await queryRunner.query(
      `ALTER TABLE "rebind_requests" ADD CONSTRAINT "rebind_requests_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "accounts"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "rebind_requests" ADD CONSTRAINT "rebind_requests_pending_identity_id_fkey" FOREIGN KEY ("pending_identity_id") REFERENCES "pending_identities"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "rebind_requests" ADD CONSTRAINT "rebind_requests_requested_by_fkey" FOREIGN KEY ("requested_by") REFERENCES "accounts"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "rebind_requests" ADD CONSTRAINT "rebind_requests_decided_by_fkey" FOREIGN KEY ("decided_by") REFERENCES "accounts"("id") ON DELETE SET NULL ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "pending_identities" ADD CONSTRAINT "pending_identities_held_for_session_id_fkey" FOREIGN KEY ("held_for_session_id") REFERENCES "sessions"("id") ON DELETE SET NULL ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "pending_identities" ADD CONSTRAINT "pending_identities_resolved_account_id_fkey" FOREIGN KEY ("resolved_account_id") REFERENCES "accounts"("id") ON DELETE SET NULL ON UPDATE NO ACTION`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE "pending_identities" DROP CONSTRAINT "pending_identities_resolved_account_id_fkey"`,
    );
    await queryRunner.query(
      `ALTER TABLE "pending_identities" DROP CONSTRAINT "pending_identities_held_for_session_id_fkey"`,
    );
    await queryRunner.query(`ALTER TABLE "rebind_requests" DROP CONSTRAINT "rebind_requests_decided_by_fkey"`);
    await queryRunner.query(`ALTER TABLE "rebind_requests" DROP CONSTRAINT "rebind_requests_requested_by_fkey"`);
    await queryRunner.query(`ALTER TABLE "rebind_requests" DROP CONSTRAINT "rebind_requests_pending_identity_id_fkey"`);
    await queryRunner.query(`ALTER TABLE "rebind_requests" DROP CONSTRAINT "rebind_requests_account_id_fkey"`);
    await queryRunner.query(`DROP INDEX "public"."pending_identities_open_identity_key"`);
    await queryRunner.query(`ALTER TABLE "pending_identities" DROP COLUMN "resolved_account_id"`);
    await queryRunner.query(`ALTER TABLE "pending_identities" DROP COLUMN "last_seen_at"`);
    await queryRunner.query(`ALTER TABLE "pending_identities" DROP COLUMN "may_create_account"`);
    await queryRunner.query(`ALTER TABLE "pending_identities" DROP COLUMN "display_name"`);
    await queryRunner.query(`ALTER TABLE "pending_identities" DROP COLUMN "held_for_session_id"`);
    await queryRunner.query(`DROP INDEX "public"."rebind_requests_open_pending_identity_key"`);
    await queryRunner.query(`DROP INDEX "public"."rebind_requests_created_at_idx"`);
    await queryRunner.query(`DROP TABLE "rebind_requests"`);
  }
}
