import type { MigrationInterface, QueryRunner } from 'typeorm';
import { recordDigestFunction } from './1796330569106-AuditSealedBatches.js';

const SIGNATURE = `audit_event_record_digest(
  p_id uuid, p_txid bigint, p_seq bigint, p_occurred_at timestamptz, p_type text, p_actor_type text,
  p_actor_account_id uuid, p_subject_account_id uuid, p_details jsonb, p_request_id text
)`;

/** A field of the canonical text: `-` for NULL, else its UTF-8 byte length, `:` and the text. */
const canonical = (text: string) =>
  `CASE WHEN ${text} IS NULL THEN '-' ELSE octet_length(convert_to(${text}, 'UTF8'))::text || ':' || ${text} END`;

/**
 * The same digest of an audit event, the same bytes, computed by one PL/pgSQL expression instead of a SQL function
 * over `unnest`. The audit trigger calls it once per event, each time in a new transaction, where a SQL function
 * that cannot be inlined is planned again on every call: about 70 µs per event against 13 µs (a login writes one).
 * The event's details and its time are turned into text once; the other fields are cheap casts.
 */
export class AuditDigestInPlpgsql1796600000000 implements MigrationInterface {
  name = 'AuditDigestInPlpgsql1796600000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const fields = [
      'p_id::text',
      'p_txid::text',
      'p_seq::text',
      'occurred_at',
      'p_type',
      'p_actor_type',
      'p_actor_account_id::text',
      'p_subject_account_id::text',
      'details',
      'p_request_id',
    ];
    await queryRunner.query(`
      CREATE OR REPLACE FUNCTION ${SIGNATURE} RETURNS bytea LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
      DECLARE
        occurred_at text := to_char(p_occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"');
        details text := p_details::text;
      BEGIN
        RETURN sha256(convert_to(${fields.map(canonical).join(` || '|' || `)}, 'UTF8'));
      END
      $$`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(recordDigestFunction('CREATE OR REPLACE'));
  }
}
