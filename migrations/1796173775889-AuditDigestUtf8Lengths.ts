import type { MigrationInterface, QueryRunner } from 'typeorm';

const digestFunction = (byteLength: (field: string) => string) => `
  CREATE OR REPLACE FUNCTION audit_event_digest(
    p_prev_hash bytea, p_seq bigint, p_id uuid, p_type text, p_actor_type text, p_actor_account_id uuid,
    p_subject_account_id uuid, p_details jsonb, p_request_id text, p_occurred_at timestamptz
  ) RETURNS bytea LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT sha256(p_prev_hash || convert_to(string_agg(
             CASE WHEN field IS NULL THEN '-' ELSE ${byteLength('field')}::text || ':' || field END, '|' ORDER BY position),
           'UTF8'))
      FROM unnest(ARRAY[
             p_seq::text, p_id::text, p_type, p_actor_type, p_actor_account_id::text, p_subject_account_id::text,
             p_details::text, p_request_id,
             to_char(p_occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
           ]) WITH ORDINALITY AS fields(field, position)
  $$`;

/**
 * The audit digest counts each field's length in UTF-8 bytes, as the verifier does, whatever the database's
 * encoding (octet_length alone counts the database's own bytes: one for é in a LATIN1 database, two in UTF-8, so
 * verification failed there on the first non-ASCII event). In a UTF8 database both give the same digest, so
 * existing chains verify unchanged.
 */
export class AuditDigestUtf8Lengths1796173775889 implements MigrationInterface {
  name = 'AuditDigestUtf8Lengths1796173775889';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(digestFunction((field) => `octet_length(convert_to(${field}, 'UTF8'))`));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(digestFunction((field) => `octet_length(${field})`));
  }
}
