import { Injectable } from '@nestjs/common';
import type { IdentityProvider } from '../common/identity-providers.js';
import type { LoginPurpose } from '../login-transactions/login-transaction.entity.js';
import type { RequestMeta } from './verified-login.js';

/** Why a login is started, and for whom: stored on the login transaction, so the callback cannot change it. */
export interface LoginIntent {
  purpose: LoginPurpose;
  /** For `link` and `reauthenticate`: the signed-in account the result must belong to. */
  accountId: string | null;
  returnTo: string;
  browserBinding: string;
  /** The binding was minted by this start's request (see BrowserBinding.ensure). */
  browserBindingIsNew?: boolean;
  /** A link that replaces the account's existing link for the provider (the person's own re-bind). */
  replaceExisting?: boolean;
  /** A link that proves this pending identity again before it is attached: the login must be that identity. */
  pendingIdentityId?: string;
  /** A plain login that attaches this browser's pending identity to the account it signs in to (one click). */
  attachPendingIdentityId?: string;
  /** A plain login the person asked to make with a new sign-in or the provider's account choice. */
  prompt?: 'login' | 'select_account';
  /** A login started from this site into the admin area: its callback lands there through a page of ours. */
  continueOnSite?: boolean;
  /** A plain login in a browser someone left lately (signed out, or their session ended): a new sign-in. */
  afterSignOut?: boolean;
}

/** On a login transaction's provider data: see LoginIntent.continueOnSite and BrowserLogins. */
export const CONTINUE_ON_SITE = 'continueOnSite';

/** On a login transaction's provider data: its start demanded a new sign-in, which the completion checks. */
export const FRESH_SIGN_IN = 'freshSignIn';

/**
 * How old a sign-in at the provider the login may be answered with. Every request sends `max_age`, which makes the
 * provider report `auth_time` in the ID token (OIDC Core 3.1.2.1): the session's freshness comes from it. Link and
 * re-authentication logins, logins in a browser someone signed out of lately, and providers whose every login must be
 * a real authentication (the SERMI Trust Centre), demand a new one (`prompt=login`, `max_age=0`); the start notes that on the login (FRESH_SIGN_IN) and the
 * completion checks `auth_time` against the start, because these parameters pass through the browser and could be
 * stripped, and a provider may answer from its single sign-on session anyway.
 */
export function authenticationAgeParameters(
  intent: LoginIntent,
  policy: { loginMaxAgeSeconds: number; newSignIn: boolean },
): Record<string, string> {
  if (policy.newSignIn) return { prompt: 'login', max_age: '0' };
  return { ...(intent.prompt ? { prompt: intent.prompt } : {}), max_age: String(policy.loginMaxAgeSeconds) };
}

/** Whether a login's start demands a new sign-in at the provider: see authenticationAgeParameters. */
export function demandsNewSignIn(intent: LoginIntent, policy: { alwaysFresh?: boolean }): boolean {
  return (
    intent.purpose !== 'login' ||
    policy.alwaysFresh === true ||
    intent.attachPendingIdentityId !== undefined ||
    intent.afterSignOut === true
  );
}

/** What a provider stores on the login transaction for the intent, besides its own state. */
export function intentData(intent: LoginIntent): Record<string, unknown> {
  return {
    ...(intent.replaceExisting ? { replaceExisting: true } : {}),
    ...(intent.pendingIdentityId ? { pendingIdentityId: intent.pendingIdentityId } : {}),
    ...(intent.attachPendingIdentityId ? { attachPendingIdentityId: intent.attachPendingIdentityId } : {}),
    ...(intent.continueOnSite ? { [CONTINUE_ON_SITE]: true } : {}),
  };
}

/** A QR login to show to the person; the browser polls the provider module's poll route with `id`. */
export interface QrLoginStart {
  id: string;
  qrCodeUri: string;
  qrCodeSvg: string;
  expiresAt: string;
  pollIntervalMs: number;
}

export type ClientMeta = Pick<RequestMeta, 'clientIp' | 'userAgent' | 'requestId' | 'receivedAt'>;

/**
 * What every provider module offers the linking and re-authentication flows: starting a browser login with an
 * intent. Link and re-authentication logins ask the provider for a fresh authentication (`prompt=login`), never
 * an existing single sign-on session.
 */
export interface ProviderLoginStarter {
  readonly provider: IdentityProvider;
  /** The provider's login page for this intent; the login transaction is stored before the URL is returned. */
  startRedirect(intent: LoginIntent, meta: ClientMeta): Promise<URL>;
  /**
   * Whether starting `intent` would ask the provider for a new sign-in only if someone left the browser lately
   * (LoginIntent.afterSignOut): false where the start asks for one anyway (every SERMI login, a link) or cannot ask
   * (eHerkenning). A browser's login finds out whether someone left — a session lookup — only when this is true.
   */
  asksNewSignInIfSomeoneLeft(intent: LoginIntent): boolean;
  /** Providers with a QR login (Digidentity passwordless): the same with a QR code instead of a redirect. */
  startPasswordless?(intent: LoginIntent, meta: ClientMeta): Promise<QrLoginStart>;
  /** Where the browser polls a QR login started here (`:id` replaced). */
  readonly passwordlessPollPath?: string;
  /** Providers whose single sign-on session can be ended from here (RP-initiated logout). */
  readonly providerLogout?: ProviderSessionLogout;
}

export interface ProviderSessionLogout {
  /**
   * The provider's end-session URL, or null when its discovery lists no end_session_endpoint; without an ID token
   * the provider is told the client (`client_id`) instead.
   */
  endSessionUrl(idTokenHint: string | null, postLogoutRedirectUri: string, state: string): Promise<URL | null>;
}

/** The enabled providers' login starters; each provider module registers its own when it is constructed. */
@Injectable()
export class LoginStarters {
  private readonly starters = new Map<IdentityProvider, ProviderLoginStarter>();

  register(starter: ProviderLoginStarter): void {
    this.starters.set(starter.provider, starter);
  }

  get(provider: IdentityProvider): ProviderLoginStarter | undefined {
    return this.starters.get(provider);
  }

  enabled(): IdentityProvider[] {
    return [...this.starters.keys()].sort();
  }
}
