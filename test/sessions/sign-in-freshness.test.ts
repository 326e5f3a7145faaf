import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { decodeJwt } from 'jose';
import { PERSONAS } from '../../sandbox/digidentity/personas.js';
import { LoginStarters } from '../../src/auth/login-starters.js';
import { SessionsService } from '../../src/sessions/sessions.service.js';
import { hashSignOutHandle } from '../../src/login-transactions/sign-out-hints.repository.js';
import { Browser, type BrowserResponse } from '../support/browser.js';
import { csrfHeaders, portalWrite, startLink } from '../support/link-flow.js';
import {
  DIGIDENTITY_CALLBACK,
  errorPage,
  IDIN_CALLBACK,
  confirmProviderSignOut,
  IDIN_VRIES,
  newIdinPersona,
  idTokenIssuer,
  keptSignOutTokens,
  providerNote,
  reachProviderCallback,
  SIGNED_OUT_MARKER,
  startProvidersTestbed,
  type ProvidersTestbed,
} from '../support/providers-testbed.js';

const IOE = PERSONAS.find((p) => !p.claims.rsseuid)!;
const VIN = 'WVWZZZ1JZXW000001';

interface Me {
  account: { id: string };
  session: { id: string; authenticatedAt: string | null };
  csrfToken: string;
}

/**
 * A login is only as fresh as the provider says (`auth_time`): a provider's single sign-on answer is not a new
 * sign-in, a login without `auth_time` is never recent, SERMI logins are always new Trust Centre sign-ins, and
 * signing out ends the provider's session too. Both OIDC sandboxes keep single sign-on sessions like the real
 * providers; their knobs make them answer without `auth_time` or ignore prompt=login / max_age.
 */
