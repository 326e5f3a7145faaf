import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { PERSONAS } from '../../sandbox/digidentity/personas.js';
import { LoginStarters } from '../../src/auth/login-starters.js';
import { hashSignOutHandle, SignOutHintsRepository } from '../../src/login-transactions/sign-out-hints.repository.js';
import { Browser } from '../support/browser.js';
import { eventually } from '../support/eventually.js';
import { csrfHeaders, portalWrite } from '../support/link-flow.js';
import {
  confirmProviderSignOut,
  IDIN_BAKKER,
  IDIN_CALLBACK,
  idTokenIssuer,
  NOTE_HANDLE,
  IDIN_VRIES,
  keptSignOutTokens,
  providerNote,
  SIGNED_OUT_MARKER,
  startProvidersTestbed,
  type ProvidersTestbed,
} from '../support/providers-testbed.js';

const IOE = PERSONAS.find((p) => !p.claims.rsseuid)!;

/**
 * The round of provider sign-out pages a sign-out goes through (ProviderLogout): which providers it visits, and that
 * a provider stays on it until the browser comes back from its page — a closed tab, a refused login or a provider out
 * of reach must not leave the next person at a shared PC a silent sign-in there.
 */
describe('the provider sign-out round', () => {
  let bed: ProvidersTestbed;
  let base: string;

  beforeAll(async () => {
    bed = await startProvidersTestbed({ env: { SIGNICAT_IDIN_UNKNOWN_IDENTITY_POLICY: 'provision' } });
    base = bed.app.baseUrl;
  });
  afterEach(() => {
    bed.idinHostility = {};
  });
  afterAll(async () => bed.close());

  const idinOrigin = () => new URL(bed.idin.issuer).origin;
  const signOut = async (browser: Browser, headers?: Record<string, string>) =>
    browser.request(`${base}/auth/logout`, {
      method: 'POST',
      headers: { ...(headers ?? (await csrfHeaders(browser, bed.app))), Accept: 'text/html' },
    });
  /** Whether iDIN answers a login from this browser without its sign-in page (the note that someone left removed). */
  async function idinAnswersSilently(browser: Browser): Promise<boolean> {
    browser.cookies(base).delete(SIGNED_OUT_MARKER);
    const first = await browser.follow(`${base}/auth/signicat-idin/login`, (next) =>
      next.startsWith(`${base}${IDIN_CALLBACK}`),
    );
    return first.location?.startsWith(`${base}${IDIN_CALLBACK}`) === true;
  }

  it('visits a provider again at the next sign-out when its sign-out page was left unconfirmed', async () => {
    const pc = new Browser();
    await bed.idinLogin(pc, IDIN_VRIES.id);
    const first = await signOut(pc);
    expect(new URL(first.location!).origin).toBe(idinOrigin());
    // The tab with iDIN's "Sign out of this provider too?" is closed. The note stays, for as long as a sign-in lives.
    expect(pc.cookie(base, providerNote('signicat-idin'))).toMatch(NOTE_HANDLE);

    const again = await signOut(pc, { Origin: base });
    const idin = new URL(again.location!);
    expect(idin.origin).toBe(idinOrigin());
    expect((await pc.request(await confirmProviderSignOut(pc, base, idin.href))).location).toBe(`${base}/`);
    expect(pc.cookie(base, providerNote('signicat-idin'))).toBeUndefined();
    expect(await idinAnswersSilently(pc)).toBe(false);
  });

  it('visits a provider whose login was refused: the person signed in there all the same', async () => {
    const pc = new Browser();
    bed.idinHostility.userinfo = (body) => ({ ...body, idp_id: '' });
    expect((await bed.idinLogin(pc, IDIN_VRIES.id)).location).toContain('code=userinfo_invalid');
    bed.idinHostility = {};
    // A refused login's ID token is kept after the answer: without it iDIN would keep the browser on its page.
    await eventually(async () => 'signicat-idin' in (await keptSignOutTokens(bed, pc)));
    await bed.digidentityLogin(pc, IOE.id);

    const trustCentre = await signOut(pc);
    expect(new URL(trustCentre.location!).origin).toBe(new URL(bed.digidentity.issuer).origin);
    const next = await pc.request(await confirmProviderSignOut(pc, base, trustCentre.location!));
    expect(new URL(next.location!).origin).toBe(idinOrigin());
    expect((await pc.request(await confirmProviderSignOut(pc, base, next.location!))).location).toBe(`${base}/`);
    expect(await idinAnswersSilently(pc)).toBe(false);
  });

  it('notes both providers of two logins that come back at once (two tabs)', async () => {
    const pc = new Browser();
    const idinCallback = await bed.reachIdinCallback(pc, IDIN_VRIES.id);
    const digidentityCallback = await bed.reachDigidentityCallback(pc, IOE.id);
    await Promise.all([pc.request(idinCallback), pc.request(digidentityCallback)]);
    expect([pc.cookie(base, providerNote('digidentity')), pc.cookie(base, providerNote('signicat-idin'))]).toEqual([
      expect.stringMatching(NOTE_HANDLE),
      expect.stringMatching(NOTE_HANDLE),
    ]);
  });

  it('renews the note at every return, so that it outlives the latest sign-in there', async () => {
    const pc = new Browser();
    await bed.idinLogin(pc, IDIN_VRIES.id);
    const again = await bed.idinLogin(pc, IDIN_VRIES.id);
    const note = again.headers.getSetCookie().find((line) => line.startsWith(`${providerNote('signicat-idin')}=`));
    expect(note).toContain(`Max-Age=${bed.app.config.session.absoluteTimeoutSeconds}`);
  });

  it('renews the kept ID token with the note when a return brings none (a login cancelled at the provider)', async () => {
    const pc = new Browser();
    await bed.idinLogin(pc, IDIN_VRIES.id);
    const handle = pc.cookie(base, providerNote('signicat-idin'))!;
    const expiresIn = async () =>
      (
        await bed.app.dataSource.query<{ seconds: number }[]>(
          `SELECT extract(epoch FROM expires_at - now())::int AS seconds FROM sign_out_hints WHERE handle_hash = $1`,
          [hashSignOutHandle(handle)],
        )
      )[0]?.seconds;
    await bed.app.dataSource.query(
      `UPDATE sign_out_hints SET expires_at = now() + interval '1 minute' WHERE handle_hash = $1`,
      [hashSignOutHandle(handle)],
    );
    const page = await pc.follow(`${base}/auth/signicat-idin/login?prompt=login`);
    const cancelled = await pc.follow(`${page.url}/abort`, (url) => url.startsWith(`${base}/auth/login-error`), {
      form: {},
    });
    expect(cancelled.location).toContain('code=login_cancelled');
    expect(pc.cookie(base, providerNote('signicat-idin'))).toBe(handle);
    // Written after the refusal page is on its way.
    await eventually(async () => ((await expiresIn()) ?? 0) > bed.app.config.session.absoluteTimeoutSeconds - 60);
  });

  it('keeps a provider it cannot reach at sign-out for the next one', async () => {
    const pc = new Browser();
    await bed.idinLogin(pc, IDIN_VRIES.id);
    const noted = pc.cookie(base, providerNote('signicat-idin'));
    const starter = bed.app.app.get(LoginStarters).get('signicat-idin')!;
    const logout = starter.providerLogout!;
    const endSessionUrl = logout.endSessionUrl.bind(logout);
    logout.endSessionUrl = () => Promise.reject(new Error('discovery unreachable'));
    try {
      expect((await signOut(pc)).location).toBe(`${base}/`);
    } finally {
      logout.endSessionUrl = endSessionUrl;
    }
    expect(pc.cookie(base, providerNote('signicat-idin'))).toBe(noted);
    const later = await signOut(pc, { Origin: base });
    expect(new URL(later.location!).origin).toBe(idinOrigin());
  });

  it('asks by client_id when the database cannot say which ID token it kept, and keeps the note', async () => {
    const pc = new Browser();
    await bed.idinLogin(pc, IDIN_VRIES.id);
    const noted = pc.cookie(base, providerNote('signicat-idin'));
    const hints = bed.app.app.get(SignOutHintsRepository);
    const find = hints.find.bind(hints);
    hints.find = () => Promise.reject(new Error('connection terminated'));
    let out;
    try {
      out = new URL((await signOut(pc)).location!);
    } finally {
      hints.find = find;
    }
    expect([out.origin, out.searchParams.get('id_token_hint'), out.searchParams.get('client_id')]).toEqual([
      idinOrigin(),
      null,
      bed.idin.clientId,
    ]);
    expect(pc.cookie(base, providerNote('signicat-idin'))).toBe(noted);
    expect(bed.app.logs.text()).toContain('reading the sign-out ID tokens failed');
  });

  it('answers a refused login without waiting for its ID token to be kept, and notes the provider if that fails', async () => {
    const pc = new Browser();
    const hints = bed.app.app.get(SignOutHintsRepository);
    const keep = hints.keep.bind(hints);
    let attempts = 0;
    try {
      bed.idinHostility.userinfo = (body) => ({ ...body, idp_id: '' });
      // A database that does not answer: the refusal page comes all the same.
      hints.keep = () => {
        attempts += 1;
        return new Promise<void>(() => {});
      };
      expect((await bed.idinLogin(new Browser(), IDIN_VRIES.id)).location).toContain('code=userinfo_invalid');
      // One that fails: the failure is logged.
      hints.keep = () => {
        attempts += 1;
        return Promise.reject(new Error('connection terminated'));
      };
      expect((await bed.idinLogin(pc, IDIN_VRIES.id)).location).toContain('code=userinfo_invalid');
      await eventually(async () =>
        bed.app.logs.text().includes('keeping the ID token for the provider sign-out failed'),
      );
    } finally {
      hints.keep = keep;
    }
    expect(attempts).toBe(2);
    // Noted all the same: the sign-out visits iDIN, by client_id since no token was kept.
    expect(pc.cookie(base, providerNote('signicat-idin'))).toMatch(NOTE_HANDLE);
    expect(await keptHints(pc)).toEqual([]);
    const out = new URL((await signOut(pc, { Origin: base })).location!);
    expect([out.origin, out.searchParams.get('id_token_hint')]).toEqual([idinOrigin(), null]);
  });

  it('goes on after a stray visit to its way back without the state, and takes extra parameters there', async () => {
    const pc = new Browser();
    await bed.idinLogin(pc, IDIN_VRIES.id);
    await bed.digidentityLogin(pc, IOE.id);
    const trustCentre = await signOut(pc);
    // While the Trust Centre's page is open, something opens the way back without the state (a second tab, a link).
    expect((await pc.request(`${base}/auth/logout/done`)).location).toBe(`${base}/?providerLogout=unconfirmed`);
    const back = new URL(await confirmProviderSignOut(pc, base, trustCentre.location!));
    back.searchParams.set('iss', bed.digidentity.issuer);
    const next = await pc.request(back.href);
    expect([next.status, new URL(next.location!).origin]).toEqual([303, idinOrigin()]);
  });

  it('notes no provider for a callback URL that is not a login of this browser', async () => {
    const pc = new Browser();
    const forged = await pc.request(`${base}/auth/digidentity/callback?code=planted&state=not-a-login-of-this-browser`);
    expect(forged.status).toBe(302);
    expect(pc.cookie(base, providerNote('digidentity'))).toBeUndefined();
  });

  it('goes through the round when the browser ends its own session from the account page', async () => {
    const pc = new Browser();
    await bed.digidentityLogin(pc, IOE.id);
    const me = (await pc.request(`${base}/api/me`)).json<{ session: { id: string }; csrfToken: string }>();
    const ended = await pc.request(`${base}/account/sessions/${me.session.id}/end`, {
      form: { _csrf: me.csrfToken },
      headers: { Origin: base },
    });
    expect([ended.status, new URL(ended.location!).origin]).toEqual([303, new URL(bed.digidentity.issuer).origin]);
    // With the ID token kept under the browser's note: the session holds none.
    expect(idTokenIssuer(new URL(ended.location!).searchParams.get('id_token_hint'))).toBe(bed.digidentity.issuer);
  });

  it('hands an API client that ends its own session the first page of the round', async () => {
    const pc = new Browser();
    await bed.idinLogin(pc, IDIN_VRIES.id);
    const { session } = (await pc.request(`${base}/api/me`)).json<{ session: { id: string } }>();
    const ended = await portalWrite(pc, bed.app, 'DELETE', `/api/me/sessions/${session.id}`);
    expect(ended.json()).toMatchObject({ revokedSessionId: session.id, signedOut: true });
    const providerLogoutUrl = new URL(ended.json<{ providerLogoutUrl: string }>().providerLogoutUrl);
    expect([providerLogoutUrl.origin, idTokenIssuer(providerLogoutUrl.searchParams.get('id_token_hint'))]).toEqual([
      idinOrigin(),
      bed.idin.issuer,
    ]);
  });

  /** The providers this browser's next sign-out has an ID token for. */
  const keptHints = async (browser: Browser) => Object.keys(await keptSignOutTokens(bed, browser));

  it("hands each provider the ID token of the browser's latest login there, so that each sends it back", async () => {
    const pc = new Browser();
    await bed.idinLogin(pc, IDIN_VRIES.id);
    await bed.digidentityLogin(pc, IOE.id);
    expect(await keptHints(pc)).toEqual(['digidentity', 'signicat-idin']);
    const trustCentre = new URL((await signOut(pc)).location!);
    expect(idTokenIssuer(trustCentre.searchParams.get('id_token_hint'))).toBe(bed.digidentity.issuer);

    // The sandboxes, like IdentityServer-style providers, send the browser back only when the hint names the sign-in.
    const idin = new URL((await pc.request(await confirmProviderSignOut(pc, base, trustCentre.href))).location!);
    expect([idin.origin, idTokenIssuer(idin.searchParams.get('id_token_hint'))]).toEqual([
      idinOrigin(),
      bed.idin.issuer,
    ]);
    expect((await pc.request(await confirmProviderSignOut(pc, base, idin.href))).location).toBe(`${base}/`);
    expect(await keptHints(pc)).toEqual([]);
    expect(await idinAnswersSilently(pc)).toBe(false);
  });

  it('asks by client_id where no ID token is kept: such a provider may end the round on its own page', async () => {
    const pc = new Browser();
    await bed.idinLogin(pc, IDIN_VRIES.id);
    // A crash emptied the unlogged table (or the login's callback failed before the token exchange).
    await bed.app.dataSource.query(`DELETE FROM sign_out_hints WHERE handle_hash = $1`, [
      hashSignOutHandle(pc.cookie(base, providerNote('signicat-idin'))!),
    ]);
    await bed.digidentityLogin(pc, IOE.id);
    const trustCentre = (await signOut(pc)).location!;
    const idin = new URL((await pc.request(await confirmProviderSignOut(pc, base, trustCentre))).location!);
    expect([idin.searchParams.get('id_token_hint'), idin.searchParams.get('client_id')]).toEqual([
      null,
      bed.idin.clientId,
    ]);
    await expect(confirmProviderSignOut(pc, base, idin.href)).rejects.toThrow('kept the browser on its page');
    // iDIN's sign-in ended all the same; its note stays for the next sign-out, which visits it again.
    expect(await idinAnswersSilently(pc)).toBe(false);
    expect(pc.cookie(base, providerNote('signicat-idin'))).toMatch(NOTE_HANDLE);
  });

  it("is kept on a provider's page by a hint that names someone else than who is signed in there", async () => {
    // The sandboxes hold the hint to the sign-in as IdentityServer does: the round relies on the latest login's token.
    const someone = new Browser();
    await bed.idinLogin(someone, IDIN_VRIES.id);
    const pc = new Browser();
    await bed.idinLogin(pc, IDIN_BAKKER.id);
    const handleOf = (browser: Browser) => hashSignOutHandle(browser.cookie(base, providerNote('signicat-idin'))!);
    await bed.app.dataSource.query(
      `UPDATE sign_out_hints SET id_token = (SELECT id_token FROM sign_out_hints WHERE handle_hash = $2)
        WHERE handle_hash = $1`,
      [handleOf(pc), handleOf(someone)],
    );
    const out = new URL((await signOut(pc, { Origin: base })).location!);
    expect(idTokenIssuer(out.searchParams.get('id_token_hint'))).toBe(bed.idin.issuer);
    await expect(confirmProviderSignOut(pc, base, out.href)).rejects.toThrow('kept the browser on its page');
    // Its own token brings the other browser back.
    const theirs = (await signOut(someone, { Origin: base })).location!;
    expect((await someone.request(await confirmProviderSignOut(someone, base, theirs))).location).toBe(`${base}/`);
  });

  it("finds no ID token under another provider's note", async () => {
    const someone = new Browser();
    await bed.idinLogin(someone, IDIN_VRIES.id);
    const pc = new Browser();
    pc.cookies(base).set(providerNote('digidentity'), someone.cookie(base, providerNote('signicat-idin'))!);
    const trustCentre = new URL((await signOut(pc, { Origin: base })).location!);
    expect([trustCentre.origin, trustCentre.searchParams.get('id_token_hint')]).toEqual([
      new URL(bed.digidentity.issuer).origin,
      null,
    ]);
  });
  it("takes a new handle at every login: one someone planted or copied reaches no later login's token", async () => {
    const someone = new Browser();
    await bed.idinLogin(someone, IDIN_VRIES.id);
    const known = someone.cookie(base, providerNote('signicat-idin'))!;
    const pc = new Browser();
    pc.cookies(base).set(providerNote('signicat-idin'), known);
    await bed.idinLogin(pc, IDIN_BAKKER.id);
    expect(pc.cookie(base, providerNote('signicat-idin'))).toMatch(NOTE_HANDLE);
    expect(pc.cookie(base, providerNote('signicat-idin'))).not.toBe(known);
    // The known handle's token went with the move to a new handle: a sign-out presenting it gets none.
    const out = new URL((await signOut(someone, { Origin: base })).location!);
    expect([out.origin, out.searchParams.get('id_token_hint')]).toEqual([idinOrigin(), null]);
  });

  it('leaves out a provider that never answered a login of this browser (a QR login) and visits it last', async () => {
    const pc = new Browser();
    await bed.idinLogin(pc, IDIN_VRIES.id);
    await signOut(pc); // iDIN's page is left unconfirmed: its note stays.
    const started = (
      await pc.request(`${base}/auth/digidentity/passwordless`, { json: {}, headers: { origin: base } })
    ).json<{ id: string; qrCodeUri: string }>();
    await bed.digidentity.confirmPasswordless(new URL(started.qrCodeUri).pathname.split('/').pop()!, IOE.id);
    await bed.app.dataSource.query(
      `UPDATE login_transactions SET provider_data = provider_data || '{"pollNotBefore": "2000-01-01T00:00:00Z"}'
        WHERE id = $1`,
      [started.id],
    );
    const polled = await pc.request(`${base}/auth/digidentity/passwordless/${started.id}`);
    expect(polled.json()).toMatchObject({ status: 'complete' });

    // The Trust Centre's sign-in was on the phone: the round goes to iDIN only, with its token, and comes back.
    const first = new URL((await signOut(pc)).location!);
    expect([first.origin, idTokenIssuer(first.searchParams.get('id_token_hint'))]).toEqual([
      idinOrigin(),
      bed.idin.issuer,
    ]);
    expect((await pc.request(await confirmProviderSignOut(pc, base, first.href))).location).toBe(`${base}/`);
    expect(await idinAnswersSilently(pc)).toBe(false);

    // A note without a token (from before the tokens were kept) comes after those with one.
    const later = new Browser();
    later.cookies(base).set(providerNote('digidentity'), '1');
    await bed.idinLogin(later, IDIN_VRIES.id);
    const idin = new URL((await signOut(later)).location!);
    expect(idin.origin).toBe(idinOrigin());
    const trustCentre = new URL((await later.request(await confirmProviderSignOut(later, base, idin.href))).location!);
    expect([trustCentre.origin, trustCentre.searchParams.get('id_token_hint')]).toEqual([
      new URL(bed.digidentity.issuer).origin,
      null,
    ]);
  });
});
