import { QueryFailedError } from 'typeorm';

/** A field of the Postgres error behind a failed statement, whether it came through TypeORM or straight from pg. */
function postgresErrorField(error: unknown, field: 'code' | 'constraint' | 'routine'): string | undefined {
  const cause = error instanceof QueryFailedError ? error.driverError : error;
  const value = (cause as Record<string, unknown> | null)?.[field];
  return typeof value === 'string' ? value : undefined;
}

/** SQLSTATE of a failed statement. */
export function sqlState(error: unknown): string | undefined {
  return postgresErrorField(error, 'code');
}

/** The server function that raised the error: unlike the message, it does not follow the server's lc_messages. */
export function failedRoutine(error: unknown): string | undefined {
  return postgresErrorField(error, 'routine');
}

export const UNIQUE_VIOLATION = '23505';

/** A unique constraint refused the statement: a concurrent writer got there first. */
export function isUniqueViolation(error: unknown): boolean {
  return sqlState(error) === UNIQUE_VIOLATION;
}

/** The constraint a failed statement violated, when Postgres named one. */
export function violatedConstraint(error: unknown): string | undefined {
  return postgresErrorField(error, 'constraint');
}
