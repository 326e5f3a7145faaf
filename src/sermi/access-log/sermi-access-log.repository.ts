// Owns the statements that write `sermi_access_log` and its administrator reads (list, export). Sealing and
// verifying the log read it through log-chain.ts, sermi-log-sealer.ts and sermi-log-verifier.ts.
import { Injectable } from '@nestjs/common';
import type { EntityManager, QueryRunner } from 'typeorm';
import { utcMicros } from '../../common/hash-chain/canonical.js';
import { type KeysetPage, keysetPage, newestFirst } from '../../common/http/keyset.js';
import { jsonb, preparedRows, SqlParameters, sqlRows } from '../../database/sql.js';
import { rmiItemJoin } from '../../rmi-items/rmi-items.repository.js';
import { sessionIsLiveSql } from '../../sessions/sessions.repository.js';
import type { AccessDecision, AccessReason } from '../access-rules.js';
import type { AccessLogFilterDto, AccessLogQueryDto } from './dto/access-log-query.dto.js';
import type { AccessLogRecordDto } from './dto/access-log-record.dto.js';

/**
 * Access decisions, many in one statement (one row per decision, as parallel arrays): look up each item's
 * classification and write the log record with the decision that classification selects — the security-related
 * decision the caller worked out (access-rules.ts) or, for any other item, `granted` / `not_security_related`.
 * Record ids come from the caller; a decision whose item is unknown gets no row back and writes nothing. So does one
 * whose session no longer lets its holder in (revoked, expired, its account disabled): the decision route checks its
 * session here, in the statement that logs the decision, not in a lookup of its own (@SessionCheckedByStatement()).
 *
 * A chain session bound to one vehicle ($19 true) is granted a security-related item only for the VIN its binding
 * returned ($20): the classification is read again here, so an item that became security-related after the
 * binding statement saw it as harmless (and bound nothing) is denied, never granted for an unbound vehicle.
 *
 * $1 record ids, $2 item codes, $3 login methods, $4 account ids, $5 session ids, $6 actor types, $7 subs,
 * $8 cabuids, $9 iouids, $10 ioeuids, $11 rssuids, $12 rsseuids, $13 vins, $14 security decisions,
 * $15 security reasons, $16 client ips, $17 user agents, $18 request ids, $19 chain-bound flags, $20 bound vins.
 */
const ACCESS_DECISIONS_SQL = `
WITH decision AS (
  SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::uuid[], $5::uuid[], $6::text[], $7::text[], $8::text[],
                       $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[],
                       $16::inet[], $17::text[], $18::text[], $19::boolean[], $20::text[])
    AS d(id, item_code, login_method, account_id, session_id, actor_type, sub, cabuid, iouid, ioeuid, rssuid, rsseuid,
         vin, security_decision, security_reason, client_ip, user_agent, request_id, chain_bound, bound_vin)
),
judged AS (
  SELECT d.*, i.code, i.security_related,
         CASE WHEN NOT i.security_related THEN 'granted'
              WHEN d.chain_bound AND d.bound_vin IS DISTINCT FROM d.vin THEN 'denied'
              ELSE d.security_decision END AS decision,
         CASE WHEN NOT i.security_related THEN 'not_security_related'
              WHEN d.chain_bound AND d.bound_vin IS DISTINCT FROM d.vin THEN 'chain_vehicle_mismatch'
              ELSE d.security_reason END AS reason
    FROM decision d ${rmiItemJoin('i', 'd.item_code')}
   WHERE ${sessionIsLiveSql('d.session_id', 'd.account_id')}
),
logged AS (
  INSERT INTO sermi_access_log (id, kind, login_method, account_id, session_id, actor_type, sub, cabuid, iouid, ioeuid,
                                rssuid, rsseuid, vin, item_code, item_security_related, decision, reason,
                                client_ip, user_agent, request_id)
  SELECT j.id, 'access', j.login_method, j.account_id, j.session_id, j.actor_type, j.sub, j.cabuid, j.iouid, j.ioeuid,
         j.rssuid, j.rsseuid, j.vin, j.code, j.security_related, j.decision, j.reason,
         j.client_ip, j.user_agent, j.request_id
    FROM judged j
  RETURNING id, item_code, decision, reason, item_security_related,
            (extract(epoch FROM recorded_at) * 1000)::float8 AS recorded_at
)
SELECT l.id, l.decision, l.reason, l.recorded_at, l.item_security_related AS security_related, i.title
  FROM logged l ${rmiItemJoin('i', 'l.item_code')}`;

