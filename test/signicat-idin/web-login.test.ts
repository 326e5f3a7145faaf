import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { IDIN_PERSONAS, type IdinPersona } from '../../sandbox/signicat-idin/personas.js';
import type { LoginIntent } from '../../src/auth/login-starters.js';
import { SignicatIdinLoginService } from '../../src/providers/signicat-idin/signicat-idin-login.service.js';
import { Browser } from '../support/browser.js';
import { auditEvents, createAccount } from '../support/factories.js';
import {
  errorPage,
  footprint,
  IDIN_BAKKER,
  IDIN_CALLBACK,
  IDIN_MINOR,
  IDIN_VRIES,
  loginFailures,
  type ProvidersTestbed,
  startProvidersTestbed,
  pendingPage,
} from '../support/providers-testbed.js';

const NO_BIN: IdinPersona = {
  id: 'idin-sub-no-bin-0001',
  label: 'No BIN',
  description: 'user-info without idp_id',
  bankBic: 'SNDBNL2A',
  claims: { initials: 'NB', idin_legal_last_name: 'Zonder' },
};

interface Me {
  account: { id: string; displayName: string };
  links: Array<{ provider: string; attributes: Record<string, unknown> }>;
  session: { provider: string; authContext: Record<string, unknown> };
}

const me = (bed: ProvidersTestbed, browser: Browser) => browser.request(`${bed.app.baseUrl}/api/me`);

function intent(purpose: LoginIntent['purpose'], accountId: string | null = null): LoginIntent {
  return { purpose, accountId, returnTo: '/portal/home', browserBinding: 'b'.repeat(43) };
}

