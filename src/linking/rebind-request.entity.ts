import {
  Check,
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
  type Relation,
} from 'typeorm';
import type { Account } from '../accounts/account.entity.js';
import type { PendingIdentity } from '../pending-identities/pending-identity.entity.js';

export const REBIND_REQUEST_STATUSES = ['requested', 'applied', 'rejected', 'expired'] as const;
export type RebindRequestStatus = (typeof REBIND_REQUEST_STATUSES)[number];

/**
 * A four-eyes re-bind: requested by one admin, applied only when a different admin approves it before it expires.
 * The database refuses a decision by the requester and a second open request for the same pending identity.
 */
@Entity('rebind_requests')
@Check('rebind_requests_status_check', `"status" IN ('requested', 'applied', 'rejected', 'expired')`)
@Check('rebind_requests_decided_check', `("status" = 'requested') = ("decided_at" IS NULL)`)
@Check('rebind_requests_four_eyes_check', `"decided_by" IS NULL OR "decided_by" <> "requested_by"`)
@Check('rebind_requests_reason_check', `char_length("reason") BETWEEN 1 AND 1000`)
@Index('rebind_requests_open_pending_identity_key', ['pendingIdentityId'], {
  unique: true,
  where: `"status" = 'requested'`,
})
@Index('rebind_requests_created_at_idx', ['createdAt'])
export class RebindRequest {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'rebind_requests_pkey' })
  id: string;

  @Column({ name: 'account_id', type: 'uuid' })
  accountId: string;

  @ManyToOne('Account', { onDelete: 'CASCADE', nullable: false })
  @JoinColumn({ name: 'account_id', foreignKeyConstraintName: 'rebind_requests_account_id_fkey' })
  account?: Relation<Account>;

  @Column({ name: 'pending_identity_id', type: 'uuid' })
  pendingIdentityId: string;

  @ManyToOne('PendingIdentity', { onDelete: 'CASCADE', nullable: false })
  @JoinColumn({ name: 'pending_identity_id', foreignKeyConstraintName: 'rebind_requests_pending_identity_id_fkey' })
  pendingIdentity?: Relation<PendingIdentity>;

  @Column({ name: 'requested_by', type: 'uuid' })
  requestedBy: string;

  @ManyToOne('Account', { onDelete: 'CASCADE', nullable: false })
  @JoinColumn({ name: 'requested_by', foreignKeyConstraintName: 'rebind_requests_requested_by_fkey' })
  requester?: Relation<Account>;

  @Column({ type: 'text' })
  reason: string;

  /**
   * What the requesting admin reviewed (reason held, person key, suspected account). A later login of the identity
   * refreshes those hints; approval is refused when they changed, so nobody approves something else.
   */
  @Column({ type: 'jsonb', default: () => `'{}'` })
  reviewed: Record<string, unknown>;

  @Column({ type: 'text', default: 'requested' })
  status: RebindRequestStatus;

  @Column({ name: 'decided_by', type: 'uuid', nullable: true })
  decidedBy: string | null;

  @ManyToOne('Account', { onDelete: 'SET NULL', nullable: true })
  @JoinColumn({ name: 'decided_by', foreignKeyConstraintName: 'rebind_requests_decided_by_fkey' })
  decider?: Relation<Account> | null;

  @Column({ name: 'decided_at', type: 'timestamptz', nullable: true })
  decidedAt: Date | null;

  @Column({ name: 'decision_comment', type: 'text', nullable: true })
  decisionComment: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;
}
