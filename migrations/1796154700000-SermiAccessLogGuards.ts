import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Makes the SERMI access log append-only in the database itself and gives it its one delete path.
 *
 * - Every record is stamped with the writing transaction's id (`txid`) and the time; callers cannot choose
 *   either. The sealer (SermiLogSealer) chains records in batches by txid range, so a write takes no lock.
 * - UPDATE and TRUNCATE are refused on the log, its seals and its anchors. DELETE is refused too, except inside
 *   `sermi_log_purge()`: a SECURITY DEFINER function that removes whole seals older than a cut-off, their
 *   records, and leaves an anchor (the last removed seal's hash) so the rest still verifies. It checks that it
 *   runs as the tables' owner, so a runtime role without ownership cannot take the delete path itself.
 */
export class SermiAccessLogGuards1796154700000 implements MigrationInterface {
  name = 'SermiAccessLogGuards1796154700000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE FUNCTION sermi_access_log_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        NEW.id := COALESCE(NEW.id, gen_random_uuid());
        NEW.txid := pg_current_xact_id()::text::bigint;
        NEW.recorded_at := clock_timestamp();
        RETURN NEW;
      END
      $$`);
    await queryRunner.query(`
      CREATE FUNCTION sermi_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'DELETE' AND TG_TABLE_NAME <> 'sermi_log_anchors'
           AND current_setting('rmi.sermi_log_purge', true) = 'on'
           AND current_user = (SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = TG_RELID) THEN
          RETURN OLD;
        END IF;
        RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
      END
      $$`);
    await queryRunner.query(`CREATE TRIGGER sermi_access_log_stamp BEFORE INSERT ON sermi_access_log
      FOR EACH ROW EXECUTE FUNCTION sermi_access_log_stamp()`);
    for (const table of ['sermi_access_log', 'sermi_log_seals', 'sermi_log_anchors']) {
      await queryRunner.query(`CREATE TRIGGER ${table}_append_only BEFORE UPDATE OR DELETE ON ${table}
        FOR EACH ROW EXECUTE FUNCTION sermi_log_refuse_change()`);
      await queryRunner.query(`CREATE TRIGGER ${table}_no_truncate BEFORE TRUNCATE ON ${table}
        FOR EACH STATEMENT EXECUTE FUNCTION sermi_log_refuse_change()`);
    }
    await queryRunner.query(`
      CREATE FUNCTION sermi_log_purge(p_before timestamptz)
        RETURNS TABLE (seals_removed integer, records_removed bigint, anchor_seal_seq bigint)
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
      DECLARE
        last_seal record;
        removed_seals integer;
        removed_records bigint;
      BEGIN
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
        DELETE FROM sermi_access_log WHERE txid < last_seal.to_txid;
        GET DIAGNOSTICS removed_records = ROW_COUNT;
        DELETE FROM sermi_log_seals WHERE seq <= last_seal.seq;
        GET DIAGNOSTICS removed_seals = ROW_COUNT;
        PERFORM set_config('rmi.sermi_log_purge', 'off', true);
        INSERT INTO sermi_log_anchors (seal_seq, seal_hash, to_txid, purged_before, seals_removed, records_removed)
        VALUES (last_seal.seq, last_seal.hash, last_seal.to_txid, p_before, removed_seals, removed_records);
        RETURN QUERY SELECT removed_seals, removed_records, last_seal.seq;
      END
      $$`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP FUNCTION sermi_log_purge(timestamptz)`);
    for (const table of ['sermi_log_anchors', 'sermi_log_seals', 'sermi_access_log']) {
      await queryRunner.query(`DROP TRIGGER ${table}_no_truncate ON ${table}`);
      await queryRunner.query(`DROP TRIGGER ${table}_append_only ON ${table}`);
    }
    await queryRunner.query(`DROP TRIGGER sermi_access_log_stamp ON sermi_access_log`);
    await queryRunner.query(`DROP FUNCTION sermi_log_refuse_change()`);
    await queryRunner.query(`DROP FUNCTION sermi_access_log_stamp()`);
  }
}
