import type { AppConfig } from '../app/app.config.js';

/**
 * Where a browser goes after a login, by outcome: the page it asked to return to, or LOGIN_SUCCESS_URL when it
 * named none (the portal's sign-in page `/` is never worth returning to after signing in); LOGIN_PENDING_URL for
 * a held identity, with a short reference the person can give the support desk.
 */
export function afterLoginUrl(returnTo: string, config: Pick<AppConfig, 'login'>): string {
  return returnTo === '/' ? config.login.successUrl.href : returnTo;
}

/**
 * The short reference of a pending identity that a person reads out to the support desk: the first eight hex
 * digits of its id, grouped. The console finds open pending identities by it.
 */
export function pendingReference(pendingIdentityId: string): string {
  const hex = pendingIdentityId.replace(/-/g, '').slice(0, 8).toUpperCase();
  return `${hex.slice(0, 4)}-${hex.slice(4)}`;
}

/** The hex digits a reference (as typed: any case, with or without the dash) stands for; null if it is none. */
export function referencePrefix(reference: string): string | null {
  const hex = reference.trim().replace(/-/g, '').toLowerCase();
  return /^[0-9a-f]{8}$/.test(hex) ? hex : null;
}

export function pendingPageUrl(pendingIdentityId: string, config: Pick<AppConfig, 'login'>): string {
  const target = new URL(config.login.pendingUrl);
  target.searchParams.set('code', 'identity_pending');
  target.searchParams.set('reference', pendingReference(pendingIdentityId));
  return target.href;
}
