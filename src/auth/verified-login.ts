import { FUTURE_SKEW_SECONDS } from '../oidc/clock-skew.js';
import type { SermiLoginRecord } from '../sermi/access-rules.js';
import type { StoredLoginTransaction } from '../login-transactions/login-transactions.service.js';
import type { ExternalIdentity, UnknownIdentityPolicy } from '../user-mapping/external-identity.js';
import type { SignOutHint } from '../login-transactions/sign-out-hints.repository.js';

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
  /**
   * Whether the person signed in at the provider during this login (signedInDuringLogin), where the provider's
   * answer says; unset where the protocol guarantees it by `authTime` being the login's start (eHerkenning).
   */
  newSignIn?: boolean;
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
  /**
   * The login's ID token where its provider offers a sign-out page, with the handles of the browser's note for that
   * provider (ProviderLogout.signOutHint): a completed login keeps it in its own transaction for the next sign-out.
   */
  signOutHint?: SignOutHint | null;
}

/** A JWT NumericDate: seconds as a finite number. */
const isSeconds = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

/** The ID token's `auth_time` as a date; null when absent or not a plausible time (never in the future). */
export function authTimeOf(claims: { auth_time?: unknown } | undefined, now = Date.now()): Date | null {
  return heldToThisClock(authTimeAsStamped(claims, now), now);
}

/** A provider's time no later than this host's now: an age read from it is never negative. */
export function heldToThisClock(stamped: Date | null, now = Date.now()): Date | null {
  return stamped && new Date(Math.min(stamped.getTime(), now));
}

/**
 * The ID token's `auth_time` exactly as the provider stamped it, whole seconds, even a little ahead of this host's
 * clock (within the skew allowed); null as authTimeOf. Every ID token of one sign-in carries the same value, so it
 * names the sign-in — e.g. the chain authorisation a vehicle is bound to — where authTimeOf, held to this host's
 * clock, tells its age and would differ between two callbacks of that sign-in.
 */
export function authTimeAsStamped(claims: { auth_time?: unknown } | undefined, now = Date.now()): Date | null {
  const value = claims?.auth_time;
  if (!isSeconds(value) || value <= 0) return null;
  if (value > now / 1000 + FUTURE_SKEW_SECONDS) return null;
  return new Date(value * 1000);
}

/**
 * Whether the person signed in at the provider during this login, by durations, so that no two hosts' clocks are
 * compared: how long before the provider issued the ID token the sign-in was, on the provider's own clock
 * (`iat − auth_time`), against how long this login had been running when the token arrived (`answeredAt`, from
 * `performance.now()`; the login's age counted by the database, then by this process: StoredLoginTransaction
 * .startedAtLocal). Both provider times drop the fraction of their second, so a sign-in up to about two seconds before
 * the start can pass; an ID token without `auth_time` or `iat`, or one issued before the sign-in it names (by more
 * than a second: `auth_time` may carry the fraction `iat` dropped) — a nonsense the difference would read as the
 * freshest sign-in of all — tells of no new sign-in.
 */
export function signedInDuringLogin(
  claims: { auth_time?: unknown; iat?: unknown } | undefined,
  startedAtLocal: number,
  answeredAt: number,
): boolean {
  const authTime = claims?.auth_time;
  const issuedAt = claims?.iat;
  if (!isSeconds(authTime) || !isSeconds(issuedAt) || authTime > issuedAt + 1) return false;
  return (issuedAt - authTime) * 1000 < answeredAt - startedAtLocal + 1000;
}