/** One decision's log record, as ACCESS_DECISIONS_SQL takes it. */
export interface AccessDecisionRecord {
  id: string;
  itemCode: string;
  loginMethod: string | null;
  accountId: string;
  sessionId: string;
  actorType: string | null;
  sub: string | null;
  cabuid: string | null;
  iouid: string | null;
  ioeuid: string | null;
  rssuid: string | null;
  rsseuid: string | null;
  vin: string;
  securityDecision: AccessDecision;
  securityReason: AccessReason;
  clientIp: string | null;
  userAgent: string | null;
  requestId: string | null;
  /** A chain session held to one vehicle: the statement grants only `boundVin` (null: the binding bound nothing). */
  chainBound: boolean;
  boundVin: string | null;
}

/** The decision a record was logged with; `recorded_at` in epoch milliseconds. */
export interface AccessDecisionRow {
  id: string;
  decision: AccessDecision;
  reason: AccessReason;
  recorded_at: number;
  title: string;
  security_related: boolean;
}

/**
 * The log record of a SERMI login, from the `sermiLogin` object of a verified login (a jsonb parameter), for the
 * session `session_source` yields. Used as a CTE body by the returning-login statement and on its own by the
 * general login path. Parameters are named by the caller: the record, the client ip, user agent and request id.
 */
export function sermiLoginInsert(
  sessionSource: string,
  p: { record: string; clientIp: string; userAgent: string; requestId: string },
): string {
  return `INSERT INTO sermi_access_log (kind, login_method, account_id, session_id, actor_type, sub, cabuid, iouid,
                                ioeuid, rssuid, rsseuid, decision, reason, client_ip, user_agent, request_id)
  SELECT 'login', r ->> 'method', s.account_id, s.id, r ->> 'actorType', r ->> 'sub', r ->> 'cabuid', r ->> 'iouid',
         r ->> 'ioeuid', r ->> 'rssuid', r ->> 'rsseuid', 'granted', 'sermi_login', ${p.clientIp}, ${p.userAgent},
         ${p.requestId}
    FROM ${sessionSource} s, (SELECT ${p.record}::jsonb AS r) login
   WHERE ${p.record}::jsonb IS NOT NULL`;
}

/** Every column, in the order the API, the NDJSON and the CSV export show them: [response field, SQL]. */
const FIELDS: ReadonlyArray<readonly [keyof AccessLogRecordDto, string]> = [
  ['id', 'id'],
  ['txid', 'txid'],
  // Microseconds, as stored: the keyset cursor must not lose precision, or rows sharing a millisecond are skipped.
  ['recordedAt', utcMicros('recorded_at')],
  ['kind', 'kind'],
  ['loginMethod', 'login_method'],
  ['accountId', 'account_id'],
  ['sessionId', 'session_id'],
  ['actorType', 'actor_type'],
  ['sub', 'sub'],
  ['cabuid', 'cabuid'],
  ['iouid', 'iouid'],
  ['ioeuid', 'ioeuid'],
  ['rssuid', 'rssuid'],
  ['rsseuid', 'rsseuid'],
  ['vin', 'vin'],
  ['itemCode', 'item_code'],
  ['itemSecurityRelated', 'item_security_related'],
  ['decision', 'decision'],
  ['reason', 'reason'],
  ['clientIp', 'client_ip'],
  ['userAgent', 'user_agent'],
  ['requestId', 'request_id'],
];

