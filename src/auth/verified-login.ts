import { FUTURE_SKEW_SECONDS } from '../oidc/clock-skew.js';
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
   * When the person authenticated at the provider (ID token `auth_time`), or a time the protocol guarantees the
   * authentication was no earlier than; null when neither is known. Never the time of this callback: a provider
   * answering from its single sign-on session is as old as the sign-in behind it. Becomes the session's
   * `authenticatedAt`, which every freshness rule (SERMI maximum age, linking, re-authentication) reads; null is
   * never fresh. Link and re-authentication logins must have authenticated after they were started.
   */
  authTime: Date | null;
  /** The session ends by then at the latest, before SESSION_ABSOLUTE_TIMEOUT_SECONDS (RSSE chain sessions). */
  sessionEndsBy?: Date;
  /** The ID token, kept with the session when the provider offers RP-initiated logout. */
  idTokenHint?: string;
}

export interface RequestMeta {
  clientIp: string | null;
  userAgent: string | null;
  requestId: string | null;
  /** When the request arrived (performance.now()): times the login it finishes. */
  receivedAt?: number;
  /** The browser's current session token, if any: replaced by the new session (no session fixation). */
  previousSessionToken?: string;
  browserBindingHash: Buffer | null;
}

/**
 * The ID token's `auth_time` on our clock; null when absent or not a plausible time (never in the future). A provider's
 * clock may run ahead of ours or behind it, which would let an earlier sign-in pass for one made during this login (or
 * a new one fail): the token's `iat`, set when the provider answered the token request just before `now`, says by how
 * much (providerClockAheadMs).
 */
export function authTimeOf(claims: { auth_time?: unknown; iat?: unknown } | undefined, now = Date.now()): Date | null {
  const value = claims?.auth_time;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) return null;
  if (value > now / 1000 + FUTURE_SKEW_SECONDS) return null;
  return new Date(Math.min(value * 1000 - providerClockAheadMs(claims?.iat, now), now));
}

/**
 * How far the provider's clock runs ahead of ours (negative: behind), in whole seconds as its times come, read off an
 * `iat` it set while answering a call that ended just before `now`: `iat` drops the fraction of its second, so the
 * middle of that second is compared. Within a second and a half either way the clocks count as one (0): a reading
 * that close is as much the call's own time as the clocks'. 0 without an `iat`; the token checks already bound it
 * (10 minutes behind at most, FUTURE_SKEW_SECONDS ahead).
 */
export function providerClockAheadMs(iat: unknown, now: number): number {
  if (typeof iat !== 'number' || !Number.isFinite(iat)) return 0;
  const aheadMs = iat * 1000 + 500 - now;
  return Math.abs(aheadMs) < 1500 ? 0 : Math.round(aheadMs / 1000) * 1000;
}
