import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type QueryRunner } from 'typeorm';
import { decodeCursor, encodeCursor, TIMESTAMP_PATTERN, UUID_PATTERN } from '../../common/http/cursor.js';
import { isReasonableInstant } from '../../common/http/date-time.js';
import { AppException } from '../../common/problem/app-exception.js';
import { SqlParameters, sqlRows } from '../../database/sql.js';
import type { AccessLogFilterDto, AccessLogQueryDto } from './dto/access-log-query.dto.js';
import type { AccessLogPageDto, AccessLogRecordDto } from './dto/access-log-record.dto.js';

/** Every column, in the order the API, the NDJSON and the CSV export show them: [response field, SQL]. */
const FIELDS: ReadonlyArray<readonly [keyof AccessLogRecordDto, string]> = [
  ['id', 'id'],
  ['txid', 'txid'],
  // Microseconds, as stored: the keyset cursor must not lose precision, or rows sharing a millisecond are skipped.
  ['recordedAt', `to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`],
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

/** Rows per FETCH: what one export holds in memory at a time (a few hundred kB). */
export const EXPORT_BATCH_SIZE = 1000;

/**
 * Exports running at once in this process. Each holds a pooled connection (and a snapshot) for as long as the
 * download lasts, so without a cap a few slow downloads would starve logins of connections.
 */
export const MAX_CONCURRENT_EXPORTS = 2;

const EXPORT_CURSOR = 'sermi_access_log_export';

/** Read side of the SERMI access log for administrators: paged queries and a streamed export. */
@Injectable()
export class AccessLogQueryService {
  private runningExports = 0;

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Newest first, keyset-paginated on (recorded_at, id). */
  async list(query: AccessLogQueryDto): Promise<AccessLogPageDto> {
    const params = new SqlParameters();
    const conditions = filterConditions(query, params);
    if (query.cursor) {
      const { at, id } = decodeCursor(
        query.cursor,
        ['at', 'id'],
        (p) => TIMESTAMP_PATTERN.test(p.at) && isReasonableInstant(p.at) && UUID_PATTERN.test(p.id),
      );
      conditions.push(`(recorded_at, id) < (${params.add(at)}::timestamptz, ${params.add(id)}::uuid)`);
    }
    const rows = await sqlRows<AccessLogRecordDto>(
      this.dataSource.manager,
      `SELECT ${SELECT_LIST} FROM sermi_access_log ${where(conditions)}
        ORDER BY recorded_at DESC, id DESC LIMIT ${params.add(query.limit + 1)}`,
      params.values,
    );
    const items = rows.slice(0, query.limit);
    const last = items.at(-1);
    return {
      items,
      nextCursor: rows.length > query.limit && last ? encodeCursor({ at: last.recordedAt, id: last.id }) : null,
    };
  }

  /**
   * Opens a server-side cursor over the matching records, oldest first, on a connection of its own inside one
   * read-only REPEATABLE READ transaction (so the export is one consistent snapshot, however long it takes).
   * The caller must `close()` the result. Throws `too_many_exports` when the process's exports are all taken.
   */
  async openExport(filters: AccessLogFilterDto): Promise<AccessLogExportCursor> {
    if (this.runningExports >= MAX_CONCURRENT_EXPORTS) {
      throw new AppException('too_many_exports', `At most ${MAX_CONCURRENT_EXPORTS} exports run at once`);
    }
    this.runningExports += 1;
    const cursor = new AccessLogExportCursor(this.dataSource.createQueryRunner(), () => (this.runningExports -= 1));
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
