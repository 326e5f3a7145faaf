import { QueryFailedError } from 'typeorm';

/** SQLSTATE of a failed statement, whether it came through TypeORM (QueryFailedError) or straight from the pool. */
export function sqlState(error: unknown): string | undefined {
  const cause = error instanceof QueryFailedError ? error.driverError : error;
  const code = (cause as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

export const UNIQUE_VIOLATION = '23505';

/** A unique constraint refused the statement: a concurrent writer got there first. */
export function isUniqueViolation(error: unknown): boolean {
  return sqlState(error) === UNIQUE_VIOLATION;
}

/** The constraint a failed statement violated, when Postgres named one. */
export function violatedConstraint(error: unknown): string | undefined {
  const cause = error instanceof QueryFailedError ? error.driverError : error;
  const constraint = (cause as { constraint?: unknown } | null)?.constraint;
  return typeof constraint === 'string' ? constraint : undefined;
}