export const ACCESS_LOG_FIELDS: ReadonlyArray<keyof AccessLogRecordDto> = FIELDS.map(([field]) => field);

const SELECT_LIST = FIELDS.map(([field, sql]) => `${sql} AS "${field}"`).join(', ');

/** The list's order; its cursor is `{ at, id }`. */
const NEWEST_FIRST = newestFirst('at', 'recorded_at', 'id');

/** Rows per FETCH: what one export holds in memory at a time (a few hundred kB). */
export const EXPORT_BATCH_SIZE = 1000;

const EXPORT_CURSOR = 'sermi_access_log_export';

@Injectable()
export class SermiAccessLogRepository {
  /**
   * Logs access decisions in one statement (ACCESS_DECISIONS_SQL); a decision whose item is unknown, or whose
   * session no longer lets its holder in, has no row in the result and wrote nothing.
   */
  insertDecisions(manager: EntityManager, records: AccessDecisionRecord[]): Promise<AccessDecisionRow[]> {
    const column = <K extends keyof AccessDecisionRecord>(key: K) => records.map((record) => record[key]);
    return preparedRows<AccessDecisionRow>(manager, 'rmi_sermi_access', ACCESS_DECISIONS_SQL, [
      column('id'),
      column('itemCode'),
      column('loginMethod'),
      column('accountId'),
      column('sessionId'),
      column('actorType'),
      column('sub'),
      column('cabuid'),
      column('iouid'),
      column('ioeuid'),
      column('rssuid'),
      column('rsseuid'),
      column('vin'),
      column('securityDecision'),
      column('securityReason'),
      column('clientIp'),
      column('userAgent'),
      column('requestId'),
      column('chainBound'),
      column('boundVin'),
    ]);
  }

  /** The decision an access record was logged with, as insertDecisions returns it; undefined when there is none. */
  async decisionRow(manager: EntityManager, id: string): Promise<AccessDecisionRow | undefined> {
    const [row] = await sqlRows<AccessDecisionRow>(
      manager,
      `SELECT l.id, l.decision, l.reason, (extract(epoch FROM l.recorded_at) * 1000)::float8 AS recorded_at,
              l.item_security_related AS security_related, i.title
         FROM sermi_access_log l ${rmiItemJoin('i', 'l.item_code')}
        WHERE l.id = $1 AND l.kind = 'access'`,
      [id],
    );
    return row;
  }

  /** Logs a SERMI login of a session (sermiLoginInsert): `sermiLogin` is the verified login's record, or null. */
  async insertLogin(
    manager: EntityManager,
    session: { id: string; accountId: string },
    sermiLogin: unknown,
    meta: { clientIp: string | null; userAgent: string | null; requestId: string | null },
  ): Promise<void> {
    await sqlRows(
      manager,
      sermiLoginInsert('(SELECT $1::uuid AS id, $2::uuid AS account_id)', {
        record: '$3',
        clientIp: '$4::inet',
        userAgent: '$5::text',
        requestId: '$6::text',
      }),
      [session.id, session.accountId, jsonb(sermiLogin), meta.clientIp, meta.userAgent, meta.requestId],
    );
  }

  /** Newest first, keyset-paginated on (recorded_at, id). */
  async list(manager: EntityManager, query: AccessLogQueryDto): Promise<KeysetPage<AccessLogRecordDto>> {
    const params = new SqlParameters();
    const conditions = filterConditions(query, params);
    if (query.cursor) conditions.push(NEWEST_FIRST.after(query.cursor, params));
    const rows = await sqlRows<AccessLogRecordDto>(
      manager,
      `SELECT ${SELECT_LIST} FROM sermi_access_log ${where(conditions)}
        ORDER BY ${NEWEST_FIRST.orderBy} LIMIT ${params.add(query.limit + 1)}`,
      params.values,
    );
    return keysetPage(rows, query.limit, (last) =>
      NEWEST_FIRST.positionOf({ cursor_at: last.recordedAt, id: last.id }),
    );
  }

