import { Check, Column, Entity, Generated, Index, PrimaryColumn, Unique } from 'typeorm';

/**
 * Append-only, hash-chained audit trail. Rows are written only through INSERT; the trigger in the
 * `AuditTrail` migration assigns `seq`, `prev_hash`, `hash` and `occurred_at`, and refuses UPDATE, DELETE and
 * TRUNCATE. Account references are deliberately not foreign keys: the trail must outlive what it describes.
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
export class AuditEvent {
  /** Position in the hash chain, gap-free from 1. */
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

  @Column({ name: 'prev_hash', type: 'bytea' })
  prevHash: Buffer;

  @Column({ type: 'bytea' })
  hash: Buffer;
}
