import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The table's owner, named with pg_catalog's schema: an unqualified `pg_class` is looked up in the session's
 * temporary schema first, where any role can create a table of that name naming itself the owner.
 */
const TABLE_OWNER = `(SELECT pg_catalog.pg_get_userbyid(relowner) FROM pg_catalog.pg_class WHERE oid = TG_RELID)`;

/** The access log's append-only guard, its delete path open only to the owner inside sermi_log_purge(). */
const refuseChange = (owner: string) => `
  CREATE OR REPLACE FUNCTION sermi_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    IF TG_OP = 'DELETE' AND TG_TABLE_NAME <> 'sermi_log_anchors'
       AND current_setting('rmi.sermi_log_purge', true) = 'on'
       AND current_user = ${owner} THEN
      RETURN OLD;
    END IF;
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
  END
  $$`;

/**
 * Stamps an audit event. `sequence` names `audit_events_seq` with its schema: unqualified, a temporary sequence of that
 * name in the writer's own session came first, and the runtime role could choose its events' `seq` (the primary key:
 * numbers claimed ahead would fail every later audit write).
 */
const auditStamp = (sequence: string) => `
  CREATE OR REPLACE FUNCTION audit_events_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    NEW.seq := nextval('${sequence}');
    NEW.txid := pg_current_xact_id()::text::bigint;
    NEW.occurred_at := clock_timestamp();
    NEW.id := COALESCE(NEW.id, gen_random_uuid());
    NEW.details := COALESCE(NEW.details, '{}'::jsonb);
    NEW.prev_hash := NULL;
    NEW.hash := audit_event_record_digest(NEW.id, NEW.txid, NEW.seq, NEW.occurred_at, NEW.type, NEW.actor_type,
                                          NEW.actor_account_id, NEW.subject_account_id, NEW.details,
                                          NEW.request_id);
    RETURN NEW;
  END
  $$`;

/** Refuses a change by anyone but the table's owner (the migrations' role). */
const OWNER_ONLY = `
  CREATE FUNCTION sermi_log_retention_owner_only() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    IF current_user = ${TABLE_OWNER} THEN
      RETURN COALESCE(NEW, OLD);
    END IF;
    RAISE EXCEPTION 'sermi_log_retention is changed by the database owner only: % refused', TG_OP
      USING ERRCODE = 'insufficient_privilege';
  END
  $$`;

const purgeFunction = (floor: boolean) => `
  CREATE OR REPLACE FUNCTION sermi_log_purge(p_before timestamptz)
    RETURNS TABLE (seals_removed integer, records_removed bigint, anchor_seal_seq bigint)
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
  DECLARE
    last_seal record;
    removed_seals integer;
    removed_records bigint;
    ${floor ? 'keep_days integer; youngest timestamptz;' : ''}
  BEGIN
    ${
      floor
        ? `-- The retention is the owner's to set: whoever calls this cannot purge younger records (an hour allowed
    -- for the clocks of the app's host and the database's; 0 days: no floor).
    SELECT minimum_days INTO keep_days FROM sermi_log_retention;
    IF keep_days > 0 AND p_before > now() - make_interval(hours => 24 * keep_days - 1) THEN
      RAISE EXCEPTION 'sermi_log_purge: the access log keeps records for % days (sermi_log_retention); cut-off % refused',
        keep_days, p_before USING ERRCODE = 'insufficient_privilege';
    END IF;`
        : ''
    }
    -- Serialised with the sealer, which appends to the same chain.
    PERFORM pg_advisory_xact_lock(hashtext('sermi_log.seal'));
    -- The oldest seals, up to the first one that still holds a record younger than the cut-off.
    SELECT s.seq, s.hash, s.to_txid INTO last_seal
      FROM sermi_log_seals s
     WHERE s.last_recorded_at < p_before
       AND NOT EXISTS (SELECT 1 FROM sermi_log_seals y WHERE y.seq < s.seq AND y.last_recorded_at >= p_before)
     ORDER BY s.seq DESC LIMIT 1;
    IF last_seal IS NULL THEN
      RETURN QUERY SELECT 0, 0::bigint, NULL::bigint;
      RETURN;
    END IF;
    PERFORM set_config('rmi.sermi_log_purge', 'on', true);
    ${
      floor
        ? `-- Seals are written by the runtime role: the records themselves (stamped by their trigger) must be older.
    WITH gone AS (DELETE FROM sermi_access_log WHERE txid < last_seal.to_txid RETURNING recorded_at)
    SELECT count(*), max(recorded_at) INTO removed_records, youngest FROM gone;
    IF youngest >= p_before THEN
      RAISE EXCEPTION 'sermi_log_purge: seal % covers records younger than the cut-off %: refused', last_seal.seq,
        p_before USING ERRCODE = 'insufficient_privilege';
    END IF;`
        : `DELETE FROM sermi_access_log WHERE txid < last_seal.to_txid;
    GET DIAGNOSTICS removed_records = ROW_COUNT;`
    }
    DELETE FROM sermi_log_seals WHERE seq <= last_seal.seq;
    GET DIAGNOSTICS removed_seals = ROW_COUNT;
    PERFORM set_config('rmi.sermi_log_purge', 'off', true);
    INSERT INTO sermi_log_anchors (seal_seq, seal_hash, to_txid, purged_before, seals_removed, records_removed)
    VALUES (last_seal.seq, last_seal.hash, last_seal.to_txid, p_before, removed_seals, removed_records);
    RETURN QUERY SELECT removed_seals, removed_records, last_seal.seq;
  END
  $$`;

