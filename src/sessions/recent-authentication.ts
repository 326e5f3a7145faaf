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
 * Adding or removing a login method needs a login of this session at most `maxAgeSeconds` old: a session left
 * open on a shared workshop PC must not be enough to attach a stranger's identity or remove the owner's. The age is
 * the provider's `auth_time`; a session whose provider did not say when the person signed in is never recent.
 */
export function assertRecentAuthentication(
  principal: SessionPrincipal,
  maxAgeSeconds: number,
  publicBaseUrl: URL,
  returnTo: unknown,
  now = Date.now(),
): void {
  if (isRecent(principal.authenticatedAt, maxAgeSeconds, now)) return;
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
