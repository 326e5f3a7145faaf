import { Check, Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/**
 * Where the sealed chain starts: written once, by the `AuditSealedBatches` migration, with the head of the events
 * chained one by one before it (the legacy prefix, still verified by its own rule). The first seal's prev_hash is
 * `seal_hash`; its range starts at `to_txid`.
 */
@Entity('audit_anchors')
@Check('audit_anchors_hash_check', `octet_length("seal_hash") = 32`)
export class AuditAnchor {
  @PrimaryGeneratedColumn('identity', { type: 'bigint', primaryKeyConstraintName: 'audit_anchors_pkey' })
  id: string;

  @Column({ name: 'seal_seq', type: 'bigint' })
  sealSeq: string;

  /** The legacy chain's head hash (32 zero bytes when it is empty). */
  @Column({ name: 'seal_hash', type: 'bytea' })
  sealHash: Buffer;

  @Column({ name: 'to_txid', type: 'bigint' })
  toTxid: string;

  /** The seq of the legacy chain's last event (0 when it is empty): the prefix must end exactly there. */
  @Column({ name: 'legacy_head_seq', type: 'bigint' })
  legacyHeadSeq: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
