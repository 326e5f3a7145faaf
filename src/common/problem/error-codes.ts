/**
 * Stable, machine-readable error codes. Clients branch on these, so a code is never renamed or reused;
 * the HTTP status is fixed per code.
 */
export const ERROR_STATUS = {
  validation_failed: 400,
  malformed_json: 400,
  invalid_cursor: 400,
  unauthenticated: 401,
  forbidden: 403,
  csrf_check_failed: 403,
  not_found: 404,
  account_not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  self_modification_refused: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  internal_error: 500,
  service_unavailable: 503,
} as const satisfies Record<string, number>;

export type ErrorCode = keyof typeof ERROR_STATUS;

export const ERROR_TITLES: Record<ErrorCode, string> = {
  validation_failed: 'The request is not valid',
  malformed_json: 'The request body is not valid JSON',
  invalid_cursor: 'The pagination cursor is not valid',
  unauthenticated: 'Sign-in required',
  forbidden: 'Not allowed',
  csrf_check_failed: 'Cross-site request refused',
  not_found: 'Not found',
  account_not_found: 'Account not found',
  method_not_allowed: 'Method not allowed',
  conflict: 'Conflict with the current state',
  self_modification_refused: 'Administrators cannot change their own status or roles',
  payload_too_large: 'Request body too large',
  unsupported_media_type: 'Unsupported media type',
  internal_error: 'Internal error',
  service_unavailable: 'Service unavailable',
};
