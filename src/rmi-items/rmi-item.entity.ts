import { Check, Column, CreateDateColumn, Entity, Index, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/** Codes are upper case: letters, digits, `.`, `_`, `-`; requests are normalised to upper case before lookup. */
export const RMI_ITEM_CODE_PATTERN = /^[A-Z0-9][A-Z0-9._-]{0,63}$/;

/**
 * One kind of repair and maintenance information, classified by the vehicle manufacturer. Only items marked
 * `security_related` are gated by SERMI (docs/sermi.md#the-rules, rule 8); everything else stays open to every
 * signed-in user.
 */
@Entity('rmi_items')
@Check('rmi_items_code_check', `"code" ~ '^[A-Z0-9][A-Z0-9._-]{0,63}$'`)
@Check('rmi_items_title_check', `char_length("title") BETWEEN 1 AND 300`)
@Check('rmi_items_category_check', `"category" IS NULL OR char_length("category") BETWEEN 1 AND 100`)
@Check('rmi_items_notes_check', `"notes" IS NULL OR char_length("notes") <= 2000`)
@Index('rmi_items_security_related_code_idx', ['securityRelated', 'code'])
export class RmiItem {
  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'rmi_items_pkey' })
  code: string;

  @Column({ type: 'text' })
  title: string;

  @Column({ name: 'security_related', type: 'boolean' })
  securityRelated: boolean;

  @Column({ type: 'text', nullable: true })
  category: string | null;

  @Column({ type: 'text', nullable: true })
  notes: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
