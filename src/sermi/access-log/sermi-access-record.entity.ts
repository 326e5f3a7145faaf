import { Check, Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * The SERMI access log: one row per SERMI login and per RMI access decision (docs/sermi.md#what-is-logged).
 * Append-only: the `SermiAccessLog` migration's triggers stamp `txid` and `recorded_at` and refuse UPDATE,
 * and DELETE outside the retention purge. Rows are sealed into a hash chain in batches (`sermi_log_seals`), so
 * writing a row takes no lock. Account and session ids are not foreign keys: the log outlives both.
 */
@Entity('sermi_access_log')
@Check('sermi_access_log_kind_check', `"kind" IN ('login', 'access')`)
@Check('sermi_access_log_login_method_check', `"login_method" IS NULL OR "login_method" IN ('web', 'passwordless')`)
@Check('sermi_access_log_actor_type_check', `"actor_type" IS NULL OR "actor_type" IN ('IOE', 'RSSE')`)
@Check('sermi_access_log_decision_check', `"decision" IN ('granted', 'denied')`)
@Check('sermi_access_log_vin_check', `"vin" IS NULL OR "vin" ~ '^[A-HJ-NPR-Z0-9]{17}$'`)
@Check(
  'sermi_access_log_access_check',
  `"kind" <> 'access' OR ("vin" IS NOT NULL AND "item_code" IS NOT NULL AND "item_security_related" IS NOT NULL)`,
)
@Check('sermi_access_log_login_check', `"kind" <> 'login' OR ("actor_type" IS NOT NULL AND "ioeuid" IS NOT NULL)`)
@Index('sermi_access_log_txid_id_idx', ['txid', 'id'])
@Index('sermi_access_log_recorded_at_id_idx', ['recordedAt', 'id'])
@Index('sermi_access_log_ioeuid_recorded_at_idx', ['ioeuid', 'recordedAt'])
@Index('sermi_access_log_vin_recorded_at_idx', ['vin', 'recordedAt'])
export class SermiAccessRecord {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'sermi_access_log_pkey' })
  id: string;

  /** The writing transaction's id: what the sealer orders and batches by (see SermiLogSealer). */
  @Column({ type: 'bigint' })
  txid: string;

  @Column({ name: 'recorded_at', type: 'timestamptz' })
  recordedAt: Date;

  @Column({ type: 'text' })
  kind: 'login' | 'access';

  @Column({ name: 'login_method', type: 'text', nullable: true })
  loginMethod: 'web' | 'passwordless' | null;

  @Column({ name: 'account_id', type: 'uuid', nullable: true })
  accountId: string | null;

  @Column({ name: 'session_id', type: 'uuid', nullable: true })
  sessionId: string | null;

  @Column({ name: 'actor_type', type: 'text', nullable: true })
  actorType: 'IOE' | 'RSSE' | null;

  @Column({ type: 'text', nullable: true })
  sub: string | null;

  @Column({ type: 'text', nullable: true })
  cabuid: string | null;

  @Column({ type: 'text', nullable: true })
  iouid: string | null;

  @Column({ type: 'text', nullable: true })
  ioeuid: string | null;

  @Column({ type: 'text', nullable: true })
  rssuid: string | null;

  @Column({ type: 'text', nullable: true })
  rsseuid: string | null;

  @Column({ type: 'text', nullable: true })
  vin: string | null;

  @Column({ name: 'item_code', type: 'text', nullable: true })
  itemCode: string | null;

  @Column({ name: 'item_security_related', type: 'boolean', nullable: true })
  itemSecurityRelated: boolean | null;

  @Column({ type: 'text' })
  decision: 'granted' | 'denied';

  @Column({ type: 'text' })
  reason: string;

  @Column({ name: 'client_ip', type: 'inet', nullable: true })
  clientIp: string | null;

  @Column({ name: 'user_agent', type: 'text', nullable: true })
  userAgent: string | null;

  @Column({ name: 'request_id', type: 'text', nullable: true })
  requestId: string | null;
}