describe('sign-in freshness: single sign-on answers are not fresh sign-ins', () => {
  let bed: ProvidersTestbed;
  let base: string;

  beforeAll(async () => {
    bed = await startProvidersTestbed({ env: { SIGNICAT_IDIN_UNKNOWN_IDENTITY_POLICY: 'provision' } });
    base = bed.app.baseUrl;
    await bed.app.dataSource.query(
      `INSERT INTO rmi_items (code, title, security_related) VALUES ('IMMO_KEY_PROGRAMMING', 'Key programming', true)`,
    );
  });
  afterEach(() => {
    for (const signIns of [bed.digidentity.signIns, bed.idin.signIns]) {
      signIns.reportAuthTime = true;
      signIns.ignoreFreshnessRequests = false;
    }
  });
  afterAll(async () => bed.close());

  const me = async (browser: Browser) => (await browser.request(`${base}/api/me`)).json<Me>();
  const sessionRow = async (id: string) =>
    (
      await bed.app.dataSource.query(`SELECT authenticated_at, revoked_at, revoke_reason FROM sessions WHERE id = $1`, [
        id,
      ])
    )[0] as { authenticated_at: Date | null; revoked_at: Date | null };
  /** The ID token kept for this browser's next sign-out at `provider` (ProviderLogout), if any. */
  const keptIdToken = async (browser: Browser, provider: string): Promise<string | undefined> =>
    (await keptSignOutTokens(bed, browser))[provider];

  /** Starts a login and reports whether the provider answered without showing its sign-in page. */
  async function answeredSilently(browser: Browser, loginPath: string, callbackPath: string): Promise<boolean> {
    const first = await browser.follow(`${base}${loginPath}`, (next) => next.startsWith(`${base}${callbackPath}`));
    return first.location?.startsWith(`${base}${callbackPath}`) === true;
  }

  const idinLoginPath = '/auth/signicat-idin/login?returnTo=%2Fportal';
  const signOutAsApiClient = async (browser: Browser) =>
    browser.request(`${base}/auth/logout`, { method: 'POST', headers: await csrfHeaders(browser, bed.app) });
  const decide = async (browser: Browser) =>
    portalWrite(browser, bed.app, 'POST', '/api/sermi/access', { vin: VIN, item: 'IMMO_KEY_PROGRAMMING' });

  it('asks every provider for auth_time: max_age on ordinary logins, prompt=login and max_age=0 on SERMI logins', async () => {
    const idin = new URL((await new Browser().request(`${base}${idinLoginPath}`)).location!);
    expect(idin.searchParams.get('max_age')).toBe(String(bed.app.config.login.maxAgeSeconds));
    expect(idin.searchParams.has('prompt')).toBe(false);

    const digidentity = new URL((await new Browser().request(`${base}/auth/digidentity/login`)).location!);
    expect(digidentity.searchParams.get('prompt')).toBe('login');
    expect(digidentity.searchParams.get('max_age')).toBe('0');
  });

  it("keeps the provider's auth_time: the next person at a shared PC gets no recent login from a silent answer", async () => {
    // Person A signed in at iDIN 3 minutes ago — within LINK_RECENT_AUTH_SECONDS (10 minutes) — and signs out of
    // the portal only, as an API client that does not follow providerLogoutUrl.
    const pc = new Browser();
    await bed.idinLogin(pc, IDIN_VRIES.id);
    const accountA = (await me(pc)).account.id;
    bed.idin.signIns.ageSignIns(3 * 60);
    expect((await signOutAsApiClient(pc)).status).toBe(200);
    // The cookie by which a sign-out makes this browser's next logins new sign-ins, removed by B.
    pc.cookies(base).delete(SIGNED_OUT_MARKER);

    // Person B clicks "Sign in with iDIN": the provider answers from A's single sign-on session.
    const started = Date.now();
    expect(await answeredSilently(pc, idinLoginPath, IDIN_CALLBACK)).toBe(true);
    const callback = await pc.request(
      await reachProviderCallback(pc, `${base}${idinLoginPath}`, IDIN_VRIES.id, `${base}${IDIN_CALLBACK}`),
    );
    expect(callback.status).toBe(302);
    const session = await me(pc);
    expect(session.account.id).toBe(accountA);
    const authenticatedAt = new Date(session.session.authenticatedAt!).getTime();
    expect(started - authenticatedAt).toBeGreaterThanOrEqual(3 * 60 * 1000 - 2000);

    // The provider vouched for the browser, not for B: however young A's sign-in, this login is never recent. B
    // cannot attach a method of their own to A's account, nor end A's other sessions.
    const link = await startLink(pc, bed.app, 'digidentity');
    expect(link.status).toBe(403);
    expect(link.json()).toMatchObject({ code: 'reauthentication_required', reauthenticateUrl: expect.any(String) });
    const others = await portalWrite(pc, bed.app, 'POST', '/api/me/sessions/revoke-others');
    expect(others.status).toBe(403);
    expect(others.json()).toMatchObject({ code: 'reauthentication_required', reauthenticateUrl: expect.any(String) });
    expect((await pc.request(`${base}/api/me/links`)).json()).toMatchObject({ recentAuthenticationUntil: null });
  });

  it('takes no sign-in from before the login for a new one, however recent: ten seconds before, at a shared PC', async () => {
    // A signs in at iDIN and signs out of the portal only; B's login ten seconds later is answered from A's sign-in.
    const pc = new Browser();
    await bed.idinLogin(pc, IDIN_VRIES.id);
    const accountA = (await me(pc)).account.id;
    expect((await signOutAsApiClient(pc)).status).toBe(200);
    pc.cookies(base).delete(SIGNED_OUT_MARKER);
    bed.idin.signIns.ageSignIns(10);
    const callback = await reachProviderCallback(
      pc,
      `${base}${idinLoginPath}`,
      IDIN_VRIES.id,
      `${base}${IDIN_CALLBACK}`,
    );
    expect((await pc.request(callback)).status).toBe(302);
    const session = await me(pc);
    expect(session.account.id).toBe(accountA);
    const [context] = await bed.app.dataSource.query(
      `SELECT auth_context->'newSignIn' AS new FROM sessions WHERE id = $1`,
      [session.session.id],
    );
    expect(context).toEqual({ new: false });
    expect((await startLink(pc, bed.app, 'digidentity')).status).toBe(403);

    // The Trust Centre the same way, its prompt=login stripped: refused, nobody signed in.
    const desk = new Browser();
    await bed.digidentityLogin(desk, IOE.id);
    expect((await signOutAsApiClient(desk)).status).toBe(200);
    desk.cookies(base).delete(SIGNED_OUT_MARKER);
    bed.digidentity.signIns.ageSignIns(10);
    bed.digidentity.signIns.ignoreFreshnessRequests = true;
    expect((await bed.digidentityLogin(desk, IOE.id)).location).toBe(errorPage(bed, 'authentication_not_fresh'));
    expect((await desk.request(`${base}/api/me`)).status).toBe(401);
  });

  it("demands a new sign-in after a sign-out here, whichever provider's single sign-on session is left", async () => {
    // A signs in with Digidentity, adds iDIN (a new iDIN sign-in), and signs out completely: RP-initiated logout ends
    // the Trust Centre's session, the one the portal session came from — not iDIN's.
    const pc = new Browser();
    await bed.digidentityLogin(pc, IOE.id);
    const { redirectUrl } = (await startLink(pc, bed.app, 'signicat-idin')).json<{ redirectUrl: string }>();
    await pc.request(await reachProviderCallback(pc, redirectUrl, IDIN_VRIES.id, `${base}${IDIN_CALLBACK}`));
    expect((await signOutAsApiClient(pc)).status).toBe(200);
    expect(pc.cookie(base, SIGNED_OUT_MARKER)).toBe('1');

    // B's "Sign in with iDIN" asks for a new sign-in: iDIN shows its page instead of answering with A's session.
    const toIdin = new URL((await pc.request(`${base}${idinLoginPath}`)).location!);
    expect([toIdin.searchParams.get('prompt'), toIdin.searchParams.get('max_age')]).toEqual(['login', '0']);
    expect(await answeredSilently(pc, idinLoginPath, IDIN_CALLBACK)).toBe(false);
    // And a provider that ignores it (or a login URL stripped of it) signs nobody in.
    bed.idin.signIns.ageSignIns(10);
    bed.idin.signIns.ignoreFreshnessRequests = true;
    const silent = await pc.request(
      await reachProviderCallback(pc, `${base}${idinLoginPath}`, IDIN_VRIES.id, `${base}${IDIN_CALLBACK}`),
    );
    expect(silent.location).toBe(errorPage(bed, 'authentication_not_fresh'));
    expect((await pc.request(`${base}/api/me`)).status).toBe(401);

    // Another browser, where nobody signed out, keeps the provider's single sign-on for ordinary logins.
    const elsewhere = new URL((await new Browser().request(`${base}${idinLoginPath}`)).location!);
    expect([elsewhere.searchParams.has('prompt'), elsewhere.searchParams.get('max_age')]).toEqual([
      false,
      String(bed.app.config.login.maxAgeSeconds),
    ]);
  });

  it('demands a new sign-in too where a session ended without a sign-out: ended from a phone, for the PC', async () => {
    // A signs in with iDIN at the PC, walks away, and ends that session from the phone.
    const pc = new Browser();
    await bed.idinLogin(pc, IDIN_VRIES.id);
    const session = (await me(pc)).session.id;
    const phone = new Browser();
    await bed.idinLogin(phone, IDIN_VRIES.id);
    expect((await portalWrite(phone, bed.app, 'DELETE', `/api/me/sessions/${session}`)).status).toBe(200);

    // B at the PC, straight to a login (the dead session cookie still there), or after any page of the portal.
    const straight = new URL((await pc.request(`${base}${idinLoginPath}`)).location!);
    expect([straight.searchParams.get('prompt'), straight.searchParams.get('max_age')]).toEqual(['login', '0']);
    pc.cookies(base).delete(SIGNED_OUT_MARKER);
    expect((await pc.request(`${base}/api/me`)).status).toBe(401);
    expect(pc.cookie(base, SIGNED_OUT_MARKER)).toBe('1');
    expect(await answeredSilently(pc, idinLoginPath, IDIN_CALLBACK)).toBe(false);
  });

  it('looks up whether someone left only where that changes the login: never for the Trust Centre', async () => {
    const lookups = jest.spyOn(bed.app.app.get(SessionsService), 'authenticate');
    try {
      const pc = new Browser();
      await bed.idinLogin(pc, IDIN_VRIES.id);
      const freshness = (url: URL) => [url.searchParams.get('prompt'), url.searchParams.get('max_age')];
      lookups.mockClear();

      // Every Trust Centre login demands a new sign-in, whoever used the browser before: nothing to find out.
      const toTrustCentre = new URL((await pc.request(`${base}/auth/digidentity/login`)).location!);
      expect(freshness(toTrustCentre)).toEqual(['login', '0']);
      expect(lookups).not.toHaveBeenCalled();

      // An ordinary iDIN login asks only if someone left: its session cookie is looked up, found live.
      const toIdin = new URL((await pc.request(`${base}${idinLoginPath}`)).location!);
      expect(freshness(toIdin)).toEqual([null, String(bed.app.config.login.maxAgeSeconds)]);
      expect(lookups).toHaveBeenCalledTimes(1);
    } finally {
      lookups.mockRestore();
    }
  });

  it('demands a new sign-in too when an access decision is the first to find the session ended', async () => {
    // A signs in with iDIN at the PC, whose open portal page asks for access decisions; A ends that session from the
    // phone. The page's next decision meets the ended session in the statement that would log it (not in the guard).
    const pc = new Browser();
    await bed.idinLogin(pc, IDIN_VRIES.id);
    const session = (await me(pc)).session.id;
    const headers = await csrfHeaders(pc, bed.app);
    const decide = () =>
      pc.request(`${base}/api/sermi/access`, {
        headers,
        json: { vin: 'WVWZZZ1JZXW000001', item: 'IMMO_KEY_PROGRAMMING' },
      });
    expect((await decide()).status).toBe(200);
    const phone = new Browser();
    await bed.idinLogin(phone, IDIN_VRIES.id);
    expect((await portalWrite(phone, bed.app, 'DELETE', `/api/me/sessions/${session}`)).status).toBe(200);
    expect((await decide()).status).toBe(401);

    // Its cookie went with the note that someone left: B's login at the PC demands a new sign-in at iDIN.
    expect([pc.cookie(base, bed.app.config.session.cookieName), pc.cookie(base, SIGNED_OUT_MARKER)]).toEqual([
      undefined,
      '1',
    ]);
    const next = new URL((await pc.request(`${base}${idinLoginPath}`)).location!);
    expect([next.searchParams.get('prompt'), next.searchParams.get('max_age')]).toEqual(['login', '0']);
    expect(await answeredSilently(pc, idinLoginPath, IDIN_CALLBACK)).toBe(false);
  });

  it('refuses a re-authentication that the provider answers from its old single sign-on session', async () => {
    const pc = new Browser();
    await bed.idinLogin(pc, IDIN_VRIES.id);
    bed.idin.signIns.ageSignIns(15 * 60);
    bed.idin.signIns.ignoreFreshnessRequests = true;
    const reauth = await pc.request(`${base}/auth/reauthenticate?provider=signicat-idin&returnTo=%2Fsettings`);
    const callback = await pc.request(
      await reachProviderCallback(pc, reauth.location!, IDIN_VRIES.id, `${base}${IDIN_CALLBACK}`),
    );
    expect(callback.location).toBe(errorPage(bed, 'authentication_not_fresh'));
  });

  it('signs an ordinary login without auth_time in, but it never counts as recent', async () => {
    bed.idin.signIns.reportAuthTime = false;
    const pc = new Browser();
    expect((await bed.idinLogin(pc, IDIN_VRIES.id)).status).toBe(302);
    const session = await me(pc);
    expect(session.session.authenticatedAt).toBeNull();
    expect((await sessionRow(session.session.id)).authenticated_at).toBeNull();

    const link = await startLink(pc, bed.app, 'digidentity');
    expect(link.json()).toMatchObject({ code: 'reauthentication_required', reauthenticateUrl: expect.any(String) });
    const others = await portalWrite(pc, bed.app, 'POST', '/api/me/sessions/revoke-others');
    expect(others.json()).toMatchObject({ code: 'reauthentication_required', reauthenticateUrl: expect.any(String) });
    expect((await pc.request(`${base}/api/me/links`)).json()).toMatchObject({ recentAuthenticationUntil: null });
    const sessions = (await pc.request(`${base}/api/me/sessions`)).json<{
      sessions: Array<{ current: boolean; authenticatedAt: string | null }>;
    }>();
    expect(sessions.sessions.find((s) => s.current)).toMatchObject({ authenticatedAt: null });

    // Re-authenticating does not help while the provider keeps not saying when the person signed in.
    const reauthPath = `${base}/auth/reauthenticate?provider=signicat-idin&returnTo=%2Fsettings`;
    const reauth = await pc.request(reauthPath);
    const callback = await pc.request(
      await reachProviderCallback(pc, reauth.location!, IDIN_VRIES.id, `${base}${IDIN_CALLBACK}`),
    );
    expect(callback.location).toBe(errorPage(bed, 'authentication_not_fresh'));

    // Once it says again, a new sign-in is recent.
    bed.idin.signIns.reportAuthTime = true;
    const again = await pc.request(reauthPath);
    await pc.request(await reachProviderCallback(pc, again.location!, IDIN_VRIES.id, `${base}${IDIN_CALLBACK}`));
    const links = (await pc.request(`${base}/api/me/links`)).json<{ recentAuthenticationUntil: string }>();
    expect(new Date(links.recentAuthenticationUntil).getTime()).toBeGreaterThan(Date.now());
  });

  it('refuses a Trust Centre login that is not a new sign-in: no auth_time, or an answer from an old one', async () => {
    const pc = new Browser();
    await bed.digidentityLogin(pc, IOE.id);
    expect((await decide(pc)).json()).toMatchObject({ decision: 'granted' });
    expect((await signOutAsApiClient(pc)).status).toBe(200);

    // An honest Trust Centre asks again (prompt=login): the next person sees the sign-in page.
    expect(await answeredSilently(pc, '/auth/digidentity/login', DIGIDENTITY_CALLBACK)).toBe(false);

    // One that ignores prompt=login — or a login URL stripped of it in the browser — answers silently from the
    // earlier sign-in, here only five minutes old (within the SERMI maximum age): refused, nobody signed in.
    bed.digidentity.signIns.ageSignIns(5 * 60);
    bed.digidentity.signIns.ignoreFreshnessRequests = true;
    expect(await answeredSilently(pc, '/auth/digidentity/login', DIGIDENTITY_CALLBACK)).toBe(true);
    const silent = await bed.digidentityLogin(pc, IOE.id);
    expect(silent.location).toBe(errorPage(bed, 'authentication_not_fresh'));
    expect((await pc.request(`${base}/api/me`)).status).toBe(401);

    // A Trust Centre answer that does not say when the person signed in is no new sign-in either.
    bed.digidentity.signIns.ignoreFreshnessRequests = false;
    bed.digidentity.signIns.reportAuthTime = false;
    const unsaid = await bed.digidentityLogin(new Browser(), IOE.id);
    expect(unsaid.location).toBe(errorPage(bed, 'authentication_not_fresh'));

    // With both as they should be, the same person signs in and is granted again.
    bed.digidentity.signIns.reportAuthTime = true;
    const honest = new Browser();
    await bed.digidentityLogin(honest, IOE.id);
    expect((await decide(honest)).json()).toMatchObject({ decision: 'granted' });
  });

  it('ends the provider session on sign-out (RP-initiated logout), so the next person must sign in themselves', async () => {
    const pc = new Browser();
    const login = await bed.idinLogin(pc, IDIN_VRIES.id);
    const sessionId = (await me(pc)).session.id;
    // Kept for the sign-out under the browser's note, not with the session.
    const hint = (await keptIdToken(pc, 'signicat-idin'))!;
    expect(decodeJwt(hint)).toMatchObject({ aud: bed.idin.clientId, iss: bed.idin.issuer });
    // The session cookie ends with the browser: no Max-Age, no Expires.
    const setCookie = login.headers.getSetCookie().find((c) => c.startsWith(`${bed.app.config.session.cookieName}=`))!;
    expect(setCookie).not.toMatch(/Max-Age|Expires/i);

    const signedOut = await signOutAsApiClient(pc);
    expect(signedOut.status).toBe(200);
    const providerLogoutUrl = new URL(signedOut.json<{ providerLogoutUrl: string }>().providerLogoutUrl);
    expect(providerLogoutUrl.origin + providerLogoutUrl.pathname).toBe(`${bed.idin.issuer}/connect/endsession`);
    expect(Object.fromEntries(providerLogoutUrl.searchParams)).toEqual({
      id_token_hint: hint,
      post_logout_redirect_uri: `${base}/auth/logout/done`,
      state: expect.stringMatching(/^[\w-]{32}$/),
      client_id: bed.idin.clientId,
    });
    expect(await sessionRow(sessionId)).toMatchObject({ revoke_reason: 'logout' });
    // Until the browser comes back from the provider's page, the next sign-out may still need it.
    expect(await keptIdToken(pc, 'signicat-idin')).toBe(hint);

    // The browser goes to the provider's sign-out page and confirms; the provider sends it back to us.
    const back = await confirmProviderSignOut(pc, base, providerLogoutUrl.href);
    expect(back).toBe(`${base}/auth/logout/done?state=${providerLogoutUrl.searchParams.get('state')}`);
    const handle = pc.cookie(base, providerNote('signicat-idin'))!;
    const done = await pc.request(back);
    expect(done.status).toBe(303);
    expect(done.location).toBe(`${base}/`);
    expect(
      await bed.app.dataSource.query(`SELECT 1 FROM sign_out_hints WHERE handle_hash = $1`, [
        hashSignOutHandle(handle),
      ]),
    ).toEqual([]);

    // The provider's session is gone: the next login shows its sign-in page.
    expect(await answeredSilently(pc, idinLoginPath, IDIN_CALLBACK)).toBe(false);
  });

  it('sends a browser signing out straight to the provider, and notes a state that does not match on return', async () => {
    const pc = new Browser();
    await bed.idinLogin(pc, IDIN_VRIES.id);
    const signedOut: BrowserResponse = await pc.request(`${base}/auth/logout`, {
      method: 'POST',
      headers: { ...(await csrfHeaders(pc, bed.app)), Accept: 'text/html' },
    });
    expect(signedOut.status).toBe(303);
    expect(signedOut.location).toMatch(new RegExp(`^${bed.idin.issuer}/connect/endsession\\?`));
    const done = await pc.request(`${base}/auth/logout/done?state=not-the-one`);
    expect(done.location).toBe(`${base}/?providerLogout=unconfirmed`);
  });

  it('ends every provider session this browser signed in at, one sign-out page after the other', async () => {
    // A signs in with Digidentity and adds iDIN (a new iDIN sign-in): two single sign-on sessions in this browser.
    const pc = new Browser();
    await bed.digidentityLogin(pc, IOE.id);
    // A person of this test's own at iDIN: earlier tests linked IDIN_VRIES to another account, which would refuse the
    // link (and keep its ID token after answering: a race with the sign-out below).
    const idinPerson = newIdinPersona(bed, 'idin-sub-round-0001', { idp_id: 'ROUND-0001' });
    const { redirectUrl } = (await startLink(pc, bed.app, 'signicat-idin')).json<{ redirectUrl: string }>();
    const linked = await pc.request(
      await reachProviderCallback(pc, redirectUrl, idinPerson.id, `${base}${IDIN_CALLBACK}`),
    );
    expect(linked.location).toBe(`${base}/account`);
    const signedOut = await pc.request(`${base}/auth/logout`, {
      method: 'POST',
      headers: { ...(await csrfHeaders(pc, bed.app)), Accept: 'text/html' },
    });
    // First the session's own provider, with its ID token.
    const trustCentre = new URL(signedOut.location!);
    expect(trustCentre.origin + trustCentre.pathname).toBe(`${bed.digidentity.issuer}/oauth2/logout`);
    expect(trustCentre.searchParams.has('id_token_hint')).toBe(true);
    const firstBack = await confirmProviderSignOut(pc, base, trustCentre.href);
    // Back here, on to iDIN's sign-out page, with the ID token of the link login kept for it.
    const next = await pc.request(firstBack);
    const idin = new URL(next.location!);
    expect(idin.origin + idin.pathname).toBe(`${bed.idin.issuer}/connect/endsession`);
    expect(Object.fromEntries(idin.searchParams)).toEqual({
      post_logout_redirect_uri: `${base}/auth/logout/done`,
      state: expect.stringMatching(/^[\w-]{32}$/),
      client_id: bed.idin.clientId,
      id_token_hint: expect.any(String),
    });
    expect(idTokenIssuer(idin.searchParams.get('id_token_hint'))).toBe(bed.idin.issuer);
    const done = await pc.request(await confirmProviderSignOut(pc, base, idin.href));
    expect(done.location).toBe(`${base}/`);

    // The next person removes the note that someone left: still, neither provider answers with A's sign-in.
    pc.cookies(base).delete(SIGNED_OUT_MARKER);
    expect(await answeredSilently(pc, idinLoginPath, IDIN_CALLBACK)).toBe(false);
    expect(await answeredSilently(pc, '/auth/digidentity/login', DIGIDENTITY_CALLBACK)).toBe(false);
  });

  it('asks the provider by client_id when no ID token of the login is kept', async () => {
    const bare = new Browser();
    await bed.idinLogin(bare, IDIN_VRIES.id);
    await bed.app.dataSource.query(`DELETE FROM sign_out_hints WHERE handle_hash = $1`, [
      hashSignOutHandle(bare.cookie(base, providerNote('signicat-idin'))!),
    ]);
    const bareUrl = new URL((await signOutAsApiClient(bare)).json<{ providerLogoutUrl: string }>().providerLogoutUrl);
    expect(bareUrl.searchParams.has('id_token_hint')).toBe(false);
    expect(bareUrl.searchParams.get('client_id')).toBe(bed.idin.clientId);

    // So does a browser whose session ended elsewhere meanwhile: its sign-out still ends what it signed in at.
    const left = new Browser();
    await bed.idinLogin(left, IDIN_VRIES.id);
    await bed.app.dataSource.query(`UPDATE sessions SET revoked_at = now(), revoke_reason = 'test' WHERE id = $1`, [
      (await me(left)).session.id,
    ]);
    const late = await left.request(`${base}/auth/logout`, { method: 'POST', headers: { Origin: base } });
    expect(late.status).toBe(200);
    expect(new URL(late.json<{ providerLogoutUrl: string }>().providerLogoutUrl).origin).toBe(
      new URL(bed.idin.issuer).origin,
    );
  });

  it('signs out with 204 and no provider step when this browser signed in at no provider that offers one', async () => {
    const pc = new Browser();
    await bed.idinLogin(pc, IDIN_VRIES.id);
    const logout = bed.app.app.get(LoginStarters).get('signicat-idin')!.providerLogout!;
    const endSessionUrl = logout.endSessionUrl.bind(logout);
    // As a provider without an end_session_endpoint answers.
    logout.endSessionUrl = () => Promise.resolve(null);
    try {
      expect((await signOutAsApiClient(pc)).status).toBe(204);
    } finally {
      logout.endSessionUrl = endSessionUrl;
    }
  });
});
