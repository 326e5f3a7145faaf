import { Check, Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/**
 * The columns of one seal of a sealed log (sealed-log.ts): every record written by transactions with ids in
 * [from_txid, to_txid), in (txid, id) order. hash = sha256(prev_hash || canonical(seal) || record digests); the record
 * ids and digests are kept so verification can name the first record that no longer matches. Each log's seal entity
 * extends this class and is declared with `@SealTable(<table>)`.
 */
export abstract class SealColumns {
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

/** A sealed log's seal table: the entity, its primary key and the checks every seal table has, named after it. */
export function SealTable(table: string) {
  return (target: new () => SealColumns): void => {
    PrimaryColumn({ type: 'bigint', primaryKeyConstraintName: `${table}_pkey` })(target.prototype, 'seq');
    Check(`${table}_range_check`, `"from_txid" < "to_txid"`)(target);
    Check(
      `${table}_records_check`,
      `"record_count" > 0 AND cardinality("record_ids") = "record_count" AND octet_length("record_digests") = 32 * "record_count"`,
    )(target);
    Check(`${table}_hash_check`, `octet_length("prev_hash") = 32 AND octet_length("hash") = 32`)(target);
    Entity(table)(target);
  };
}
