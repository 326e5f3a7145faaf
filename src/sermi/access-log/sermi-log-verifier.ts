import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { utcMicros } from '../../common/hash-chain/canonical.js';
import { sqlRows } from '../../database/sql.js';
import {
  anchorOf,
  type ChainPosition,
  GENESIS,
  type LogBreak,
  type LogVerification,
  MAX_RECORDS_PER_SEAL,
  recordDigest,
  recordsBetween,
  type SealFields,
  sealHash,
  type StoredSeal,
} from './log-chain.js';

/** Checks the SERMI access log's hash chain; reads only. */
@Injectable()
export class SermiLogVerifier {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Walks the sealed chain from the last purge anchor (or the genesis), recomputing every seal's hash and every
   * record's digest here in Node, and reports the first seal or record that does not add up.
   */
  async verify(): Promise<LogVerification> {
    const manager = this.dataSource.manager;
    const anchor = await anchorOf(manager);
    let previous = anchor ?? GENESIS;
    let checkedSeals = 0;
    let checkedRecords = 0;
    const result = (firstBroken: LogVerification['firstBroken'], unsealedRecords: number): LogVerification => ({
      valid: firstBroken === null,
      checkedSeals,
      checkedRecords,
      unsealedRecords,
      anchorSealSeq: anchor?.seq ?? null,
      head: checkedSeals > 0 && !firstBroken ? { seq: previous.seq, hash: previous.hash.toString('hex') } : null,
      firstBroken,
    });
    const [stale] = await sqlRows<{ id: string }>(
      manager,
      `SELECT id FROM sermi_access_log WHERE txid < $1::bigint LIMIT 1`,
      [previous.toTxid],
    );
    if (stale) return result({ sealSeq: previous.seq, problem: 'record_unexpected', recordId: stale.id }, 0);
    for (;;) {
      const seals = await sqlRows<StoredSeal>(
        manager,
        `SELECT seq, from_txid, to_txid, record_count, record_ids::text[] AS record_ids, record_digests, ${utcMicros('last_recorded_at')}
                AS last_recorded_at, prev_hash, hash
           FROM sermi_log_seals WHERE seq > $1::bigint ORDER BY seq LIMIT 50`,
        [previous.seq],
      );
      for (const seal of seals) {
        const broken = await this.checkSeal(seal, previous);
        if (broken) return result({ sealSeq: seal.seq, ...broken }, 0);
        previous = { seq: seal.seq, hash: seal.hash, toTxid: seal.to_txid };
        checkedSeals += 1;
        checkedRecords += seal.record_count;
      }
      if (seals.length < 50) break;
    }
    const [{ unsealed }] = await sqlRows<{ unsealed: number }>(
      manager,
      `SELECT count(*)::int AS unsealed FROM sermi_access_log WHERE txid >= $1::bigint`,
      [previous.toTxid],
    );
    return result(null, unsealed);
  }

  private async checkSeal(
    seal: StoredSeal,
    previous: ChainPosition,
  ): Promise<{ problem: LogBreak; recordId?: string } | null> {
    if (BigInt(seal.seq) !== BigInt(previous.seq) + 1n || seal.from_txid !== previous.toTxid) {
      return { problem: 'seal_gap' };
    }
    if (!seal.prev_hash.equals(previous.hash)) return { problem: 'previous_hash_mismatch' };
    const fields: SealFields = {
      seq: seal.seq,
      fromTxid: seal.from_txid,
      toTxid: seal.to_txid,
      recordCount: seal.record_count,
      lastRecordedAt: seal.last_recorded_at,
      prevHash: seal.prev_hash,
      digests: seal.record_digests,
    };
    if (!sealHash(fields).equals(seal.hash)) return { problem: 'seal_hash_mismatch' };
    const expected = new Set(seal.record_ids);
    let position = 0;
    let after: { txid: string; id: string } | undefined;
    for (;;) {
      const rows = await recordsBetween(
        this.dataSource.manager,
        seal.from_txid,
        seal.to_txid,
        MAX_RECORDS_PER_SEAL,
        after,
      );
      for (const row of rows) {
        const expectedId = seal.record_ids[position];
        if (row.id !== expectedId) {
          return expected.has(row.id)
            ? { problem: 'record_missing', recordId: expectedId }
            : { problem: 'record_unexpected', recordId: row.id };
        }
        const digest = seal.record_digests.subarray(position * 32, position * 32 + 32);
        if (!recordDigest(row).equals(digest)) return { problem: 'record_changed', recordId: row.id };
        position += 1;
      }
      if (rows.length < MAX_RECORDS_PER_SEAL) break;
      after = { txid: rows.at(-1)!.txid, id: rows.at(-1)!.id };
    }
    if (position < seal.record_count) return { problem: 'record_missing', recordId: seal.record_ids[position] };
    return null;
  }
}
