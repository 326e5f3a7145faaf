import { SealColumns, SealTable } from '../common/hash-chain/seal.entity.js';

/** One seal of the audit trail (sealed-log.ts); the first one continues from the anchor (`audit_anchors`). */
@SealTable('audit_seals')
export class AuditSeal extends SealColumns {}
