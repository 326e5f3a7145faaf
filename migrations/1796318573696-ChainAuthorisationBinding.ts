import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Freshness comes only from the provider: `sessions.authenticated_at` and the new `pending_identities.authenticated_at`
 * hold its `auth_time` and are null when it did not say. Sessions keep the ID token as `id_token_hint` for
 * RP-initiated logout. The RSSE vehicle binding moves from the portal session to the chain authorisation (RSSEUID,
 * IOEUID, Trust Centre auth_time); existing bindings are carried over from their sessions, the first one kept.
 */
export class ChainAuthorisationBinding1796318573696 implements MigrationInterface {
  name = 'ChainAuthorisationBinding1796318573696';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "sessions" ALTER COLUMN "authenticated_at" DROP NOT NULL`);
    await queryRunner.query(`ALTER TABLE "sessions" ADD "id_token_hint" text`);
    await queryRunner.query(`ALTER TABLE "pending_identities" ADD "authenticated_at" TIMESTAMP WITH TIME ZONE`);
    await queryRunner.query(
      `ALTER TABLE "sermi_chain_bindings" ADD "rsseuid" text, ADD "ioeuid" text,
         ADD "authenticated_at" TIMESTAMP WITH TIME ZONE, ADD "bound_by_session_id" uuid`,
    );
    await queryRunner.query(
      `UPDATE "sermi_chain_bindings" b
          SET "rsseuid" = s."auth_context" #>> '{sermi,actor,uid}',
              "ioeuid" = s."auth_context" #>> '{sermi,principal,ioeuid}',
              "authenticated_at" = s."authenticated_at", "bound_by_session_id" = b."session_id"
         FROM "sessions" s WHERE s."id" = b."session_id"`,
    );
    await queryRunner.query(
      `DELETE FROM "sermi_chain_bindings" b
        WHERE b."rsseuid" IS NULL OR b."ioeuid" IS NULL OR b."authenticated_at" IS NULL
           OR EXISTS (SELECT 1 FROM "sermi_chain_bindings" o
                       WHERE o."rsseuid" = b."rsseuid" AND o."ioeuid" = b."ioeuid"
                         AND o."authenticated_at" = b."authenticated_at"
                         AND (o."bound_at", o."session_id") < (b."bound_at", b."session_id"))`,
    );
    await queryRunner.query(
      `ALTER TABLE "sermi_chain_bindings" DROP CONSTRAINT "sermi_chain_bindings_session_id_fkey",
         DROP CONSTRAINT "sermi_chain_bindings_pkey", DROP COLUMN "session_id",
         ALTER COLUMN "rsseuid" SET NOT NULL, ALTER COLUMN "ioeuid" SET NOT NULL,
         ALTER COLUMN "authenticated_at" SET NOT NULL,
         ADD CONSTRAINT "sermi_chain_bindings_pkey" PRIMARY KEY ("rsseuid", "ioeuid", "authenticated_at")`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DELETE FROM "sermi_chain_bindings" WHERE "bound_by_session_id" IS NULL`);
    await queryRunner.query(
      `ALTER TABLE "sermi_chain_bindings" DROP CONSTRAINT "sermi_chain_bindings_pkey",
         DROP COLUMN "rsseuid", DROP COLUMN "ioeuid", DROP COLUMN "authenticated_at"`,
    );
    await queryRunner.query(`ALTER TABLE "sermi_chain_bindings" RENAME COLUMN "bound_by_session_id" TO "session_id"`);
    await queryRunner.query(
      `ALTER TABLE "sermi_chain_bindings" ALTER COLUMN "session_id" SET NOT NULL,
         ADD CONSTRAINT "sermi_chain_bindings_pkey" PRIMARY KEY ("session_id"),
         ADD CONSTRAINT "sermi_chain_bindings_session_id_fkey" FOREIGN KEY ("session_id") REFERENCES "sessions"("id")
           ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(`ALTER TABLE "pending_identities" DROP COLUMN "authenticated_at"`);
    await queryRunner.query(`ALTER TABLE "sessions" DROP COLUMN "id_token_hint"`);
    await queryRunner.query(`UPDATE "sessions" SET "authenticated_at" = "created_at" WHERE "authenticated_at" IS NULL`);
    await queryRunner.query(`ALTER TABLE "sessions" ALTER COLUMN "authenticated_at" SET NOT NULL`);
  }
}
