import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Initial1795321696727 implements MigrationInterface {
  name = 'Initial1795321696727';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "accounts" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "display_name" text NOT NULL, "status" text NOT NULL DEFAULT 'active', "roles" text array NOT NULL DEFAULT '{}', "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "accounts_display_name_check" CHECK (char_length("display_name") BETWEEN 1 AND 200), CONSTRAINT "accounts_roles_check" CHECK ("roles" <@ ARRAY['admin']::text[]), CONSTRAINT "accounts_status_check" CHECK ("status" IN ('active', 'disabled')), CONSTRAINT "accounts_pkey" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "accounts_created_at_id_idx" ON "accounts"  ("created_at", "id") `);
    await queryRunner.query(
      `CREATE TABLE "audit_events" ("seq" bigint NOT NULL, "id" uuid NOT NULL DEFAULT gen_random_uuid(), "type" text NOT NULL, "actor_type" text NOT NULL, "actor_account_id" uuid, "subject_account_id" uuid, "details" jsonb NOT NULL DEFAULT '{}', "request_id" text, "occurred_at" TIMESTAMP WITH TIME ZONE NOT NULL, "prev_hash" bytea NOT NULL, "hash" bytea NOT NULL, CONSTRAINT "audit_events_id_key" UNIQUE ("id"), CONSTRAINT "audit_events_details_check" CHECK (jsonb_typeof("details") = 'object'), CONSTRAINT "audit_events_actor_type_check" CHECK ("actor_type" IN ('account', 'system', 'anonymous')), CONSTRAINT "audit_events_type_check" CHECK ("type" ~ '^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)+$'), CONSTRAINT "audit_events_pkey" PRIMARY KEY ("seq"))`,
    );
    await queryRunner.query(`CREATE INDEX "audit_events_occurred_at_idx" ON "audit_events"  ("occurred_at") `);
    await queryRunner.query(
      `CREATE INDEX "audit_events_actor_account_id_seq_idx" ON "audit_events"  ("actor_account_id", "seq") `,
    );
    await queryRunner.query(
      `CREATE INDEX "audit_events_subject_account_id_seq_idx" ON "audit_events"  ("subject_account_id", "seq") `,
    );
    await queryRunner.query(`CREATE INDEX "audit_events_type_seq_idx" ON "audit_events"  ("type", "seq") `);
    await queryRunner.query(
      `CREATE TABLE "identity_links" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "account_id" uuid NOT NULL, "provider" text NOT NULL, "issuer" text NOT NULL, "subject" text NOT NULL, "attributes" jsonb NOT NULL DEFAULT '{}', "first_login_at" TIMESTAMP WITH TIME ZONE NOT NULL, "last_login_at" TIMESTAMP WITH TIME ZONE NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "identity_links_account_provider_key" UNIQUE ("account_id", "provider"), CONSTRAINT "identity_links_provider_issuer_subject_key" UNIQUE ("provider", "issuer", "subject"), CONSTRAINT "identity_links_attributes_check" CHECK (jsonb_typeof("attributes") = 'object'), CONSTRAINT "identity_links_issuer_check" CHECK (char_length("issuer") BETWEEN 1 AND 2048), CONSTRAINT "identity_links_subject_check" CHECK (char_length("subject") BETWEEN 1 AND 255), CONSTRAINT "identity_links_provider_check" CHECK ("provider" IN ('digidentity', 'itsme', 'signicat-idin', 'signicat-eherkenning')), CONSTRAINT "identity_links_pkey" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE TABLE "login_transactions" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "provider" text NOT NULL, "purpose" text NOT NULL DEFAULT 'login', "state_hash" bytea NOT NULL, "nonce" text, "pkce_verifier" text, "return_to" text NOT NULL DEFAULT '/', "browser_binding_hash" bytea NOT NULL, "account_id" uuid, "provider_data" jsonb NOT NULL DEFAULT '{}', "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL, "consumed_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "login_transactions_state_hash_key" UNIQUE ("state_hash"), CONSTRAINT "login_transactions_provider_data_check" CHECK (jsonb_typeof("provider_data") = 'object'), CONSTRAINT "login_transactions_return_to_check" CHECK ("return_to" ~ '^/([^/\\\\]|$)' AND "return_to" !~ '[[:cntrl:]\\\\]'), CONSTRAINT "login_transactions_link_needs_account_check" CHECK ("purpose" = 'login' OR "account_id" IS NOT NULL), CONSTRAINT "login_transactions_browser_binding_hash_check" CHECK (octet_length("browser_binding_hash") = 32), CONSTRAINT "login_transactions_state_hash_check" CHECK (octet_length("state_hash") = 32), CONSTRAINT "login_transactions_purpose_check" CHECK ("purpose" IN ('login', 'link', 'reauthenticate')), CONSTRAINT "login_transactions_provider_check" CHECK ("provider" IN ('digidentity', 'itsme', 'signicat-idin', 'signicat-eherkenning')), CONSTRAINT "login_transactions_pkey" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "login_transactions_expires_at_idx" ON "login_transactions"  ("expires_at") `,
    );
    await queryRunner.query(
      `CREATE TABLE "pending_identities" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "provider" text NOT NULL, "issuer" text NOT NULL, "subject" text NOT NULL, "attributes" jsonb NOT NULL DEFAULT '{}', "raw_claims" jsonb NOT NULL DEFAULT '{}', "reason" text NOT NULL, "flags" jsonb NOT NULL DEFAULT '{}', "suspected_account_id" uuid, "browser_binding_hash" bytea, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL, "resolved_at" TIMESTAMP WITH TIME ZONE, "resolution" text, CONSTRAINT "pending_identities_attributes_check" CHECK (jsonb_typeof("attributes") = 'object' AND jsonb_typeof("raw_claims") = 'object' AND jsonb_typeof("flags") = 'object'), CONSTRAINT "pending_identities_browser_binding_hash_check" CHECK (octet_length("browser_binding_hash") = 32), CONSTRAINT "pending_identities_resolved_check" CHECK (("resolved_at" IS NULL) = ("resolution" IS NULL)), CONSTRAINT "pending_identities_resolution_check" CHECK ("resolution" IS NULL OR "resolution" IN ('attached', 'provisioned', 'rebound', 'rejected', 'expired')), CONSTRAINT "pending_identities_reason_check" CHECK ("reason" IN ('unknown_identity', 'probable_recreated_identity')), CONSTRAINT "pending_identities_provider_check" CHECK ("provider" IN ('digidentity', 'itsme', 'signicat-idin', 'signicat-eherkenning')), CONSTRAINT "pending_identities_pkey" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "pending_identities_created_at_idx" ON "pending_identities"  ("created_at") `,
    );
    await queryRunner.query(
      `CREATE INDEX "pending_identities_provider_issuer_subject_idx" ON "pending_identities"  ("provider", "issuer", "subject") `,
    );
    await queryRunner.query(
      `CREATE TABLE "sessions" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "token_hash" bytea NOT NULL, "account_id" uuid NOT NULL, "provider" text NOT NULL, "identity_link_id" uuid, "authenticated_at" TIMESTAMP WITH TIME ZONE NOT NULL, "auth_context" jsonb NOT NULL DEFAULT '{}', "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "last_seen_at" TIMESTAMP WITH TIME ZONE NOT NULL, "idle_expires_at" TIMESTAMP WITH TIME ZONE NOT NULL, "absolute_expires_at" TIMESTAMP WITH TIME ZONE NOT NULL, "revoked_at" TIMESTAMP WITH TIME ZONE, "revoke_reason" text, "client_ip" inet, "user_agent" text, CONSTRAINT "sessions_token_hash_key" UNIQUE ("token_hash"), CONSTRAINT "sessions_auth_context_check" CHECK (jsonb_typeof("auth_context") = 'object'), CONSTRAINT "sessions_token_hash_check" CHECK (octet_length("token_hash") = 32), CONSTRAINT "sessions_expiry_check" CHECK ("idle_expires_at" <= "absolute_expires_at"), CONSTRAINT "sessions_provider_check" CHECK ("provider" IN ('digidentity', 'itsme', 'signicat-idin', 'signicat-eherkenning')), CONSTRAINT "sessions_pkey" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "sessions_absolute_expires_at_idx" ON "sessions"  ("absolute_expires_at") `);
    await queryRunner.query(`CREATE INDEX "sessions_identity_link_id_idx" ON "sessions"  ("identity_link_id") `);
    await queryRunner.query(
      `CREATE INDEX "sessions_account_id_active_idx" ON "sessions"  ("account_id") WHERE "revoked_at" IS NULL`,
    );
    await queryRunner.query(
      `ALTER TABLE "identity_links" ADD CONSTRAINT "identity_links_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "accounts"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "login_transactions" ADD CONSTRAINT "login_transactions_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "accounts"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "pending_identities" ADD CONSTRAINT "pending_identities_suspected_account_id_fkey" FOREIGN KEY ("suspected_account_id") REFERENCES "accounts"("id") ON DELETE SET NULL ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "sessions" ADD CONSTRAINT "sessions_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "accounts"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "sessions" ADD CONSTRAINT "sessions_identity_link_id_fkey" FOREIGN KEY ("identity_link_id") REFERENCES "identity_links"("id") ON DELETE SET NULL ON UPDATE NO ACTION`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "sessions" DROP CONSTRAINT "sessions_identity_link_id_fkey"`);
    await queryRunner.query(`ALTER TABLE "sessions" DROP CONSTRAINT "sessions_account_id_fkey"`);
    await queryRunner.query(
      `ALTER TABLE "pending_identities" DROP CONSTRAINT "pending_identities_suspected_account_id_fkey"`,
    );
    await queryRunner.query(`ALTER TABLE "login_transactions" DROP CONSTRAINT "login_transactions_account_id_fkey"`);
    await queryRunner.query(`ALTER TABLE "identity_links" DROP CONSTRAINT "identity_links_account_id_fkey"`);
    await queryRunner.query(`DROP INDEX "public"."sessions_account_id_active_idx"`);
    await queryRunner.query(`DROP INDEX "public"."sessions_identity_link_id_idx"`);
    await queryRunner.query(`DROP INDEX "public"."sessions_absolute_expires_at_idx"`);
    await queryRunner.query(`DROP TABLE "sessions"`);
    await queryRunner.query(`DROP INDEX "public"."pending_identities_provider_issuer_subject_idx"`);
    await queryRunner.query(`DROP INDEX "public"."pending_identities_created_at_idx"`);
    await queryRunner.query(`DROP TABLE "pending_identities"`);
    await queryRunner.query(`DROP INDEX "public"."login_transactions_expires_at_idx"`);
    await queryRunner.query(`DROP TABLE "login_transactions"`);
    await queryRunner.query(`DROP TABLE "identity_links"`);
    await queryRunner.query(`DROP INDEX "public"."audit_events_type_seq_idx"`);
    await queryRunner.query(`DROP INDEX "public"."audit_events_subject_account_id_seq_idx"`);
    await queryRunner.query(`DROP INDEX "public"."audit_events_actor_account_id_seq_idx"`);
    await queryRunner.query(`DROP INDEX "public"."audit_events_occurred_at_idx"`);
    await queryRunner.query(`DROP TABLE "audit_events"`);
    await queryRunner.query(`DROP INDEX "public"."accounts_created_at_id_idx"`);
    await queryRunner.query(`DROP TABLE "accounts"`);
  }
}
