import { HttpException } from '@nestjs/common';
import { QueryFailedError } from 'typeorm';
import { AppException } from './app-exception.js';

const RETRYABLE_SQL_STATES = new Set(['23505', '40001', '40P01']);
const QUERY_CANCELED = '57014';

/** SQLSTATE (or socket error code) of a failed query, whether it came through TypeORM or straight from the pool. */
function databaseErrorCode(exception: unknown): string | undefined {
  const error = exception instanceof QueryFailedError ? exception.driverError : exception;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

const UNAVAILABLE_CODES = new Set([
  '57P01',
  '57P02',
  '57P03',
  '53300',
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
]);
const UNAVAILABLE_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|Connection ended unexpectedly|^Query read timeout$/;
/**
 * The pool's "no connection within DATABASE_CONNECT_TIMEOUT_MS" (every connection busy, or the server slow to
 * accept), and a server that stopped answering a statement (ClientDroppingStuckConnections).
 */
const TIMEOUT_MESSAGES = /timeout exceeded when trying to connect|^Query read timeout$/;

/** The database went away or is refusing connections: a 503 the caller may retry, not a 500. */
function isDatabaseUnavailable(exception: unknown, code: string | undefined): boolean {
  if (code && (code.startsWith('08') || UNAVAILABLE_CODES.has(code))) return true;
  const error = exception instanceof QueryFailedError ? exception.driverError : exception;
  return error instanceof Error && !(exception instanceof HttpException) && UNAVAILABLE_MESSAGES.test(error.message);
}

/**
 * An expected outage behind an error: the database unreachable (`database_unavailable`) or too slow — a statement
 * timeout, or no pool connection in time (`database_timeout`); null for anything else. Such errors answer 503 and
 * are logged as one warning per cause (see reportOutage), not as errors with stacks.
 */
export function outageCause(exception: unknown): 'database_unavailable' | 'database_timeout' | null {
  const code = databaseErrorCode(exception);
  if (code === QUERY_CANCELED) return 'database_timeout';
  if (!isDatabaseUnavailable(exception, code)) return null;
  const error = exception instanceof QueryFailedError ? exception.driverError : exception;
  return error instanceof Error && TIMEOUT_MESSAGES.test(error.message) ? 'database_timeout' : 'database_unavailable';
}

/**
 * Whether a failed statement may be one row's fault — a value Postgres refuses (class 22) or a constraint it
 * breaks (class 23) — rather than the database's: then a batch is worth retrying row by row.
 */
export function isDataError(exception: unknown): boolean {
  const code = databaseErrorCode(exception);
  return code !== undefined && (code.startsWith('22') || code.startsWith('23'));
}

/**
 * What an error that is neither an AppException nor an HTTP exception means for the caller: a lost race (409,
 * retry), an unreachable database (503, retry), a value Postgres refuses (400), or a genuine fault (500).
 */
export function classifyUnexpected(exception: unknown): AppException {
  const code = databaseErrorCode(exception);
  // A race another request won (unique violation, serialization failure, deadlock): the caller may retry.
  if (code && RETRYABLE_SQL_STATES.has(code)) {
    return new AppException('conflict', 'The resource was changed by another request; try again');
  }
  if (isDatabaseUnavailable(exception, code)) {
    return new AppException('service_unavailable', 'The database is not reachable; try again shortly');
  }
  // The statement ran into DATABASE_STATEMENT_TIMEOUT_MS (e.g. a filter no index serves on a very large log).
  if (code === QUERY_CANCELED) {
    return new AppException('service_unavailable', 'The query took too long; narrow it or try again later');
  }
  // Class 22 (data exception): a value the validators let through but Postgres refuses.
  if (code?.startsWith('22')) {
    return new AppException('validation_failed', 'A value in the request is out of range or malformed');
  }
  return new AppException('internal_error');
}
