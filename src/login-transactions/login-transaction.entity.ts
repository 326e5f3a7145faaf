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
import { type IdentityProvider, PROVIDER_CHECK_SQL } from '../common/identity-providers.js';

export const LOGIN_PURPOSES = ['login', 'link', 'reauthenticate'] as const;
export type LoginPurpose = (typeof LOGIN_PURPOSES)[number];

/**
 * An in-flight login (OIDC code flow, Digidentity QR polling, Signicat REST session). Lives in Postgres, not in
 * process memory, so any instance can finish a login another one started; consumed exactly once
 * (`consumed_at` is set by a single conditional UPDATE).
 */
@Entity('login_transactions')
@Unique('login_transactions_state_hash_key', ['stateHash'])
@Check('login_transactions_provider_check', PROVIDER_CHECK_SQL)
@Check('login_transactions_purpose_check', `"purpose" IN ('login', 'link', 'reauthenticate')`)
@Check('login_transactions_state_hash_check', `octet_length("state_hash") = 32`)
@Check('login_transactions_browser_binding_hash_check', `octet_length("browser_binding_hash") = 32`)
@Check('login_transactions_link_needs_account_check', `"purpose" = 'login' OR "account_id" IS NOT NULL`)
// A same-site path: one leading slash, then no slash, backslash or control character that a browser could turn
// into `//host` (an open redirect).
@Check('login_transactions_return_to_check', `"return_to" ~ '^/([^/\\\\]|$)' AND "return_to" !~ '[[:cntrl:]\\\\]'`)
@Check('login_transactions_provider_data_check', `jsonb_typeof("provider_data") = 'object'`)
@Index('login_transactions_expires_at_idx', ['expiresAt'])
// A browser's recent logins, for the cap on open logins per browser (login_transactions_make_room).
@Index('login_transactions_browser_binding_idx', ['browserBindingHash', 'createdAt'])
export class LoginTransaction {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'login_transactions_pkey' })
  id: string;

  @Column({ type: 'text' })
  provider: IdentityProvider;

  @Column({ type: 'text', default: 'login' })
  purpose: LoginPurpose;

  /** SHA-256 of the `state` sent to the provider. */
  @Column({ name: 'state_hash', type: 'bytea' })
  stateHash: Buffer;

  @Column({ type: 'text', nullable: true })
  nonce: string | null;

  @Column({ name: 'pkce_verifier', type: 'text', nullable: true })
  pkceVerifier: string | null;

  @Column({ name: 'return_to', type: 'text', default: '/' })
  returnTo: string;

  /** SHA-256 of a random value kept in a short-lived cookie of the browser that started the login. */
  @Column({ name: 'browser_binding_hash', type: 'bytea' })
  browserBindingHash: Buffer;

  /** For link and re-authentication intents: the account the result must belong to. */
  @Column({ name: 'account_id', type: 'uuid', nullable: true })
  accountId: string | null;

  @ManyToOne('Account', { onDelete: 'CASCADE', nullable: true })
  @JoinColumn({ name: 'account_id', foreignKeyConstraintName: 'login_transactions_account_id_fkey' })
  account?: Relation<Account> | null;

  /** Provider-specific state, e.g. a passwordless login id or a Signicat session id. */
  @Column({ name: 'provider_data', type: 'jsonb', default: () => `'{}'` })
  providerData: Record<string, unknown>;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;

  @Column({ name: 'consumed_at', type: 'timestamptz', nullable: true })
  consumedAt: Date | null;
}
