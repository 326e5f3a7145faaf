import { SealColumns, SealTable } from '../../common/hash-chain/seal.entity.js';

/** One seal of the SERMI access log (sealed-log.ts); after a retention purge the first one continues from an anchor. */
@SealTable('sermi_log_seals')
export class SermiLogSeal extends SealColumns {}
