import {
  Check,
  Column,
  CreateDateColumn,
  Entity,
  Index,
  OneToMany,
  PrimaryGeneratedColumn,
  type Relation,
  UpdateDateColumn,
} from 'typeorm';
import type { IdentityLink } from '../identity-links/identity-link.entity.js';

export const ACCOUNT_STATUSES = ['active', 'disabled'] as const;
export type AccountStatus = (typeof ACCOUNT_STATUSES)[number];

export const ACCOUNT_ROLES = ['admin'] as const;
export type AccountRole = (typeof ACCOUNT_ROLES)[number];

@Entity('accounts')
@Check('accounts_status_check', `"status" IN ('active', 'disabled')`)
@Check('accounts_roles_check', `"roles" <@ ARRAY['admin']::text[]`)
@Check('accounts_display_name_check', `char_length("display_name") BETWEEN 1 AND 200`)
@Index('accounts_created_at_id_idx', ['createdAt', 'id'])
export class Account {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'accounts_pkey' })
  id: string;

  @Column({ name: 'display_name', type: 'text' })
  displayName: string;

  @Column({ type: 'text', default: 'active' })
  status: AccountStatus;

  @Column({ type: 'text', array: true, default: () => `'{}'` })
  roles: AccountRole[];

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;

  @OneToMany('IdentityLink', 'account')
  links?: Relation<IdentityLink[]>;
}
