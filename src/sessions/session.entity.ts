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
  Unique,
} from 'typeorm';
import type { Account } from '../accounts/account.entity.js';
import type { IdentityLink } from '../identity-links/identity-link.entity.js';
import { type IdentityProvider, PROVIDER_CHECK_SQL } from '../common/identity-providers.js';

/**
 * A server-side session. The browser holds a random 256-bit token; only its SHA-256 is stored, so a database
 * read does not yield usable cookies.
 */
@Entity('sessions')
@Unique('sessions_token_hash_key', ['tokenHash'])
@Check('sessions_provider_check', PROVIDER_CHECK_SQL)
@Check('sessions_expiry_check', `"idle_expires_at" <= "absolute_expires_at"`)
@Check('sessions_token_hash_check', `octet_length("token_hash") = 32`)
@Check('sessions_auth_context_check', `jsonb_typeof("auth_context") = 'object'`)
@Index('sessions_account_id_active_idx', ['accountId'], { where: `"revoked_at" IS NULL` })
@Index('sessions_identity_link_id_idx', ['identityLinkId'])
@Index('sessions_idle_expires_at_idx', ['idleExpiresAt'])
export class Session {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'sessions_pkey' })
  id: string;

  @Column({ name: 'token_hash', type: 'bytea' })
  tokenHash: Buffer;

  @Column({ name: 'account_id', type: 'uuid' })
  accountId: string;

  @ManyToOne('Account', { onDelete: 'CASCADE', nullable: false })
  @JoinColumn({ name: 'account_id', foreignKeyConstraintName: 'sessions_account_id_fkey' })
  account?: Relation<Account>;

  /** How the session was authenticated: the provider, the link used, and when. */
  @Column({ type: 'text' })
  provider: IdentityProvider;

  @Column({ name: 'identity_link_id', type: 'uuid', nullable: true })
  identityLinkId: string | null;

  @ManyToOne('IdentityLink', { onDelete: 'SET NULL', nullable: true })
  @JoinColumn({ name: 'identity_link_id', foreignKeyConstraintName: 'sessions_identity_link_id_fkey' })
  identityLink?: Relation<IdentityLink> | null;

  /**
   * When the person authenticated at the provider, as the provider said (ID token `auth_time`); null when it did
   * not say. Never the time of the login here: a provider's single sign-on answer is not a fresh sign-in.
   */
  @Column({ name: 'authenticated_at', type: 'timestamptz', nullable: true })
  authenticatedAt: Date | null;

  /**
   * Unused since 2026-12-05: the login's ID token is kept for the sign-out in `sign_out_hints` (SignOutHint), out of
   * this durable table; migration ForgetSessionIdTokens cleared what earlier releases wrote. No statement names the
   * column, so the next release can drop it (a migration, and this property) while this one still runs.
   */
  @Column({ name: 'id_token_hint', type: 'text', nullable: true })
  idTokenHint: string | null;

  /** Facts from the login that later rules need (e.g. acr, login method, SERMI actor and principal). */
  @Column({ name: 'auth_context', type: 'jsonb', default: () => `'{}'` })
  authContext: Record<string, unknown>;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'last_seen_at', type: 'timestamptz' })
  lastSeenAt: Date;

  @Column({ name: 'idle_expires_at', type: 'timestamptz' })
  idleExpiresAt: Date;

  @Column({ name: 'absolute_expires_at', type: 'timestamptz' })
  absoluteExpiresAt: Date;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt: Date | null;

  @Column({ name: 'revoke_reason', type: 'text', nullable: true })
  revokeReason: string | null;

  @Column({ name: 'client_ip', type: 'inet', nullable: true })
  clientIp: string | null;

  @Column({ name: 'user_agent', type: 'text', nullable: true })
  userAgent: string | null;
}
