import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { sqlRows, jsonb } from '../database/sql.js';
import { canonicalFields, utcMicros } from '../common/hash-chain/canonical.js';
import type { AuditEventInput } from './audit-event-types.js';

export interface RecordedAuditEvent {
  id: string;
  seq: string;
}

export interface ChainVerification {
  valid: boolean;
  checkedEvents: number;
  head: { seq: string; hash: string } | null;
  firstBroken: BrokenLink | null;
}

export interface BrokenLink {
  seq: string;
  problem: 'hash_mismatch' | 'previous_hash_mismatch' | 'sequence_gap';
}

const GENESIS_HASH = Buffer.alloc(32);

@Injectable()
export class AuditService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Appends an event. Pass the transaction's EntityManager so the event commits or rolls back with the change it
   * describes. Chain position, hashes and time are assigned by the database trigger, not by this process.
   */
  async record(event: AuditEventInput, manager: EntityManager = this.dataSource.manager): Promise<RecordedAuditEvent> {
    const rows = await sqlRows<RecordedAuditEvent>(
      manager,
      `INSERT INTO audit_events (type, actor_type, actor_account_id, subject_account_id, details, request_id)
       VALUES ($1, $2, $3, $4, $5, $6)
       RETURNING id, seq`,
      [
        event.type,
        event.actor.type,
        event.actor.type === 'account' ? event.actor.accountId : null,
        event.subjectAccountId ?? null,
        jsonb(event.details ?? {}),
        event.requestId ?? null,
      ],
    );
    return rows[0];
  }

  /**
   * Walks the whole chain in order and reports the first event whose link or hash does not add up. The hashes
   * are recomputed here from the stored values (see the AuditTrail migration for the canonical form), so a
   * replaced database function cannot vouch for tampered rows.
   */
  async verifyChain(options: { batchSize?: number } = {}): Promise<ChainVerification> {
    const batchSize = options.batchSize ?? 2000;
    let previousSeq = 0n;
    let previousHash: Buffer = GENESIS_HASH;
    let checked = 0;
    for (;;) {
      const rows = await sqlRows<StoredEvent>(
        this.dataSource.manager,
        `SELECT seq, id::text AS id, type, actor_type, actor_account_id::text AS actor_account_id,
                subject_account_id::text AS subject_account_id, details::text AS details, request_id,
                ${utcMicros('occurred_at')} AS occurred_at,
                prev_hash, hash
           FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2`,
        [previousSeq.toString(), batchSize],
      );
      for (const row of rows) {
        const broken = (problem: BrokenLink['problem']): ChainVerification => ({
          valid: false,
          checkedEvents: checked,
          head: null,
          firstBroken: { seq: row.seq, problem },
        });
        if (BigInt(row.seq) !== previousSeq + 1n) return broken('sequence_gap');
        if (!row.prev_hash.equals(previousHash)) return broken('previous_hash_mismatch');
        if (!row.hash.equals(eventHash(row))) return broken('hash_mismatch');
        previousSeq = BigInt(row.seq);
        previousHash = row.hash;
        checked += 1;
      }
      if (rows.length < batchSize) break;
    }
    return {
      valid: true,
      checkedEvents: checked,
      head: checked > 0 ? { seq: previousSeq.toString(), hash: previousHash.toString('hex') } : null,
      firstBroken: null,
    };
  }
}

interface StoredEvent {
  seq: string;
  id: string;
  type: string;
  actor_type: string;
  actor_account_id: string | null;
  subject_account_id: string | null;
  details: string;
  request_id: string | null;
  occurred_at: string;
  prev_hash: Buffer;
  hash: Buffer;
}

/** sha256(prev_hash || utf8(canonical)): the same computation as audit_event_digest() in the AuditTrail migration. */
export function eventHash(event: StoredEvent): Buffer {
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
