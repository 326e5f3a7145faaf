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
import type { Session } from '../sessions/session.entity.js';
import { type IdentityProvider, PROVIDER_CHECK_SQL } from '../common/identity-providers.js';

export const PENDING_REASONS = ['unknown_identity', 'probable_recreated_identity'] as const;
export type PendingReason = (typeof PENDING_REASONS)[number];

export const PENDING_RESOLUTIONS = ['attached', 'provisioned', 'rebound', 'rejected', 'expired'] as const;
export type PendingResolution = (typeof PENDING_RESOLUTIONS)[number];

/**
 * A verified identity that could not be mapped to an account at login (per-provider `pending` policy, or a
 * probable re-created identity held for admin review). Only ever written from a verified login, never typed in.
 */
@Entity('pending_identities')
@Check('pending_identities_provider_check', PROVIDER_CHECK_SQL)
@Check('pending_identities_reason_check', `"reason" IN ('unknown_identity', 'probable_recreated_identity')`)
@Check(
  'pending_identities_resolution_check',
  `"resolution" IS NULL OR "resolution" IN ('attached', 'provisioned', 'rebound', 'rejected', 'expired')`,
)
@Check('pending_identities_resolved_check', `("resolved_at" IS NULL) = ("resolution" IS NULL)`)
@Check('pending_identities_browser_binding_hash_check', `octet_length("browser_binding_hash") = 32`)
@Check(
  'pending_identities_attributes_check',
  `jsonb_typeof("attributes") = 'object' AND jsonb_typeof("raw_claims") = 'object' AND jsonb_typeof("flags") = 'object'`,
)
@Index('pending_identities_provider_issuer_subject_idx', ['provider', 'issuer', 'subject'])
@Index('pending_identities_open_identity_key', ['provider', 'issuer', 'subject'], {
  unique: true,
  where: `"resolved_at" IS NULL`,
})
@Index('pending_identities_created_at_idx', ['createdAt'])
export class PendingIdentity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'pending_identities_pkey' })
  id: string;

  @Column({ type: 'text' })
  provider: IdentityProvider;

  @Column({ type: 'text' })
  issuer: string;

  @Column({ type: 'text' })
  subject: string;

  @Column({ name: 'person_key', type: 'text', nullable: true })
  personKey: string | null;

  @Column({ type: 'jsonb', default: () => `'{}'` })
  attributes: Record<string, unknown>;

  @Column({ name: 'raw_claims', type: 'jsonb', default: () => `'{}'` })
  rawClaims: Record<string, unknown>;

  @Column({ type: 'text' })
  reason: PendingReason;

  /** Review hints, e.g. `{ "sameSermiAuthorisationUid": true }`. */
  @Column({ type: 'jsonb', default: () => `'{}'` })
  flags: Record<string, unknown>;

  /** The account this identity probably belongs to (a hint for reviewers, never acted on automatically). */
  @Column({ name: 'suspected_account_id', type: 'uuid', nullable: true })
  suspectedAccountId: string | null;

  @ManyToOne('Account', { onDelete: 'SET NULL', nullable: true })
  @JoinColumn({
    name: 'suspected_account_id',
    foreignKeyConstraintName: 'pending_identities_suspected_account_id_fkey',
  })
  suspectedAccount?: Relation<Account> | null;

  /**
   * The session the producing browser was signed in with at that login, if any. Only that session may attach an
   * unknown identity without proving it again: on a shared browser whoever signs in next is someone else.
   */
  @Column({ name: 'held_for_session_id', type: 'uuid', nullable: true })
  heldForSessionId: string | null;

  @ManyToOne('Session', { onDelete: 'SET NULL', nullable: true })
  @JoinColumn({ name: 'held_for_session_id', foreignKeyConstraintName: 'pending_identities_held_for_session_id_fkey' })
  heldForSession?: Relation<Session> | null;

  /** Name for an account created from it (policy `choose`), as provisioning would have chosen it. */
  @Column({ name: 'display_name', type: 'text', nullable: true })
  displayName: string | null;

  /** The browser that produced it; only that browser may attach it through self-service. */
  @Column({ name: 'browser_binding_hash', type: 'bytea', nullable: true })
  browserBindingHash: Buffer | null;

  /**
   * The provider's policy lets this person create a new account from the identity (policy `choose`). Never for a
   * probable re-created identity: that is how duplicate accounts come about.
   */
  @Column({ name: 'may_create_account', type: 'boolean', default: false })
  mayCreateAccount: boolean;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  /** The latest verified login that produced this identity; "recent" for self-service and re-binding counts from it. */
  @Column({ name: 'last_seen_at', type: 'timestamptz', default: () => 'now()' })
  lastSeenAt: Date;

  /** When the person authenticated at the provider in that login (its `auth_time`); null when it did not say. */
  @Column({ name: 'authenticated_at', type: 'timestamptz', nullable: true })
  authenticatedAt: Date | null;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;

  @Column({ name: 'resolved_at', type: 'timestamptz', nullable: true })
  resolvedAt: Date | null;

  @Column({ type: 'text', nullable: true })
  resolution: PendingResolution | null;

  /** The account the identity was attached, provisioned or re-bound to. */
  @Column({ name: 'resolved_account_id', type: 'uuid', nullable: true })
  resolvedAccountId: string | null;

  @ManyToOne('Account', { onDelete: 'SET NULL', nullable: true })
  @JoinColumn({
    name: 'resolved_account_id',
    foreignKeyConstraintName: 'pending_identities_resolved_account_id_fkey',
  })
  resolvedAccount?: Relation<Account> | null;
}
