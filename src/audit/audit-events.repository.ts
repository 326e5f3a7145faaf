import type { EntityManager } from 'typeorm';
import { utcMicros } from '../common/hash-chain/canonical.js';
import type { ChainPosition, SealedLog } from '../common/hash-chain/sealed-log.js';
import { jsonb, SqlParameters, sqlRows } from '../database/sql.js';
import type { AuditEventInput } from './audit-event-types.js';

/**
 * Every statement on `audit_events` (and its seals and anchor) lives here; other modules that write events inside
 * a statement of their own use insertAuditEvents().
 */

/**
 * The audit trail as a sealed log (src/common/hash-chain/sealed-log.ts). The digest covers these columns in this
 * order — the same as audit_event_record_digest() (migration AuditDigestInPlpgsql), which stamps `hash` at
 * insert; the seal holds that stamped digest, the verifier recomputes it here from the fields.
 */
export const AUDIT_LOG: SealedLog = {
  records: 'audit_events',
  recordedAt: 'occurred_at',
  seals: 'audit_seals',
  anchors: 'audit_anchors',
  sealLock: `hashtext('audit_events.seal')`,
  sealedDigestSql: 'hash',
  fields: [
    ['id', 'id::text'],
    ['txid', 'txid::text'],
    ['seq', 'seq::text'],
    ['occurred_at', utcMicros('occurred_at')],
    ['type', 'type'],
    ['actor_type', 'actor_type'],
    ['actor_account_id', 'actor_account_id::text'],
    ['subject_account_id', 'subject_account_id::text'],
    ['details', 'details::text'],
    ['request_id', 'request_id'],
  ],
};

/** The columns an event is written with; the trigger stamps the rest (seq, txid, time, digest). */
const INSERT_COLUMNS = 'type, actor_type, actor_account_id, subject_account_id, details, request_id';

/**
 * `INSERT INTO audit_events (…) <select>` for a statement that writes events alongside other work (a CTE body).
 * `select` yields, in this order: type, actor_type, actor_account_id, subject_account_id, details (jsonb),
 * request_id. Append `RETURNING …` as needed.
 */
export function insertAuditEvents(select: string): string {
  return `INSERT INTO audit_events (${INSERT_COLUMNS}) ${select}`;
}

export interface RecordedAuditEvent {
  id: string;
  seq: string;
}

/** Appends events in one statement, in the given order (their seq follows it). */
export function insertEvents(
  manager: EntityManager,
  events: readonly AuditEventInput[],
): Promise<RecordedAuditEvent[]> {
  return sqlRows<RecordedAuditEvent>(
    manager,
    `${insertAuditEvents(`SELECT e.type, e.actor_type, e.actor_account_id, e.subject_account_id, e.details::jsonb,
                                 e.request_id
                            FROM unnest($1::text[], $2::text[], $3::uuid[], $4::uuid[], $5::text[], $6::text[])
                                 WITH ORDINALITY AS e(type, actor_type, actor_account_id, subject_account_id, details,
                                                      request_id, n)
                           ORDER BY e.n`)}
     RETURNING id, seq`,
    [
      events.map((event) => event.type),
      events.map((event) => event.actor.type),
      events.map((event) => (event.actor.type === 'account' ? event.actor.accountId : null)),
      events.map((event) => event.subjectAccountId ?? null),
      events.map((event) => jsonb(event.details ?? {})),
      events.map((event) => event.requestId ?? null),
    ],
  );
}

/** Appends one event (the common case: a prepared-size statement with scalar parameters). */
export async function insertEvent(manager: EntityManager, event: AuditEventInput): Promise<RecordedAuditEvent> {
  const [row] = await sqlRows<RecordedAuditEvent>(
    manager,
    `${insertAuditEvents('VALUES ($1, $2, $3, $4, $5, $6)')} RETURNING id, seq`,
    [
      event.type,
      event.actor.type,
      event.actor.type === 'account' ? event.actor.accountId : null,
      event.subjectAccountId ?? null,
      jsonb(event.details ?? {}),
      event.requestId ?? null,
    ],
  );
  return row;
}

