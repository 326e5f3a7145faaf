import { Check, Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/**
 * The vehicle an RSSE chain authorisation is bound to: the first one it was granted security-related RMI for
 * (docs: SERMI rule 5). Keyed on the chain authorisation itself — the RSSE, the IOE who granted it and the Trust
 * Centre authentication it came with (`auth_time`) — not on a portal session: every session that comes from the
 * same authentication (a silent re-login included) continues the same binding. The primary key makes the first
 * writer win.
 */
@Entity('sermi_chain_bindings')
@Check('sermi_chain_bindings_vin_check', `"vin" ~ '^[A-HJ-NPR-Z0-9]{17}$'`)
export class SermiChainBinding {
  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'sermi_chain_bindings_pkey' })
  rsseuid: string;

  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'sermi_chain_bindings_pkey' })
  ioeuid: string;

  /** The Trust Centre's `auth_time` of the login that brought the chain authorisation. */
  @PrimaryColumn({
    name: 'authenticated_at',
    type: 'timestamptz',
    primaryKeyConstraintName: 'sermi_chain_bindings_pkey',
  })
  authenticatedAt: Date;

  @Column({ type: 'text' })
  vin: string;

  /** The session whose access decision bound it (for the audit; the binding outlives it). */
  @Column({ name: 'bound_by_session_id', type: 'uuid', nullable: true })
  boundBySessionId: string | null;

  @CreateDateColumn({ name: 'bound_at', type: 'timestamptz' })
  boundAt: Date;
}