/**
 * Closes two ways the runtime role (which writes records and seals, and calls the purge) could undo the logs'
 * tamper evidence without the verification noticing:
 *
 * - `sermi_log_purge(before)` took any cut-off, so the runtime role could purge the whole sealed access log, leaving
 *   an anchor that the rest verified from. It now refuses a cut-off younger than `sermi_log_retention.minimum_days`
 *   (one row, changed by the owner only; the app writes SERMI_LOG_RETENTION_DAYS there when it runs the
 *   migrations).
 *   The purge also refuses when the records a seal covers are younger than the cut-off (a seal the runtime role
 *   wrote claiming ancient records), and the access log's delete path and the retention row name their owner
 *   through `pg_catalog.pg_class`: unqualified, a temporary table of that name let the runtime role pose as it. For
 *   the same reason the audit trail's stamp names its sequence with its schema.
 * - A seal with a `to_txid` beyond every transaction started so far made the sealer stop for good (it saw the chain
 *   already sealed past its horizon) while the unsealed-tail figures read 0. A seal of either log may now reach no
 *   further than the inserting transaction's snapshot (`pg_snapshot_xmax`), which the sealer's horizon never passes.
 */
export class SealedLogGuards1796390000000 implements MigrationInterface {
  name = 'SealedLogGuards1796390000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE sermi_log_retention (
        singleton boolean PRIMARY KEY DEFAULT true CONSTRAINT sermi_log_retention_singleton_check CHECK (singleton),
        minimum_days integer NOT NULL CONSTRAINT sermi_log_retention_days_check CHECK (minimum_days >= 0)
      )`);
    await queryRunner.query(`INSERT INTO sermi_log_retention (minimum_days) VALUES (730)`);
    await queryRunner.query(OWNER_ONLY);
    await queryRunner.query(refuseChange(TABLE_OWNER));
    const [{ schema }] = await queryRunner.query(
      `SELECT quote_ident(n.nspname) AS schema FROM pg_catalog.pg_class c
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = 'audit_events_seq'::regclass`,
    );
    await queryRunner.query(auditStamp(`${schema}.audit_events_seq`));
    // Deployments grant the runtime role writes on every new table (deploy/postgres/runtime-role.sql): not on this one.
    await queryRunner.query(`
      DO $$
      DECLARE grantee text;
      BEGIN
        FOR grantee IN
          SELECT DISTINCT a.grantee::regrole::text FROM pg_catalog.pg_class c, aclexplode(c.relacl) a
           WHERE c.oid = 'sermi_log_retention'::regclass AND a.grantee NOT IN (0, c.relowner)
        LOOP
          EXECUTE format('REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON sermi_log_retention FROM %s', grantee);
        END LOOP;
        REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON sermi_log_retention FROM PUBLIC;
      END
      $$`);
    await queryRunner.query(`CREATE TRIGGER sermi_log_retention_owner_only BEFORE INSERT OR UPDATE OR DELETE
      ON sermi_log_retention FOR EACH ROW EXECUTE FUNCTION sermi_log_retention_owner_only()`);
    await queryRunner.query(`CREATE TRIGGER sermi_log_retention_no_truncate BEFORE TRUNCATE
      ON sermi_log_retention FOR EACH STATEMENT EXECUTE FUNCTION sermi_log_retention_owner_only()`);
    await queryRunner.query(purgeFunction(true));
    await queryRunner.query(`
      CREATE FUNCTION sealed_log_seal_in_reach() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.to_txid > pg_snapshot_xmax(pg_current_snapshot())::text::bigint THEN
          RAISE EXCEPTION '% reaches past every transaction started so far (to_txid %): refused', TG_TABLE_NAME,
            NEW.to_txid USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
      END
      $$`);
    for (const table of ['sermi_log_seals', 'audit_seals']) {
      await queryRunner.query(`CREATE TRIGGER ${table}_in_reach BEFORE INSERT ON ${table}
        FOR EACH ROW EXECUTE FUNCTION sealed_log_seal_in_reach()`);
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of ['audit_seals', 'sermi_log_seals']) {
      await queryRunner.query(`DROP TRIGGER ${table}_in_reach ON ${table}`);
    }
    await queryRunner.query(`DROP FUNCTION sealed_log_seal_in_reach()`);
    await queryRunner.query(purgeFunction(false));
    await queryRunner.query(auditStamp('audit_events_seq'));
    await queryRunner.query(refuseChange(`(SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = TG_RELID)`));
    await queryRunner.query(`DROP TABLE sermi_log_retention`);
    await queryRunner.query(`DROP FUNCTION sermi_log_retention_owner_only()`);
  }
}