export interface AuditEventFilter {
  /** A type, or a prefix ending in `.*`. */
  type?: string;
  accountId?: string;
  from?: string;
  to?: string;
  /** Only events before this seq (keyset pagination). */
  beforeSeq?: string;
  limit: number;
}

export interface AuditEventRow {
  seq: string;
  id: string;
  type: string;
  actor_type: string;
  actor_account_id: string | null;
  subject_account_id: string | null;
  details: Record<string, unknown>;
  request_id: string | null;
  occurred_at: Date;
  hash: Buffer;
}

/** Events newest first (by seq: stable, as it never changes), filtered. */
export function listEvents(manager: EntityManager, filter: AuditEventFilter): Promise<AuditEventRow[]> {
  const conditions: string[] = [];
  const params = new SqlParameters();
  if (filter.type?.endsWith('.*')) conditions.push(`starts_with(type, ${params.add(filter.type.slice(0, -1))})`);
  else if (filter.type) conditions.push(`type = ${params.add(filter.type)}`);
  if (filter.accountId) {
    const id = params.add(filter.accountId);
    conditions.push(`(actor_account_id = ${id} OR subject_account_id = ${id})`);
  }
  if (filter.from) conditions.push(`occurred_at >= ${params.add(filter.from)}::timestamptz`);
  if (filter.to) conditions.push(`occurred_at < ${params.add(filter.to)}::timestamptz`);
  if (filter.beforeSeq) conditions.push(`seq < ${params.add(filter.beforeSeq)}::bigint`);
  const where = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
  return sqlRows<AuditEventRow>(
    manager,
    `SELECT seq, id, type, actor_type, actor_account_id, subject_account_id, details, request_id, occurred_at, hash
       FROM audit_events ${where} ORDER BY seq DESC LIMIT ${params.add(filter.limit)}`,
    params.values,
  );
}

/** An event of the legacy prefix with every field as the text its chained hash covers. */
export interface LegacyEvent {
  seq: string;
  id: string;
  type: string;
  actor_type: string;
  actor_account_id: string | null;
  subject_account_id: string | null;
  details: string;
  request_id: string | null;
  occurred_at: string;
  prev_hash: Buffer;
  hash: Buffer;
}

/** The legacy prefix (events chained one by one, before the sealed form), in chain order, after `afterSeq`. */
export function legacyEvents(manager: EntityManager, afterSeq: string, limit: number): Promise<LegacyEvent[]> {
  return sqlRows<LegacyEvent>(
    manager,
    `SELECT seq, id::text AS id, type, actor_type, actor_account_id::text AS actor_account_id,
            subject_account_id::text AS subject_account_id, details::text AS details, request_id,
            ${utcMicros('occurred_at')} AS occurred_at, prev_hash, hash
       FROM audit_events WHERE txid IS NULL AND seq > $1::bigint ORDER BY seq LIMIT $2`,
    [afterSeq, limit],
  );
}

/** The anchor the AuditSealedBatches migration left: the legacy prefix's head and where sealing starts. */
export async function auditAnchor(manager: EntityManager): Promise<(ChainPosition & { legacyHeadSeq: string }) | null> {
  const [anchor] = await sqlRows<{ seal_seq: string; seal_hash: Buffer; to_txid: string; legacy_head_seq: string }>(
    manager,
    `SELECT seal_seq, seal_hash, to_txid, legacy_head_seq FROM audit_anchors ORDER BY id LIMIT 1`,
  );
  return anchor
    ? { seq: anchor.seal_seq, hash: anchor.seal_hash, toTxid: anchor.to_txid, legacyHeadSeq: anchor.legacy_head_seq }
    : null;
}

/** The seq of an event, when it still exists (to name a broken event by the position the admin API shows). */
export async function seqOfEvent(manager: EntityManager, id: string): Promise<string | null> {
  const [row] = await sqlRows<{ seq: string }>(manager, `SELECT seq FROM audit_events WHERE id = $1::uuid`, [id]);
  return row?.seq ?? null;
}
