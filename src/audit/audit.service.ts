import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { canonicalFields } from '../common/hash-chain/canonical.js';
import { type LogBreak, sealAll, verifySealedLog } from '../common/hash-chain/sealed-log.js';
import type { AuditEventInput } from './audit-event-types.js';
import {
  AUDIT_LOG,
  auditAnchor,
  insertEvent,
  insertEvents,
  type LegacyEvent,
  legacyEvents,
  type RecordedAuditEvent,
  seqOfEvent,
} from './audit-events.repository.js';

export type { RecordedAuditEvent } from './audit-events.repository.js';

/** What can be wrong: a link of the legacy prefix, or (as for the SERMI access log) a seal or a sealed event. */
export type AuditBreak =
  'hash_mismatch' | 'previous_hash_mismatch' | 'sequence_gap' | 'legacy_head_mismatch' | 'anchor_missing' | LogBreak;

export interface BrokenLink {
  /** The event's position (as the admin API shows it), when the event exists. */
  seq: string | null;
  problem: AuditBreak;
  /** The seal that no longer adds up (sealed events only). */
  sealSeq?: string;
  eventId?: string;
}

export interface ChainVerification {
  valid: boolean;
  /** Events checked: the legacy prefix and every sealed event. */
  checkedEvents: number;
  checkedSeals: number;
  /** Events not sealed yet (their transactions were still open): not covered by this verification. */
  unsealedEvents: number;
  /** The chain's head to record outside the database: the last seal ("0": the legacy prefix's head, no seal yet). */
  head: { sealSeq: string; hash: string } | null;
  firstBroken: BrokenLink | null;
}

const GENESIS_HASH = Buffer.alloc(32);

@Injectable()
export class AuditService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Appends an event. Pass the transaction's EntityManager so the event commits or rolls back with the change it
   * describes. Position, time and digest are stamped by the database trigger, which takes no lock: concurrent
   * writers never wait for each other; the audit sealer chains the event after its transaction ends.
   */
  record(event: AuditEventInput, manager: EntityManager = this.dataSource.manager): Promise<RecordedAuditEvent> {
    return insertEvent(manager, event);
  }

  /**
   * An administrator's read of a list, on the record like every admin read: who, with which filters (not the page
   * cursor) and how many rows they were shown.
   */
  recordListRead(
    type: string,
    adminId: string,
    requestId: string | null,
    query: object,
    results: number,
  ): Promise<RecordedAuditEvent> {
    return this.record({
      type,
      actor: { type: 'account', accountId: adminId },
      requestId,
      details: { query: { ...query, cursor: undefined }, results },
    });
  }

  /** Appends several events in one statement, in this order. */
  recordAll(
    events: readonly AuditEventInput[],
    manager: EntityManager = this.dataSource.manager,
  ): Promise<RecordedAuditEvent[]> {
    return events.length === 0 ? Promise.resolve([]) : insertEvents(manager, events);
  }

  /** Seals every event whose transaction has ended (what the audit sealer does on its schedule). */
  seal(): Promise<number> {
    return sealAll(this.dataSource, AUDIT_LOG);
  }

  /**
   * Seals what can be sealed, then checks the whole trail: the legacy prefix link by link up to the anchor, then
   * every seal and sealed event from the anchor. All hashes are recomputed here from the stored values, so a
   * replaced database function cannot vouch for tampered rows. Events of transactions still open are counted as
   * unsealed. `seal: false` only reads.
   */
  async verifyChain(options: { batchSize?: number; seal?: boolean } = {}): Promise<ChainVerification> {
    if (options.seal ?? true) await this.seal();
    const manager = this.dataSource.manager;
    const anchor = await auditAnchor(manager);
    const broken = (firstBroken: BrokenLink, checkedEvents: number, checkedSeals = 0): ChainVerification => ({
      valid: false,
      checkedEvents,
      checkedSeals,
      unsealedEvents: 0,
      head: null,
      firstBroken,
    });
    if (!anchor) return broken({ seq: null, problem: 'anchor_missing' }, 0);
    const legacy = await this.verifyLegacyPrefix(manager, anchor, options.batchSize ?? 2000);
    if (legacy.firstBroken) return broken(legacy.firstBroken, legacy.checked);
    const sealed = await verifySealedLog(manager, AUDIT_LOG, anchor);
    if (sealed.firstBroken) {
      const { sealSeq, problem, recordId } = sealed.firstBroken;
      const seq = recordId ? await seqOfEvent(manager, recordId) : null;
      return broken(
        { seq, problem, sealSeq, ...(recordId ? { eventId: recordId } : {}) },
        legacy.checked + sealed.checkedRecords,
        sealed.checkedSeals,
      );
    }
    return {
      valid: true,
      checkedEvents: legacy.checked + sealed.checkedRecords,
      checkedSeals: sealed.checkedSeals,
      unsealedEvents: sealed.unsealedRecords,
      head: sealed.head ? { sealSeq: sealed.head.seq, hash: sealed.head.hash.toString('hex') } : null,
      firstBroken: null,
    };
  }

  /** The events chained one by one before the sealed form: gap-free from 1, each linked, ending at the anchor. */
  private async verifyLegacyPrefix(
    manager: EntityManager,
    anchor: { hash: Buffer; legacyHeadSeq: string },
    batchSize: number,
  ): Promise<{ checked: number; firstBroken: BrokenLink | null }> {
    let previousSeq = 0n;
    let previousHash: Buffer = GENESIS_HASH;
    let checked = 0;
    const headSeq = BigInt(anchor.legacyHeadSeq);
    for (;;) {
      const rows = await legacyEvents(manager, previousSeq.toString(), batchSize);
      for (const row of rows) {
        const broken = (problem: AuditBreak) => ({ checked, firstBroken: { seq: row.seq, problem } });
        if (BigInt(row.seq) > headSeq) return broken('legacy_head_mismatch');
        if (BigInt(row.seq) !== previousSeq + 1n) return broken('sequence_gap');
        if (!row.prev_hash.equals(previousHash)) return broken('previous_hash_mismatch');
        if (!row.hash.equals(eventHash(row))) return broken('hash_mismatch');
        previousSeq = BigInt(row.seq);
        previousHash = row.hash;
        checked += 1;
      }
      if (rows.length < batchSize) break;
    }
    if (previousSeq !== headSeq || !previousHash.equals(anchor.hash)) {
      return { checked, firstBroken: { seq: previousSeq.toString(), problem: 'legacy_head_mismatch' } };
    }
    return { checked, firstBroken: null };
  }
}

/**
 * A legacy event's chained hash: sha256(prev_hash || utf8(canonical)), as audit_event_digest() in the AuditTrail
 * migration computed it.
 */
export function eventHash(event: LegacyEvent): Buffer {
  const fields = [
    event.seq,
    event.id,
    event.type,
    event.actor_type,
    event.actor_account_id,
    event.subject_account_id,
    event.details,
    event.request_id,
    event.occurred_at,
  ];
  return createHash('sha256').update(event.prev_hash).update(canonicalFields(fields), 'utf8').digest();
}