describe('Signicat iDIN web login', () => {
  describe('with SIGNICAT_IDIN_UNKNOWN_IDENTITY_POLICY=provision', () => {
    let bed: ProvidersTestbed;

    beforeAll(async () => {
      bed = await startProvidersTestbed({
        idinPersonas: [...IDIN_PERSONAS, NO_BIN],
        env: {
          SIGNICAT_IDIN_UNKNOWN_IDENTITY_POLICY: 'provision',
          SIGNICAT_IDIN_SCOPES: 'openid idp-id profile idin-name eighteen-or-older',
        },
      });
    });
    afterEach(() => {
      bed.idinHostility = {};
    });
    afterAll(async () => bed.close());

    it('signs a person in, provisions an account named after them, and keeps the BIN on the link', async () => {
      const browser = new Browser();
      const callback = await bed.idinLogin(browser, IDIN_VRIES.id, '/jobs/42');
      expect([callback.status, callback.location]).toEqual([302, `${bed.app.baseUrl}/jobs/42`]);
      const body = (await me(bed, browser)).json<Me>();
      expect(body.account.displayName).toBe('VJ de Vries');
      expect(body.links).toEqual([expect.objectContaining({ provider: 'signicat-idin' })]);
      expect(body.links[0].attributes).toEqual({
        bin: IDIN_VRIES.claims.idp_id,
        name: 'VJ de Vries',
        initials: 'VJ',
        lastName: 'Vries',
        lastNamePrefix: 'de',
        preferredLastName: 'Vries-Jansen',
        preferredLastNamePrefix: 'de',
        eighteenOrOlder: true,
      });
      expect(body.session.provider).toBe('signicat-idin');
      expect(body.session.authContext).toEqual({
        method: 'web',
        provider: 'signicat-idin',
        acr: 'idp:idin',
        newSignIn: true,
      });
      const [link] = await bed.app.dataSource.query(
        `SELECT issuer, subject, person_key FROM identity_links WHERE provider = 'signicat-idin' AND subject = $1`,
        [IDIN_VRIES.id],
      );
      expect(link).toEqual({ issuer: bed.idin.issuer, subject: IDIN_VRIES.id, person_key: null });
    });

    it('keeps the age check as eighteenOrOlder, also when it is false', async () => {
      const browser = new Browser();
      expect((await bed.idinLogin(browser, IDIN_MINOR.id)).status).toBe(302);
      expect((await me(bed, browser)).json<Me>().links[0].attributes).toMatchObject({ eighteenOrOlder: false });
    });

    it('asks Signicat for iDIN with PKCE (S256) and no prompt for a plain login', async () => {
      const start = await new Browser().request(`${bed.app.baseUrl}/auth/signicat-idin/login`);
      expect(start.status).toBe(302);
      const url = new URL(start.location!);
      expect(url.origin + url.pathname).toBe(`${bed.idin.issuer}/connect/authorize`);
      expect(url.searchParams.get('acr_values')).toBe('idp:idin');
      expect(url.searchParams.get('code_challenge_method')).toBe('S256');
      expect(url.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(url.searchParams.get('scope')).toBe('openid idp-id profile idin-name eighteen-or-older');
      expect(url.searchParams.get('nonce')).toBeTruthy();
      expect(url.searchParams.has('prompt')).toBe(false);
    });

    it('asks for a fresh bank login (prompt=login) for link and re-authentication intents only', async () => {
      const service = bed.app.app.get(SignicatIdinLoginService);
      const account = await createAccount(bed.app.dataSource);
      const meta = { clientIp: '127.0.0.1', userAgent: 'jest', requestId: null };
      const prompts = await Promise.all(
        (['login', 'link', 'reauthenticate'] as const).map(async (purpose) => {
          const url = await service.startRedirect(intent(purpose, purpose === 'login' ? null : account.id), meta);
          return [purpose, url.searchParams.get('prompt'), url.searchParams.get('code_challenge_method')];
        }),
      );
      expect(prompts).toEqual([
        ['login', null, 'S256'],
        ['link', 'login', 'S256'],
        ['reauthenticate', 'login', 'S256'],
      ]);
      const [stored] = await bed.app.dataSource.query(
        `SELECT purpose, account_id FROM login_transactions WHERE provider = 'signicat-idin' AND purpose = 'link'`,
      );
      expect(stored).toEqual({ purpose: 'link', account_id: account.id });
    });

    it('shows the bank page again on prompt=login although the browser has a live Signicat session', async () => {
      const browser = new Browser();
      await bed.idinLogin(browser, IDIN_BAKKER.id);
      const accountId = (await me(bed, browser)).json<Me>().account.id;
      const service = bed.app.app.get(SignicatIdinLoginService);
      const meta = { clientIp: null, userAgent: null, requestId: null };
      // Without prompt=login the sandbox's single sign-on session answers at once…
      const plain = await service.startRedirect(intent('login'), meta);
      expect((await browser.request(plain.href)).location).toMatch(new RegExp(`^${bed.app.baseUrl}${IDIN_CALLBACK}`));
      // …with it, the person has to sign in at the bank again.
      const fresh = await service.startRedirect(intent('reauthenticate', accountId), meta);
      const page = await browser.follow(fresh.href);
      expect(page.status).toBe(200);
      expect(page.body).toContain('Sign in with iDIN');
    });

    it('refuses a replayed callback and creates no second session', async () => {
      const browser = new Browser();
      const callback = await bed.reachIdinCallback(browser, IDIN_VRIES.id);
      expect((await browser.request(callback)).status).toBe(302);
      const after = await footprint(bed);
      const replay = await browser.request(callback);
      expect(replay.location).toBe(errorPage(bed, 'login_replayed'));
      expect(await footprint(bed)).toEqual(after);
      expect((await loginFailures(bed)).at(-1)).toMatchObject({ provider: 'signicat-idin', code: 'login_replayed' });
    });

    it('refuses a callback delivered to another browser, before calling the token endpoint', async () => {
      const victim = new Browser();
      const callback = await bed.reachIdinCallback(victim, IDIN_VRIES.id);
      const tokenCalls = bed.idinRequests.filter((path) => path === '/connect/token').length;
      const before = await footprint(bed);
      const response = await new Browser().request(callback);
      expect(response.location).toBe(errorPage(bed, 'login_wrong_browser'));
      expect(await footprint(bed)).toEqual(before);
      expect(bed.idinRequests.filter((path) => path === '/connect/token').length).toBe(tokenCalls);
      expect((await loginFailures(bed)).at(-1)).toMatchObject({
        provider: 'signicat-idin',
        code: 'login_wrong_browser',
      });
      // The transaction is burned: not even the right browser can use it now.
      expect((await victim.request(callback)).location).toBe(errorPage(bed, 'login_replayed'));
    });

    it('reports a login cancelled at Signicat (access_denied) as login_cancelled', async () => {
      const browser = new Browser();
      const before = await footprint(bed);
      const page = await browser.follow(`${bed.app.baseUrl}/auth/signicat-idin/login`);
      expect(page.status).toBe(200);
      const response = await browser.follow(
        `${page.url}/abort`,
        (url) => url.startsWith(`${bed.app.baseUrl}/auth/login-error`),
        { form: {} },
      );
      expect(response.location).toBe(errorPage(bed, 'login_cancelled'));
      expect(await footprint(bed)).toEqual(before);
      expect((await loginFailures(bed)).at(-1)).toMatchObject({ provider: 'signicat-idin', code: 'login_cancelled' });
    });

    it('reports access_denied without state as login_cancelled, consuming and creating nothing', async () => {
      const browser = new Browser();
      const page = await browser.follow(`${bed.app.baseUrl}/auth/signicat-idin/login`);
      expect(page.status).toBe(200);
      const before = await footprint(bed);
      const open = async () =>
        (
          await bed.app.dataSource.query(
            `SELECT count(*)::int AS n FROM login_transactions WHERE provider = 'signicat-idin' AND consumed_at IS NULL`,
          )
        )[0].n;
      const openBefore = await open();
      const response = await browser.request(
        `${bed.app.baseUrl}${IDIN_CALLBACK}?error=access_denied&error_description=cancelled`,
      );
      expect(response.location).toBe(errorPage(bed, 'login_cancelled'));
      expect(await footprint(bed)).toEqual(before);
      expect(await open()).toBe(openBefore);
      expect((await loginFailures(bed)).at(-1)).toMatchObject({
        provider: 'signicat-idin',
        code: 'login_cancelled',
        stateMissing: true,
        oauthError: 'access_denied',
      });
      const other = await browser.request(`${bed.app.baseUrl}${IDIN_CALLBACK}?error=invalid_request`);
      expect(other.location).toBe(errorPage(bed, 'provider_error'));
    });

    it('refuses a login without a BIN (idp_id)', async () => {
      const before = await footprint(bed);
      const response = await bed.idinLogin(new Browser(), NO_BIN.id);
      expect(response.location).toBe(errorPage(bed, 'userinfo_invalid'));
      expect(await footprint(bed)).toEqual(before);
      expect((await loginFailures(bed)).at(-1)).toMatchObject({ provider: 'signicat-idin', code: 'userinfo_invalid' });
    });

    it('refuses user-info Postgres could not store (a lone surrogate, deep nesting), writing nothing', async () => {
      let deep: unknown = 'leaf';
      for (let i = 0; i < 1000; i += 1) deep = { inner: deep };
      for (const [extra, reason] of [
        [{ idp_consumer_legallastname: 'Vries\udc00' }, 'lone_surrogate'],
        [{ extra: deep }, 'too_deep'],
      ] as const) {
        bed.idinHostility.userinfo = (body) => ({ ...body, ...extra });
        const before = await footprint(bed);
        const response = await bed.idinLogin(new Browser(), IDIN_VRIES.id);
        expect(response.location).toBe(errorPage(bed, 'userinfo_invalid'));
        expect(await footprint(bed)).toEqual(before);
        expect((await loginFailures(bed)).at(-1)).toMatchObject({ code: 'userinfo_invalid', reason });
      }
    });

    it('refuses a login made with another identity provider of the Signicat account', async () => {
      bed.idinHostility.userinfo = (body) => ({ ...body, idp_issuer: 'nbid' });
      const before = await footprint(bed);
      const response = await bed.idinLogin(new Browser(), IDIN_BAKKER.id);
      expect(response.location).toBe(errorPage(bed, 'userinfo_invalid'));
      expect(await footprint(bed)).toEqual(before);
    });

    it('still signs Digidentity logins in on the same app', async () => {
      const browser = new Browser();
      const callback = await bed.digidentityLogin(browser, bed.digidentity.personas[0].id);
      expect(callback.location).toBe(`${bed.app.baseUrl}/portal/home`);
      expect((await me(bed, browser)).json<Me>().session.provider).toBe('digidentity');
    });
  });

  describe('with the default policy (pending) and a pre-selected bank', () => {
    let bed: ProvidersTestbed;

    beforeAll(async () => {
      bed = await startProvidersTestbed({
        env: { SIGNICAT_IDIN_BANK_BIC: 'SNDBNL2A', SIGNICAT_IDIN_SCOPES: 'openid idp-id idin-name date-of-birth' },
      });
    });
    afterAll(async () => bed.close());

    it('pre-selects the bank with idin_idp:<BIC> next to idp:idin', async () => {
      const start = await new Browser().request(`${bed.app.baseUrl}/auth/signicat-idin/login`);
      expect(new URL(start.location!).searchParams.get('acr_values')).toBe('idp:idin idin_idp:SNDBNL2A');
    });

    it('holds an unknown iDIN identity as pending: no account, no session, the error page says identity_pending', async () => {
      let answered: Record<string, unknown> = {};
      bed.idinHostility.userinfo = (body) => (answered = body);
      const before = await footprint(bed);
      const browser = new Browser();
      const response = await bed.idinLogin(browser, IDIN_VRIES.id);
      bed.idinHostility = {};
      expect(response.location).toEqual(pendingPage(bed));
      expect(await footprint(bed)).toEqual({ ...before, pending: before.pending + 1 });
      expect((await me(bed, browser)).status).toBe(401);
      const [pending] = await bed.app.dataSource.query(
        `SELECT provider, issuer, reason, person_key, attributes, raw_claims, browser_binding_hash IS NOT NULL AS bound
           FROM pending_identities WHERE subject = $1`,
        [IDIN_VRIES.id],
      );
      expect(pending).toMatchObject({
        provider: 'signicat-idin',
        issuer: bed.idin.issuer,
        reason: 'unknown_identity',
        person_key: null,
        bound: true,
        attributes: {
          bin: IDIN_VRIES.claims.idp_id,
          initials: 'VJ',
          lastName: 'Vries',
          lastNamePrefix: 'de',
          preferredLastName: 'Vries-Jansen',
          preferredLastNamePrefix: 'de',
        },
      });
      // Asked for (date-of-birth scope) and answered, but never kept.
      expect(answered.birthdate).toBe(IDIN_VRIES.claims.birthdate);
      expect(JSON.stringify(pending)).not.toContain(String(IDIN_VRIES.claims.birthdate));
      expect(pending.raw_claims).toMatchObject({ idp_id: IDIN_VRIES.claims.idp_id, idp_issuer: 'idin' });
      const [held] = (await auditEvents(bed.app.dataSource, 'auth.login_held')).slice(-1);
      expect(held.details).toMatchObject({ provider: 'signicat-idin', reason: 'unknown_identity' });
    });
  });
});
