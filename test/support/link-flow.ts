import type { Browser, BrowserResponse } from './browser.js';
import type { SignedIn } from './factories.js';
import type { TestApp } from './test-app.js';

/**
 * Forgets the browser's session at a provider (as after closing the browser), so the next provider login shows
 * the persona page instead of oidc-provider's "switch account" form, which needs a script to submit.
 */
export function forgetProviderSession(browser: Browser, issuer: string): void {
  browser.cookies(issuer).clear();
}

/** Puts a session (made with the factories) into a browser, as if it had signed in there. */
export function useSession(browser: Browser, app: TestApp, session: SignedIn): void {
  browser.cookies(app.baseUrl).set(app.config.session.cookieName, session.token);
}

/** The CSRF token of the browser's current session, from GET /api/me (what the portal's front end does). */
export async function csrfHeaders(browser: Browser, app: TestApp): Promise<Record<string, string>> {
  const me = await browser.request(`${app.baseUrl}/api/me`);
  if (me.status !== 200) throw new Error(`not signed in: ${me.status} ${me.body}`);
  return { Origin: new URL(app.baseUrl).origin, 'X-CSRF-Token': me.json<{ csrfToken: string }>().csrfToken };
}

/** A state-changing JSON request from the portal's own pages (Origin + CSRF token). */
export async function portalWrite(
  browser: Browser,
  app: TestApp,
  method: string,
  path: string,
  json?: unknown,
): Promise<BrowserResponse> {
  return browser.request(`${app.baseUrl}${path}`, {
    method,
    json: json ?? {},
    headers: await csrfHeaders(browser, app),
  });
}

/** Starts linking `provider` for the browser's account; returns the answer of POST /api/me/links/{provider}. */
export function startLink(
  browser: Browser,
  app: TestApp,
  provider: string,
  body: Record<string, unknown> = {},
): Promise<BrowserResponse> {
  return portalWrite(browser, app, 'POST', `/api/me/links/${provider}`, body);
}

/** Makes the browser's session look as if its login happened `seconds` ago. */
export async function ageSession(app: TestApp, sessionId: string, seconds: number): Promise<void> {
  await app.dataSource.query(`UPDATE sessions SET authenticated_at = now() - make_interval(secs => $2) WHERE id = $1`, [
    sessionId,
    seconds,
  ]);
}

/**
 * As if the pending identity's login happened `seconds` earlier: a person takes a few seconds to sign in with
 * another method, and a re-proof's `auth_time` must fall in a later second than that login's.
 */
export async function agePendingIdentity(app: TestApp, pendingIdentityId: string, seconds = 2): Promise<void> {
  await app.dataSource.query(
    `UPDATE pending_identities SET last_seen_at = last_seen_at - make_interval(secs => $2),
                                   authenticated_at = authenticated_at - make_interval(secs => $2)
      WHERE id = $1`,
    [pendingIdentityId, seconds],
  );
}
