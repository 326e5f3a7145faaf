import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { anchorOf, GENESIS, verifySealedLog } from '../../common/hash-chain/sealed-log.js';
import { type LogVerification, SERMI_LOG } from './log-chain.js';

/** Checks the SERMI access log's hash chain; reads only. */
@Injectable()
export class SermiLogVerifier {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Walks the sealed chain from the last purge anchor (or the genesis), recomputing every seal's hash and every
   * record's digest here in Node, and reports the first seal or record that does not add up.
   */
  async verify(): Promise<LogVerification> {
    const manager = this.dataSource.manager;
    const anchor = await anchorOf(manager, SERMI_LOG);
    const result = await verifySealedLog(manager, SERMI_LOG, anchor ?? GENESIS);
    return {
      valid: result.firstBroken === null,
      checkedSeals: result.checkedSeals,
      checkedRecords: result.checkedRecords,
      unsealedRecords: result.unsealedRecords,
      anchorSealSeq: anchor?.seq ?? null,
      head:
        result.head && result.checkedSeals > 0
          ? { seq: result.head.seq, hash: result.head.hash.toString('hex') }
          : null,
      firstBroken: result.firstBroken,
    };
  }
}
