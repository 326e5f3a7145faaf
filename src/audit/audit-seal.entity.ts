import { Check, Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/**
 * One link of the audit trail's sealed hash chain: every event written by transactions with ids in
 * [from_txid, to_txid), in (txid, id) order — the same format as the SERMI access log's seals
 * (src/common/hash-chain/sealed-log.ts). The first seal continues from the anchor (`audit_anchors`).
 */
@Entity('audit_seals')
@Check('audit_seals_range_check', `"from_txid" < "to_txid"`)
@Check(
  'audit_seals_records_check',
  `"record_count" > 0 AND cardinality("record_ids") = "record_count" AND octet_length("record_digests") = 32 * "record_count"`,
)
@Check('audit_seals_hash_check', `octet_length("prev_hash") = 32 AND octet_length("hash") = 32`)
export class AuditSeal {
  @PrimaryColumn({ type: 'bigint', primaryKeyConstraintName: 'audit_seals_pkey' })
  seq: string;

  @Column({ name: 'from_txid', type: 'bigint' })
  fromTxid: string;

  @Column({ name: 'to_txid', type: 'bigint' })
  toTxid: string;

  @Column({ name: 'record_count', type: 'integer' })
  recordCount: number;

  @Column({ name: 'record_ids', type: 'uuid', array: true })
  recordIds: string[];

  @Column({ name: 'record_digests', type: 'bytea' })
  recordDigests: Buffer;

  @Column({ name: 'last_recorded_at', type: 'timestamptz' })
  lastRecordedAt: Date;

  @Column({ name: 'prev_hash', type: 'bytea' })
  prevHash: Buffer;

  @Column({ type: 'bytea' })
  hash: Buffer;

  @CreateDateColumn({ name: 'sealed_at', type: 'timestamptz' })
  sealedAt: Date;
}
