import type { SermiLoginRecord } from '../sermi/access-rules.js';
import type { StoredLoginTransaction } from '../login-transactions/login-transactions.service.js';
import type { ExternalIdentity, UnknownIdentityPolicy } from '../user-mapping/external-identity.js';

/** What a provider strategy hands over after every check passed: the identity and how it was proven. */
export interface VerifiedLogin {
  identity: ExternalIdentity;
  policy: UnknownIdentityPolicy;
  /** Recorded on the session (`auth_context`): e.g. login method, SERMI actor and principal. */
  authContext: Record<string, unknown>;
  transaction: StoredLoginTransaction;
  /** Warnings worth an audit line but not a refusal (e.g. SERMI CAB mismatch). */
  warnings: string[];
  /** A SERMI Trust Centre login: written to the SERMI access log with the session. */
  sermiLogin?: SermiLoginRecord;
  /**
   * When the person authenticated at the provider (ID token `auth_time`); null when the provider did not say.
   * Link and re-authentication logins must have authenticated after they were started.
   */
  authTime: Date | null;
  /** Caps the session's absolute lifetime below SESSION_ABSOLUTE_TIMEOUT_SECONDS (RSSE chain sessions). */
  maxSessionSeconds?: number;
}

export interface RequestMeta {
  clientIp: string | null;
  userAgent: string | null;
  /** The browser's current session token, if any: replaced by the new session (no session fixation). */
  previousSessionToken?: string;
  browserBindingHash: Buffer | null;
}

/** The ID token's `auth_time` as a date, or null. */
export function authTimeOf(claims: { auth_time?: unknown } | undefined): Date | null {
  return typeof claims?.auth_time === 'number' && Number.isFinite(claims.auth_time)
    ? new Date(claims.auth_time * 1000)
    : null;
}
