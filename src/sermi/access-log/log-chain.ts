import { createHash } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { canonicalFields, utcMicros } from '../../common/hash-chain/canonical.js';
import { sqlRows } from '../../database/sql.js';

/** A seal holds at most about this many records (more only when one transaction wrote more). */
export const MAX_RECORDS_PER_SEAL = 5000;
export const GENESIS = { seq: '0', hash: Buffer.alloc(32), toTxid: '0' };
export const SEAL_LOCK = `hashtext('sermi_log.seal')`;

/** Every column of a record, as the text its digest covers (the order is part of the format). */
const RECORD_FIELDS = `id::text AS id, txid::text AS txid, ${utcMicros('recorded_at')} AS recorded_at, kind, login_method,
  account_id::text AS account_id, session_id::text AS session_id, actor_type, sub, cabuid, iouid, ioeuid, rssuid, rsseuid,
  vin, item_code, item_security_related::text AS item_security_related, decision, reason, client_ip::text AS client_ip,
  user_agent, request_id`;

export type RecordRow = Record<string, string | null> & { id: string; txid: string; recorded_at: string };

export function recordDigest(row: RecordRow): Buffer {
  const fields = [
    row.id,
    row.txid,
    row.recorded_at,
    row.kind,
    row.login_method,
    row.account_id,
    row.session_id,
    row.actor_type,
    row.sub,
    row.cabuid,
    row.iouid,
    row.ioeuid,
    row.rssuid,
    row.rsseuid,
    row.vin,
    row.item_code,
    row.item_security_related,
    row.decision,
    row.reason,
    row.client_ip,
    row.user_agent,
    row.request_id,
  ];
  return createHash('sha256').update(canonicalFields(fields), 'utf8').digest();
}

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
  limit: number | null,
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
      ORDER BY sermi_access_log.txid, sermi_access_log.id ${limit === null ? '' : `LIMIT ${limit}`}`,
    params,
  );
}
