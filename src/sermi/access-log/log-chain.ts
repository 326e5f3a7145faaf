import { createHash } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { canonicalFields, canonicalFieldsSql, utcMicros } from '../../common/hash-chain/canonical.js';
import { sqlRows } from '../../database/sql.js';

/** A seal holds at most about this many records (more only when one transaction wrote more). */
export const MAX_RECORDS_PER_SEAL = 5000;
export const GENESIS = { seq: '0', hash: Buffer.alloc(32), toTxid: '0' };
export const SEAL_LOCK = `hashtext('sermi_log.seal')`;

/** Every column of a record as the SQL text its digest covers, by name (the order is part of the format). */
const RECORD_FIELD_SQL: readonly (readonly [name: string, expression: string])[] = [
  ['id', 'id::text'],
  ['txid', 'txid::text'],
  ['recorded_at', utcMicros('recorded_at')],
  ['kind', 'kind'],
  ['login_method', 'login_method'],
  ['account_id', 'account_id::text'],
  ['session_id', 'session_id::text'],
  ['actor_type', 'actor_type'],
  ['sub', 'sub'],
  ['cabuid', 'cabuid'],
  ['iouid', 'iouid'],
  ['ioeuid', 'ioeuid'],
  ['rssuid', 'rssuid'],
  ['rsseuid', 'rsseuid'],
  ['vin', 'vin'],
  ['item_code', 'item_code'],
  ['item_security_related', 'item_security_related::text'],
  ['decision', 'decision'],
  ['reason', 'reason'],
  ['client_ip', 'client_ip::text'],
  ['user_agent', 'user_agent'],
  ['request_id', 'request_id'],
];

const RECORD_FIELDS = RECORD_FIELD_SQL.map(([name, expression]) => `${expression} AS ${name}`).join(', ');

export type RecordRow = Record<string, string | null> & { id: string; txid: string; recorded_at: string };

/** A record's digest, computed here from its fields (the verifier's way: independent of the database's). */
export function recordDigest(row: RecordRow): Buffer {
  const fields = RECORD_FIELD_SQL.map(([name]) => row[name]);
  return createHash('sha256').update(canonicalFields(fields), 'utf8').digest();
}

/**
 * The same digest computed by Postgres (the sealer's way): the records never travel to the app, so sealing
 * thousands of them costs the app's event loop nothing but one small answer.
 */
const RECORD_DIGEST_SQL = `sha256(convert_to(${canonicalFieldsSql(RECORD_FIELD_SQL.map(([, e]) => e))}, 'UTF8'))`;

export interface SealFields {
  seq: string;
  fromTxid: string;
  toTxid: string;
  recordCount: number;
  lastRecordedAt: string;
  prevHash: Buffer;
  digests: Buffer;
}

export function sealHash(seal: SealFields): Buffer {
  return createHash('sha256')
    .update(seal.prevHash)
    .update(
      canonicalFields([seal.seq, seal.fromTxid, seal.toTxid, String(seal.recordCount), seal.lastRecordedAt]),
      'utf8',
    )
    .update(seal.digests)
    .digest();
}

export type LogBreak =
  | 'seal_gap'
  | 'previous_hash_mismatch'
  | 'seal_hash_mismatch'
  | 'record_changed'
  | 'record_missing'
  | 'record_unexpected';

export interface LogVerification {
  valid: boolean;
  checkedSeals: number;
  checkedRecords: number;
  /** Records not sealed yet (written since the last seal): not covered by this verification. */
  unsealedRecords: number;
  /** Where verification started: the last retention purge's anchor, or null for the genesis. */
  anchorSealSeq: string | null;
  head: { seq: string; hash: string } | null;
  firstBroken: { sealSeq: string; problem: LogBreak; recordId?: string } | null;
}

export interface StoredSeal {
  seq: string;
  from_txid: string;
  to_txid: string;
  record_count: number;
  record_ids: string[];
  record_digests: Buffer;
  last_recorded_at: string;
  prev_hash: Buffer;
  hash: Buffer;
}

export interface ChainPosition {
  seq: string;
  hash: Buffer;
  toTxid: string;
}

/** The last retention purge's anchor: where the remaining chain starts. */
export async function anchorOf(manager: EntityManager): Promise<ChainPosition | null> {
  const [anchor] = await sqlRows<{ seal_seq: string; seal_hash: Buffer; to_txid: string }>(
    manager,
    `SELECT seal_seq, seal_hash, to_txid FROM sermi_log_anchors ORDER BY id DESC LIMIT 1`,
  );
  return anchor ? { seq: anchor.seal_seq, hash: anchor.seal_hash, toTxid: anchor.to_txid } : null;
}