  /**
   * Opens a server-side cursor over the matching records, oldest first, on `runner`'s connection inside one
   * read-only REPEATABLE READ transaction (so the export is one consistent snapshot, however long it takes).
   * The caller must `close()` the result; `onClose` runs once it is closed, also when opening fails.
   */
  async openExport(
    runner: QueryRunner,
    filters: AccessLogFilterDto,
    onClose: () => void,
  ): Promise<AccessLogExportCursor> {
    const cursor = new AccessLogExportCursor(runner, onClose);
    try {
      const params = new SqlParameters();
      const conditions = filterConditions(filters, params);
      await cursor.open(
        `SELECT ${SELECT_LIST} FROM sermi_access_log ${where(conditions)} ORDER BY recorded_at, id`,
        params.values,
      );
    } catch (error) {
      await cursor.close(false);
      throw error;
    }
    return cursor;
  }
}

/** One export's server-side cursor and the connection it lives on. */
export class AccessLogExportCursor {
  private inTransaction = false;
  private closed = false;

  constructor(
    private readonly runner: QueryRunner,
    private readonly onClose: () => void,
  ) {}

  async open(select: string, parameters: unknown[]): Promise<void> {
    await this.runner.connect();
    await this.runner.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    this.inTransaction = true;
    await this.runner.query(`DECLARE ${EXPORT_CURSOR} NO SCROLL CURSOR FOR ${select}`, parameters);
  }

  /** The next batch, oldest first; an empty array at the end. */
  next(): Promise<AccessLogRecordDto[]> {
    return sqlRows<AccessLogRecordDto>(this.runner.manager, `FETCH ${EXPORT_BATCH_SIZE} FROM ${EXPORT_CURSOR}`);
  }

  /**
   * Ends the transaction (COMMIT after a complete export, ROLLBACK otherwise) and gives the connection back. A
   * connection that cannot even roll back is discarded rather than returned to the pool mid-transaction.
   */
  async close(completed: boolean): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      if (this.inTransaction && !this.runner.isReleased) {
        try {
          await this.runner.query(completed ? 'COMMIT' : 'ROLLBACK');
        } catch (error) {
          await discard(this.runner, error);
          return;
        }
      }
      await this.runner.release();
    } finally {
      this.onClose();
    }
  }
}

async function discard(runner: QueryRunner, error: unknown): Promise<void> {
  // PostgresQueryRunner: releasing with an error makes pg-pool destroy the client instead of reusing it.
  const postgres = runner as QueryRunner & { releasePostgresConnection?: (err?: unknown) => Promise<void> };
  if (postgres.releasePostgresConnection) await postgres.releasePostgresConnection(error);
  else await runner.release();
}

function filterConditions(filters: AccessLogFilterDto, params: SqlParameters): string[] {
  const conditions: string[] = [];
  if (filters.from) conditions.push(`recorded_at >= ${params.add(filters.from)}::timestamptz`);
  if (filters.to) conditions.push(`recorded_at < ${params.add(filters.to)}::timestamptz`);
  if (filters.ioeuid !== undefined) conditions.push(`ioeuid = ${params.add(filters.ioeuid)}`);
  if (filters.iouid !== undefined) conditions.push(`iouid = ${params.add(filters.iouid)}`);
  if (filters.rsseuid !== undefined) conditions.push(`rsseuid = ${params.add(filters.rsseuid)}`);
  if (filters.vin !== undefined) conditions.push(`vin = ${params.add(filters.vin)}`);
  if (filters.decision) conditions.push(`decision = ${params.add(filters.decision)}`);
  if (filters.kind) conditions.push(`kind = ${params.add(filters.kind)}`);
  if (filters.accountId) conditions.push(`account_id = ${params.add(filters.accountId)}::uuid`);
  return conditions;
}

function where(conditions: string[]): string {
  return conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
}
