import { Check, Column, CreateDateColumn, Entity, JoinColumn, OneToOne, PrimaryColumn, type Relation } from 'typeorm';
import type { Session } from '../sessions/session.entity.js';

/**
 * The vehicle an RSSE chain session is bound to: the first one it was granted security-related RMI for
 * (sermi.md, rule 5). Written once per session; the primary key makes the first writer win.
 */
@Entity('sermi_chain_bindings')
@Check('sermi_chain_bindings_vin_check', `"vin" ~ '^[A-HJ-NPR-Z0-9]{17}$'`)
export class SermiChainBinding {
  @PrimaryColumn({ name: 'session_id', type: 'uuid', primaryKeyConstraintName: 'sermi_chain_bindings_pkey' })
  sessionId: string;

  @OneToOne('Session', { onDelete: 'CASCADE', nullable: false })
  @JoinColumn({ name: 'session_id', foreignKeyConstraintName: 'sermi_chain_bindings_session_id_fkey' })
  session?: Relation<Session>;

  @Column({ type: 'text' })
  vin: string;

  @CreateDateColumn({ name: 'bound_at', type: 'timestamptz' })
  boundAt: Date;
}