/** The last seal, or the last purge's anchor, or the genesis. */
export async function chainEnd(manager: EntityManager): Promise<ChainPosition> {
  const [last] = await sqlRows<{ seq: string; hash: Buffer; to_txid: string }>(
    manager,
    `SELECT seq, hash, to_txid FROM sermi_log_seals ORDER BY seq DESC LIMIT 1`,
  );
  if (last) return { seq: last.seq, hash: last.hash, toTxid: last.to_txid };
  return (await anchorOf(manager)) ?? GENESIS;
}

/**
 * Records written by transactions with ids in [fromTxid, toTxid), in chain order, after `after` when given. The
 * order names the table's columns: the select list's text aliases would sort transaction 1000 before 999.
 */
export function recordsBetween(
  manager: EntityManager,
  fromTxid: string,
  toTxid: string,
  limit: number,
  after?: { txid: string; id: string },
): Promise<RecordRow[]> {
  const params: unknown[] = [fromTxid, toTxid];
  let keyset = '';
  if (after) {
    params.push(after.txid, after.id);
    keyset = `AND (txid, id) > ($3::bigint, $4::uuid)`;
  }
  return sqlRows<RecordRow>(
    manager,
    `SELECT ${RECORD_FIELDS} FROM sermi_access_log
      WHERE txid >= $1::bigint AND txid < $2::bigint ${keyset}
      ORDER BY sermi_access_log.txid, sermi_access_log.id LIMIT ${limit}`,
    params,
  );
}

/**
 * Where the next seal after `fromTxid` ends, given that every transaction below `horizon` has ended: at
 * `horizon`, or earlier so that a seal holds about MAX_RECORDS_PER_SEAL records — always whole transactions, so one
 * transaction that wrote more is sealed whole. Null when there is nothing to seal.
 */
export async function nextSealEnd(manager: EntityManager, fromTxid: string, horizon: string): Promise<string | null> {
  const [{ first, cut }] = await sqlRows<{ first: string | null; cut: string | null }>(
    manager,
    `SELECT (SELECT l.txid FROM sermi_access_log l WHERE l.txid >= $1::bigint AND l.txid < $2::bigint
              ORDER BY l.txid, l.id LIMIT 1)::text AS first,
            (SELECT l.txid FROM sermi_access_log l WHERE l.txid >= $1::bigint AND l.txid < $2::bigint
              ORDER BY l.txid, l.id OFFSET ${MAX_RECORDS_PER_SEAL} LIMIT 1)::text AS cut`,
    [fromTxid, horizon],
  );
  if (first === null) return null;
  if (cut === null) return horizon;
  return cut === first ? (BigInt(cut) + 1n).toString() : cut;
}

/** sealHash's canonical fields, over the columns of appendSeal's content and its parameters. */
const SEAL_CANONICAL_SQL = canonicalFieldsSql([
  '$1::bigint::text',
  '$2::bigint::text',
  '$3::bigint::text',
  'record_count::text',
  utcMicros('last_recorded_at'),
]);

/**
 * Appends the seal of the records in [fromTxid, toTxid) in one statement, computed by the database: the record
 * digests (RECORD_DIGEST_SQL), their ids and the seal hash (sealHash's formula in SQL), so ids, digests and count
 * come from one snapshot and nothing travels to the app. The verifier recomputes all of it in Node.
 */
export async function appendSeal(
  manager: EntityManager,
  seal: { seq: string; fromTxid: string; toTxid: string; prevHash: Buffer },
): Promise<number> {
  const [appended] = await sqlRows<{ record_count: number }>(
    manager,
    `WITH content AS (
       SELECT count(*)::int AS record_count, array_agg(id ORDER BY txid, id) AS record_ids,
              string_agg(${RECORD_DIGEST_SQL}, ''::bytea ORDER BY txid, id) AS record_digests,
              max(recorded_at) AS last_recorded_at
         FROM sermi_access_log WHERE txid >= $2::bigint AND txid < $3::bigint
     )
     INSERT INTO sermi_log_seals (seq, from_txid, to_txid, record_count, record_ids, record_digests, last_recorded_at,
                                  prev_hash, hash)
     SELECT $1::bigint, $2::bigint, $3::bigint, record_count, record_ids, record_digests, last_recorded_at, $4::bytea,
            sha256($4::bytea || convert_to(${SEAL_CANONICAL_SQL}, 'UTF8') || record_digests)
       FROM content
     RETURNING record_count`,
    [seal.seq, seal.fromTxid, seal.toTxid, seal.prevHash],
  );
  return appended.record_count;
}
