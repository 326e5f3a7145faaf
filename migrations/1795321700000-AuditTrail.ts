import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Makes `audit_events` append-only and hash-chained in the database itself, so no code path (and no future
 * module) can write an unchained row or change one without the chain verification noticing.
 *
 * hash(n) = sha256(hash(n-1) || utf8(canonical(row n))), hash(0) = 32 zero bytes, where canonical() joins the
 * columns as `<byte length>:<text>` (`-` for NULL) with `|`, so the verifier (AuditService.verifyChain)
 * recomputes it in Node instead of trusting a database function. Inserts are serialised by a transaction-scoped
 * advisory lock held from the insert to the commit, so the chain never forks.
 */
export class AuditTrail1795321700000 implements MigrationInterface {
  name = 'AuditTrail1795321700000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE FUNCTION audit_event_digest(
        p_prev_hash bytea, p_seq bigint, p_id uuid, p_type text, p_actor_type text, p_actor_account_id uuid,
        p_subject_account_id uuid, p_details jsonb, p_request_id text, p_occurred_at timestamptz
      ) RETURNS bytea LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT sha256(p_prev_hash || convert_to(string_agg(
                 CASE WHEN field IS NULL THEN '-' ELSE octet_length(field)::text || ':' || field END, '|' ORDER BY position),
               'UTF8'))
          FROM unnest(ARRAY[
                 p_seq::text, p_id::text, p_type, p_actor_type, p_actor_account_id::text, p_subject_account_id::text,
                 p_details::text, p_request_id,
                 to_char(p_occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
               ]) WITH ORDINALITY AS fields(field, position)
      $$`);
    await queryRunner.query(`
      CREATE FUNCTION audit_events_chain() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        previous record;
      BEGIN
        PERFORM pg_advisory_xact_lock(hashtext('audit_events.chain'));
        SELECT seq, hash INTO previous FROM audit_events ORDER BY seq DESC LIMIT 1;
        NEW.seq := COALESCE(previous.seq, 0) + 1;
        NEW.prev_hash := COALESCE(previous.hash, decode(repeat('00', 32), 'hex'));
        NEW.occurred_at := clock_timestamp();
        NEW.id := COALESCE(NEW.id, gen_random_uuid());
        NEW.details := COALESCE(NEW.details, '{}'::jsonb);
        NEW.hash := audit_event_digest(NEW.prev_hash, NEW.seq, NEW.id, NEW.type, NEW.actor_type, NEW.actor_account_id,
                                       NEW.subject_account_id, NEW.details, NEW.request_id, NEW.occurred_at);
        RETURN NEW;
      END
      $$`);
    await queryRunner.query(`
      CREATE FUNCTION audit_events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
      END
      $$`);
    await queryRunner.query(`CREATE TRIGGER audit_events_chain BEFORE INSERT ON audit_events
      FOR EACH ROW EXECUTE FUNCTION audit_events_chain()`);
    await queryRunner.query(`CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
      FOR EACH ROW EXECUTE FUNCTION audit_events_refuse_change()`);
    await queryRunner.query(`CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
      FOR EACH STATEMENT EXECUTE FUNCTION audit_events_refuse_change()`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TRIGGER audit_events_no_truncate ON audit_events`);
    await queryRunner.query(`DROP TRIGGER audit_events_append_only ON audit_events`);
    await queryRunner.query(`DROP TRIGGER audit_events_chain ON audit_events`);
    await queryRunner.query(`DROP FUNCTION audit_events_refuse_change()`);
    await queryRunner.query(`DROP FUNCTION audit_events_chain()`);
    await queryRunner.query(
      `DROP FUNCTION audit_event_digest(bytea, bigint, uuid, text, text, uuid, uuid, jsonb, text, timestamptz)`,
    );
  }
}
