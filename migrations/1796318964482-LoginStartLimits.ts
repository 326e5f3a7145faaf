import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Called inside the statement that stores a new login, before the insert: at most `p_max_open` open logins per
 * browser, the oldest beyond that expired at once (their callback answers login_expired, a poll `expired`).
 * Exact across instances: the starts of one browser take turns on an advisory lock held until their transaction
 * ends, and the function's statements take their own snapshots (it is volatile), so they see the logins a start
 * that held the lock before committed. Only logins created within `p_horizon_seconds` (the longest lifetime a
 * login can have) are looked at; older ones have expired anyway.
 */
const MAKE_ROOM = `
  CREATE FUNCTION login_transactions_make_room(
    p_browser_binding_hash bytea, p_max_open integer, p_horizon_seconds integer
  ) RETURNS integer LANGUAGE plpgsql VOLATILE AS $$
  DECLARE
    retired integer;
  BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('login_transactions.browser'),
                                  hashtext(encode(p_browser_binding_hash, 'hex')));
    UPDATE login_transactions SET expires_at = now()
     WHERE id IN (SELECT id FROM login_transactions
                   WHERE browser_binding_hash = p_browser_binding_hash
                     AND created_at > now() - make_interval(secs => p_horizon_seconds)
                     AND consumed_at IS NULL AND expires_at > now()
                   ORDER BY created_at DESC, id DESC
                  OFFSET greatest(p_max_open - 1, 0));
    GET DIAGNOSTICS retired = ROW_COUNT;
    RETURN retired;
  END $$`;

export class LoginStartLimits1796318964482 implements MigrationInterface {
  name = 'LoginStartLimits1796318964482';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "login_start_counters" ("kind" text NOT NULL, "client_key" text NOT NULL, "window_start" TIMESTAMP WITH TIME ZONE NOT NULL, "hits" integer NOT NULL DEFAULT '1', CONSTRAINT "login_start_counters_hits_check" CHECK ("hits" > 0), CONSTRAINT "login_start_counters_client_key_check" CHECK (length("client_key") BETWEEN 1 AND 64), CONSTRAINT "login_start_counters_kind_check" CHECK ("kind" IN ('login', 'passwordless')), CONSTRAINT "login_start_counters_pkey" PRIMARY KEY ("kind", "client_key", "window_start"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "login_transactions_browser_binding_idx" ON "login_transactions"  ("browser_binding_hash", "created_at") `,
    );
    await queryRunner.query(MAKE_ROOM);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP FUNCTION login_transactions_make_room(bytea, integer, integer)`);
    await queryRunner.query(`DROP INDEX "public"."login_transactions_browser_binding_idx"`);
    await queryRunner.query(`DROP TABLE "login_start_counters"`);
  }
}
