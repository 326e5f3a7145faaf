import { hash } from 'node:crypto';
import { randomToken } from '../common/random-token.js';
import { equalInConstantTime } from '../common/constant-time.js';

/** 256 random bits, base64url: what the browser holds in the session cookie. */
export function newSessionToken(): string {
  return randomToken();
}

/** What the database holds instead of the token. */
export function hashSessionToken(token: string): Buffer {
  return hash('sha256', token, 'buffer');
}

/**
 * The CSRF token for a session: derived from the session token (which the page's scripts cannot read, the cookie
 * being HttpOnly) with a domain separator, so it needs no storage and dies with the session.
 */
export function csrfTokenFor(sessionToken: string): string {
  return hash('sha256', `csrf\0${sessionToken}`, 'base64url');
}

export function csrfTokenMatches(sessionToken: string, presented: string | undefined): boolean {
  return equalInConstantTime(csrfTokenFor(sessionToken), presented);
}

/** Session tokens are base64url of 32 bytes; anything else is not worth a database round trip. */
export function looksLikeSessionToken(value: unknown): value is string {
  return typeof value === 'string' && /^[A-Za-z0-9_-]{43}$/.test(value);
}
