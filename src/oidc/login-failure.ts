import { AppException } from '../common/problem/app-exception.js';
import type { ErrorCode } from '../common/problem/error-codes.js';

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
    return this.code === 'provider_unavailable';
  }
}
