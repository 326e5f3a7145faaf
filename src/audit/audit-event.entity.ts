import { Check, Column, Entity, Generated, Index, PrimaryColumn, Unique } from 'typeorm';

/**
 * Append-only, hash-chained audit trail. Rows are written only through INSERT (src/audit/audit-events.sql.ts); the
 * `AuditSealedBatches` migration's trigger assigns `seq`, `txid`, `hash` and `occurred_at` without any lock, and
 * the audit sealer chains events in batches (`audit_seals`). Events written before that migration form the legacy
 * prefix, chained one by one (`prev_hash` set, `txid` null). UPDATE, DELETE and TRUNCATE are refused. Account
 * references are deliberately not foreign keys: the trail must outlive what it describes.
 */
@Entity('audit_events')
@Unique('audit_events_id_key', ['id'])
@Check('audit_events_type_check', `"type" ~ '^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)+$'`)
@Check('audit_events_actor_type_check', `"actor_type" IN ('account', 'system', 'anonymous')`)
@Check('audit_events_details_check', `jsonb_typeof("details") = 'object'`)
@Index('audit_events_type_seq_idx', ['type', 'seq'])
@Index('audit_events_subject_account_id_seq_idx', ['subjectAccountId', 'seq'])
@Index('audit_events_actor_account_id_seq_idx', ['actorAccountId', 'seq'])
@Index('audit_events_occurred_at_idx', ['occurredAt'])
@Index('audit_events_txid_id_idx', ['txid', 'id'])
@Check('audit_events_form_check', `("txid" IS NULL) = ("prev_hash" IS NOT NULL)`)
export class AuditEvent {
  /**
   * Order of writing (from the `audit_events_seq` sequence; gap-free only in the legacy prefix): what the admin API
   * sorts and pages by.
   */
  @PrimaryColumn({ type: 'bigint', primaryKeyConstraintName: 'audit_events_pkey' })
  seq: string;

  @Column({ type: 'uuid' })
  @Generated('uuid')
  id: string;

  @Column({ type: 'text' })
  type: string;

  @Column({ name: 'actor_type', type: 'text' })
  actorType: 'account' | 'system' | 'anonymous';

  @Column({ name: 'actor_account_id', type: 'uuid', nullable: true })
  actorAccountId: string | null;

  @Column({ name: 'subject_account_id', type: 'uuid', nullable: true })
  subjectAccountId: string | null;

  @Column({ type: 'jsonb', default: () => `'{}'` })
  details: Record<string, unknown>;

  @Column({ name: 'request_id', type: 'text', nullable: true })
  requestId: string | null;

  @Column({ name: 'occurred_at', type: 'timestamptz' })
  occurredAt: Date;

  /** The writing transaction's id: what the sealer orders and batches by. Null in the legacy prefix. */
  @Column({ type: 'bigint', nullable: true })
  txid: string | null;

  /** The previous event's hash in the legacy prefix; null for sealed events. */
  @Column({ name: 'prev_hash', type: 'bytea', nullable: true })
  prevHash: Buffer | null;

  /** Legacy prefix: the chained hash. Sealed events: the event's own digest, which its seal covers. */
  @Column({ type: 'bytea' })
  hash: Buffer;
}
