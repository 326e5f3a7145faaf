import type { EntityManager } from 'typeorm';
import { utcMicros } from '../../common/hash-chain/canonical.js';
import {
  recordDigest as sealedRecordDigest,
  recordsBetween as sealedRecordsBetween,
  type LogBreak,
  type RecordRow,
  type SealedLog,
} from '../../common/hash-chain/sealed-log.js';

/**
 * The SERMI access log as a sealed log (src/common/hash-chain/sealed-log.ts): its tables, its lock, and every column
 * of a record as the SQL text its digest covers, by name (the order is part of the format).
 */
export const SERMI_LOG: SealedLog = {
  records: 'sermi_access_log',
  recordedAt: 'recorded_at',
  seals: 'sermi_log_seals',
  anchors: 'sermi_log_anchors',
  sealLock: `hashtext('sermi_log.seal')`,
  fields: [
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
  ],
};

/** A record's digest, computed in Node from its fields. */
export const recordDigest = (row: RecordRow): Buffer => sealedRecordDigest(SERMI_LOG, row);

/** Records written by transactions with ids in [fromTxid, toTxid), in chain order. */
export const recordsBetween = (
  manager: EntityManager,
  fromTxid: string,
  toTxid: string,
  limit: number,
  after?: { txid: string; id: string },
): Promise<RecordRow[]> => sealedRecordsBetween(manager, SERMI_LOG, fromTxid, toTxid, limit, after);

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
