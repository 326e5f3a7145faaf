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
  UpdateDateColumn,
} from 'typeorm';
import type { Account } from '../accounts/account.entity.js';
import { type IdentityProvider, PROVIDER_CHECK_SQL } from '../common/identity-providers.js';
import { MAX_SUBJECT_LENGTH } from './identity-subject.js';

/**
 * Binds one provider subject to one account. The unique constraints are the guard against the classic
 * duplicate-link bug (one upstream subject on two accounts): see docs/linking.md#why-it-is-built-this-way.
 */
@Entity('identity_links')
@Unique('identity_links_provider_issuer_subject_key', ['provider', 'issuer', 'subject'])
@Unique('identity_links_account_provider_key', ['accountId', 'provider'])
@Check('identity_links_provider_check', PROVIDER_CHECK_SQL)
@Check('identity_links_subject_check', `char_length("subject") BETWEEN 1 AND ${MAX_SUBJECT_LENGTH}`)
@Check('identity_links_issuer_check', `char_length("issuer") BETWEEN 1 AND 2048`)
@Check('identity_links_attributes_check', `jsonb_typeof("attributes") = 'object'`)
@Index('identity_links_provider_person_key_key', ['provider', 'personKey'], {
  unique: true,
  where: `"person_key" IS NOT NULL`,
})
export class IdentityLink {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'identity_links_pkey' })
  id: string;

  @Column({ name: 'account_id', type: 'uuid' })
  accountId: string;

  @ManyToOne('Account', 'links', { onDelete: 'CASCADE', nullable: false })
  @JoinColumn({ name: 'account_id', foreignKeyConstraintName: 'identity_links_account_id_fkey' })
  account?: Relation<Account>;

  @Column({ type: 'text' })
  provider: IdentityProvider;

  @Column({ type: 'text' })
  issuer: string;

  @Column({ type: 'text' })
  subject: string;

  /**
   * What identifies the person at this provider even when the subject changes (for Digidentity the SERMI
   * authorisation UID). Unique per provider: a second subject with the same person key is held for review,
   * never silently given a second account.
   */
  @Column({ name: 'person_key', type: 'text', nullable: true })
  personKey: string | null;

  /** Provider attributes worth keeping, e.g. the SERMI UIDs; never secrets or tokens. */
  @Column({ type: 'jsonb', default: () => `'{}'` })
  attributes: Record<string, unknown>;

  @Column({ name: 'first_login_at', type: 'timestamptz' })
  firstLoginAt: Date;

  @Column({ name: 'last_login_at', type: 'timestamptz' })
  lastLoginAt: Date;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
