import { AppException } from '../common/problem/app-exception.js';
import { safeReturnTo } from '../login-transactions/return-to.js';
import type { SessionPrincipal } from '../access/authenticated-request.js';
import type { IdentityProvider } from '../common/identity-providers.js';

/**
 * Where a browser re-authenticates this session's account (GET /auth/reauthenticate), coming back to `returnTo`;
 * with `provider`, through that one of the account's providers.
 */
export function reauthenticateUrl(publicBaseUrl: URL, returnTo: unknown, provider?: IdentityProvider): string {
  const url = new URL('/auth/reauthenticate', publicBaseUrl);
  url.searchParams.set('returnTo', safeReturnTo(returnTo, publicBaseUrl));
  if (provider) url.searchParams.set('provider', provider);
  return url.href;
}

/**
 * On a session's auth context: its login included a sign-in at the provider (an `auth_time` no earlier than the
 * login's start). A provider that answered from its single sign-on session vouches for the browser, not for the
 * person at it: such a session — the next person at a shared PC, signed in on the last one's sign-in — is never
 * recent, however young that sign-in.
 */
export const NEW_SIGN_IN = 'newSignIn';

/** When this session's person last proved themselves at the provider, as far as recency goes; null: never recent. */
export function recentSince(session: Pick<SessionPrincipal, 'authenticatedAt' | 'authContext'>): Date | null {
  return session.authContext[NEW_SIGN_IN] === true ? session.authenticatedAt : null;
}

/**
 * Adding or removing a login method needs a login of this session at most `maxAgeSeconds` old: a session left
 * open on a shared workshop PC must not be enough to attach a stranger's identity or remove the owner's. The age is
 * the provider's `auth_time`, and only of a login that included a sign-in (see NEW_SIGN_IN); a session whose provider
 * did not say when the person signed in is never recent.
 */
export function assertRecentAuthentication(
  principal: SessionPrincipal,
  maxAgeSeconds: number,
  publicBaseUrl: URL,
  returnTo: unknown,
  now = Date.now(),
): void {
  if (isRecent(recentSince(principal), maxAgeSeconds, now)) return;
  throw new AppException(
    'reauthentication_required',
    `sign in again: this needs a login less than ${maxAgeSeconds} s old`,
    {
      reauthenticateUrl: reauthenticateUrl(publicBaseUrl, returnTo),
      maxAgeSeconds,
    },
  );
}

/** Whether an authentication at `authenticatedAt` (the provider's `auth_time`, or null) is at most `maxAgeSeconds` old. */
export function isRecent(authenticatedAt: Date | null, maxAgeSeconds: number, now = Date.now()): boolean {
  return authenticatedAt !== null && now - authenticatedAt.getTime() <= maxAgeSeconds * 1000;
}
