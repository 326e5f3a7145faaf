import { Check, Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/**
 * Left behind by each retention purge: the last removed seal's position and hash, so verification of what remains
 * starts from it instead of from the genesis hash.
 */
@Entity('sermi_log_anchors')
@Check('sermi_log_anchors_hash_check', `octet_length("seal_hash") = 32`)
export class SermiLogAnchor {
  @PrimaryGeneratedColumn('identity', { type: 'bigint', primaryKeyConstraintName: 'sermi_log_anchors_pkey' })
  id: string;

  @Column({ name: 'seal_seq', type: 'bigint' })
  sealSeq: string;

  @Column({ name: 'seal_hash', type: 'bytea' })
  sealHash: Buffer;

  @Column({ name: 'to_txid', type: 'bigint' })
  toTxid: string;

  /** Records older than this were purged (whole seals only). */
  @Column({ name: 'purged_before', type: 'timestamptz' })
  purgedBefore: Date;

  @Column({ name: 'seals_removed', type: 'integer' })
  sealsRemoved: number;

  @Column({ name: 'records_removed', type: 'bigint' })
  recordsRemoved: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
