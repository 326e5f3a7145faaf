import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { sqlRows } from '../database/sql.js';
import { currentRequestId } from '../common/request-context/request-context.js';
import type { AuditEventInput } from './audit-event-types.js';

export interface RecordedAuditEvent {
  id: string;
  seq: string;
}

export interface ChainVerification {
  valid: boolean;
  checkedEvents: number;
  head: { seq: string; hash: string } | null;
  firstBroken: { seq: string; problem: 'hash_mismatch' | 'previous_hash_mismatch' | 'sequence_gap' } | null;
}

const GENESIS_HASH = Buffer.alloc(32);
const VERIFY_BATCH = 2000;

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
        JSON.stringify(event.details ?? {}),
        currentRequestId() ?? null,
      ],
    );
    return rows[0];
  }

  /** Walks the whole chain in order and reports the first row whose hash or link does not add up. */
  async verifyChain(): Promise<ChainVerification> {
    let previousSeq = 0n;
    let previousHash: Buffer = GENESIS_HASH;
    let checked = 0;
    for (;;) {
      const rows: { seq: string; prev_hash: Buffer; hash: Buffer; expected: Buffer }[] = await sqlRows(
        this.dataSource.manager,
        `SELECT seq, prev_hash, hash,
                audit_event_digest(prev_hash, seq, id, type, actor_type, actor_account_id, subject_account_id,
                                   details, request_id, occurred_at) AS expected
           FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2`,
        [previousSeq.toString(), VERIFY_BATCH],
      );
      for (const row of rows) {
        const seq = BigInt(row.seq);
        const broken = (problem: NonNullable<ChainVerification['firstBroken']>['problem']): ChainVerification => ({
          valid: false,
          checkedEvents: checked,
          head: null,
          firstBroken: { seq: row.seq, problem },
        });
        if (seq !== previousSeq + 1n) return broken('sequence_gap');
        if (!row.prev_hash.equals(previousHash)) return broken('previous_hash_mismatch');
        if (!row.hash.equals(row.expected)) return broken('hash_mismatch');
        previousSeq = seq;
        previousHash = row.hash;
        checked += 1;
      }
      if (rows.length < VERIFY_BATCH) break;
    }
    return {
      valid: true,
      checkedEvents: checked,
      head: checked > 0 ? { seq: previousSeq.toString(), hash: previousHash.toString('hex') } : null,
      firstBroken: null,
    };
  }
}
