import { AppException } from './app-exception.js';
import { classifyUnexpected } from './classify-unexpected.js';
import type { ErrorCode } from './error-codes.js';

/**
 * Why a login was refused. Carries a stable code for the browser (or JSON client) and, separately, details for
 * the audit trail and the log that must never reach the browser.
 */
export class LoginFailure extends AppException {
  constructor(
    code: ErrorCode,
    detail: string,
    readonly auditDetails: Record<string, unknown> = {},
    cause?: unknown,
  ) {
    super(code, detail);
    this.name = 'LoginFailure';
    if (cause !== undefined) (this as { cause?: unknown }).cause = cause;
  }

  /** Codes for which trying again later can succeed without the user changing anything. */
  get retryable(): boolean {
    return this.code === 'provider_unavailable' || this.code === 'service_unavailable';
  }
}

/**
 * How a fault of our own during a login (neither the provider's nor the user's) is audited and counted: the same
 * code the error filters answer with — `service_unavailable` when the database is down or too slow (try again),
 * `internal_error` for a genuine fault.
 */
export function unexpectedLoginFailure(error: unknown): LoginFailure {
  const { code, detail } = classifyUnexpected(error);
  return new LoginFailure(code, code === 'internal_error' ? 'the login failed unexpectedly' : (detail ?? code));
}
