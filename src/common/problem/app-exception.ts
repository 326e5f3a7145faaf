import { ERROR_STATUS, type ErrorCode } from './error-codes.js';

export interface FieldError {
  /** Dotted path of the offending field (`roles.0`), or the parameter name. */
  field: string;
  /** Which rule failed (class-validator constraint name, e.g. `isIn`, `whitelistValidation`). */
  rule: string;
  message: string;
}

/** A failure the caller can act on. Rendered as RFC 9457 problem+json by the global filter. */
export class AppException extends Error {
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    readonly detail?: string,
    readonly extensions: { errors?: FieldError[]; [key: string]: unknown } = {},
  ) {
    super(detail ?? code);
    this.name = 'AppException';
    this.status = ERROR_STATUS[code];
  }
}
