import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { PERSONAS, type Persona } from '../../sandbox/digidentity/personas.js';
import { Browser } from '../support/browser.js';
import {
  errorPage,
  footprint,
  IOE,
  IOE_PA,
  loginFailures,
  RSSE,
  startDigidentityTestbed,
  type DigidentityTestbed,
  pendingPage,
} from '../support/digidentity-testbed.js';
import { auditEvents } from '../support/factories.js';

const RECREATED = person('recreated-new-sub-0001', { ioeuid: 'NL/OTHERCAB/1234567890B' });
const CHANGING: Persona = {
  id: 'changing-ioe-0001',
  label: 'IOE who changes company',
  description: 'IOUID changes between logins',
  claims: { cabuid: IOE.claims.cabuid, iouid: 'FIRSTIO/STREET1/NL000000001B01', ioeuid: 'NL/EXAMPLECAB/7777777777B' },
};

/** A sandbox person with the example IOE's claims (docs/sermi.md#example-values), except for `claims`. */
function person(id: string, claims: Record<string, string>): Persona {
  return { id, label: id, description: id, claims: { ...IOE.claims, ...claims } };
}

describe('Digidentity web login', () => {
  let bed: DigidentityTestbed;

  beforeAll(async () => {
    bed = await startDigidentityTestbed({ personas: [...PERSONAS, RECREATED, CHANGING] });
  });
  afterEach(() => {
    bed.hostile.hostility = {};
  });
  afterAll(async () => bed.close());

  const me = (browser: Browser) => browser.request(`${bed.app.baseUrl}/api/me`);

  describe('success', () => {
    it('signs an IOE in, provisions the account, and shows the SERMI UIDs on /api/me', async () => {
      const browser = new Browser();
      const callback = await bed.webLogin(browser, IOE.id, '/jobs/42?tab=keys');
      expect([callback.status, callback.location]).toEqual([302, `${bed.app.baseUrl}/jobs/42?tab=keys`]);
      const body = (await me(browser)).json<{
        links: Array<{ attributes: Record<string, string> }>;
        session: { authContext: Record<string, unknown>; authenticatedAt: string };
      }>();
      expect(body.links[0].attributes).toEqual({ actorType: 'IOE', ...IOE.claims });
      expect(body.session.authContext).toEqual({
        method: 'web',
        newSignIn: true,
        provider: 'digidentity',
        sermi: {
          actorType: 'IOE',
          actor: { sub: IOE.id, uid: IOE.claims.ioeuid, organisationUid: IOE.claims.iouid },
          principal: { ioeuid: IOE.claims.ioeuid, iouid: IOE.claims.iouid },
          cabuid: IOE.claims.cabuid,
          authorisationUid: '1234567890B',
          // The Trust Centre's auth_time as stamped: with agreeing clocks, when the session says it authenticated.
          signIn: body.session.authenticatedAt,
        },
      });
    });

    it('signs an RSSE in: the RSSE acts, the IOE of the chain authorisation is the principal', async () => {
      const browser = new Browser();
      expect((await bed.webLogin(browser, RSSE.id)).status).toBe(302);
      const session = (await me(browser)).json<{ session: { authContext: { sermi: Record<string, unknown> } } }>()
        .session;
      expect(session.authContext.sermi).toMatchObject({
        actorType: 'RSSE',
        actor: { sub: RSSE.id, uid: RSSE.claims.rsseuid, organisationUid: RSSE.claims.rssuid },
        principal: { ioeuid: RSSE.claims.ioeuid, iouid: RSSE.claims.iouid },
        authorisationUid: '9876543210D',
      });
    });

    it('accepts an IOUID that ends in a regional id instead of a VAT number', async () => {
      const browser = new Browser();
      expect((await bed.webLogin(browser, IOE_PA.id)).status).toBe(302);
      expect(
        (await me(browser)).json<{ links: Array<{ attributes: Record<string, string> }> }>().links[0].attributes.iouid,
      ).toBe(IOE_PA.claims.iouid);
    });

    it('brings the same identity back to the same account, and audits changed attributes', async () => {
      const first = new Browser();
      await bed.webLogin(first, CHANGING.id);
      const accountId = (await me(first)).json<{ account: { id: string } }>().account.id;
      CHANGING.claims.iouid = 'SECONDIO/STREET2/NL000000002B01';
      const second = new Browser();
      await bed.webLogin(second, CHANGING.id);
      const again = (await me(second)).json<{
        account: { id: string };
        links: Array<{ attributes: Record<string, string> }>;
      }>();
      expect(again.account.id).toBe(accountId);
      expect(again.links[0].attributes.iouid).toBe('SECONDIO/STREET2/NL000000002B01');
      const [updated] = (await auditEvents(bed.app.dataSource, 'identity.attributes_updated')).filter(
        (e) => e.subject_account_id === accountId,
      );
      expect(updated.details.changes).toEqual({
        iouid: { before: 'FIRSTIO/STREET1/NL000000001B01', after: 'SECONDIO/STREET2/NL000000002B01' },
      });
    });

    it('replaces the browser’s previous session instead of keeping two', async () => {
      const browser = new Browser();
      await bed.webLogin(browser, IOE_PA.id);
      const firstSession = (await me(browser)).json<{ session: { id: string } }>().session.id;
      await bed.webLogin(browser, IOE_PA.id);
      const [old] = await bed.app.dataSource.query(`SELECT revoke_reason FROM sessions WHERE id = $1`, [firstSession]);
      expect(old.revoke_reason).toBe('replaced_by_login');
      expect((await me(browser)).json<{ session: { id: string } }>().session.id).not.toBe(firstSession);
    });

    it('sends the browser back only to a path on this site', async () => {
      for (const returnTo of ['https://evil.example/phish', '//evil.example', '/\\evil.example']) {
        const callback = await bed.webLogin(new Browser(), IOE.id, returnTo);
        // Nothing safe to return to: LOGIN_SUCCESS_URL (the account page).
        expect([returnTo, callback.location]).toEqual([returnTo, `${bed.app.baseUrl}/account`]);
      }
    });

    it('gives concurrent first logins of one identity exactly one account, and concurrent returning logins all land on it', async () => {
      const persona = person('concurrent-0001', { ioeuid: 'NL/EXAMPLECAB/3333333333B' });
      bed.sandbox.personas.push(persona);
      const browsers = Array.from({ length: 6 }, () => new Browser());
      const callbacks = await Promise.all(browsers.map((browser) => bed.startWebLogin(browser, persona.id)));
      const responses = await Promise.all(browsers.map((browser, i) => browser.request(callbacks[i])));
      expect(responses.map((r) => r.location)).toEqual(Array(6).fill(`${bed.app.baseUrl}/portal/home`));
      const accounts = await Promise.all(
        browsers.map(async (browser) => (await me(browser)).json<{ account: { id: string } }>().account.id),
      );
      expect(new Set(accounts).size).toBe(1);
      const [{ count }] = await bed.app.dataSource.query(
        `SELECT count(*)::int AS count FROM identity_links WHERE subject = $1`,
        [persona.id],
      );
      expect(count).toBe(1);

      // The same person again, from six browsers at once: every returning login succeeds, on the one account.
      const again = Array.from({ length: 6 }, () => new Browser());
      const returning = await Promise.all(again.map((browser) => bed.startWebLogin(browser, persona.id)));
      const answers = await Promise.all(again.map((browser, i) => browser.request(returning[i])));
      expect(answers.map((r) => r.location)).toEqual(Array(6).fill(`${bed.app.baseUrl}/portal/home`));
      const returningAccounts = await Promise.all(
        again.map(async (browser) => (await me(browser)).json<{ account: { id: string } }>().account.id),
      );
      expect(new Set([...accounts, ...returningAccounts]).size).toBe(1);
    });
  });

  describe('person keys (the SERMI authorisation UID)', () => {
    const persona = (id: string, number: string) => person(id, { ioeuid: `NL/EXAMPLECAB/${number}B` });
    const accountOf = async (browser: Browser) => (await me(browser)).json<{ account: { id: string } }>().account.id;

    it('records a changed person key when no other account holds the new one', async () => {
      const changing = persona('person-key-change-0001', '4444444444');
      bed.sandbox.personas.push(changing);
      const browser = new Browser();
      await bed.webLogin(browser, changing.id);
      const accountId = await accountOf(browser);
      changing.claims.ioeuid = 'NL/EXAMPLECAB/4444444445B';
      const again = new Browser();
      expect((await bed.webLogin(again, changing.id)).location).toBe(`${bed.app.baseUrl}/portal/home`);
      expect(await accountOf(again)).toBe(accountId);
      const [event] = (await auditEvents(bed.app.dataSource, 'identity.person_key_changed')).filter(
        (e) => e.subject_account_id === accountId,
      );
      expect(event.details).toMatchObject({ before: '4444444444B', after: '4444444445B' });
    });

    it('holds a known subject for review when its new person key belongs to another account', async () => {
      const first = persona('person-key-holder-0001', '5555555555');
      const second = persona('person-key-claimant-0001', '6666666666');
      bed.sandbox.personas.push(first, second);
      const holder = new Browser();
      await bed.webLogin(holder, first.id);
      const claimant = new Browser();
      await bed.webLogin(claimant, second.id);
      const [holderId, claimantId] = [await accountOf(holder), await accountOf(claimant)];
      second.claims.ioeuid = first.claims.ioeuid;
      const before = await footprint(bed);
      const response = await bed.webLogin(new Browser(), second.id);
      expect(response.location).toEqual(pendingPage(bed));
      expect(await footprint(bed)).toEqual({ ...before, pending: before.pending + 1 });
      const [pending] = await bed.app.dataSource.query(
        `SELECT reason, flags FROM pending_identities WHERE subject = $1`,
        [second.id],
      );
      expect(pending).toEqual({
        reason: 'probable_recreated_identity',
        flags: { samePersonKeyAsAccount: holderId, linkedToAccount: claimantId },
      });
    });
  });

  it('replaces the browser’s previous session also on a first login with another identity', async () => {
    const browser = new Browser();
    await bed.webLogin(browser, IOE.id);
    const previous = (await me(browser)).json<{ session: { id: string } }>().session.id;
    browser.cookies(bed.sandbox.issuer).clear();
    const newcomer = person('newcomer-0001', { ioeuid: 'NL/EXAMPLECAB/9999999990B' });
    bed.sandbox.personas.push(newcomer);
    await bed.webLogin(browser, newcomer.id);
    const [old] = await bed.app.dataSource.query(`SELECT revoke_reason FROM sessions WHERE id = $1`, [previous]);
    expect(old.revoke_reason).toBe('replaced_by_login');
    const [provisioned] = (await auditEvents(bed.app.dataSource, 'auth.login_succeeded')).slice(-1);
    expect(provisioned.details).toMatchObject({ provisioned: true, replacedSessionId: previous });
  });

  describe('refusals leave no account, link or session, and an audit event', () => {
    async function expectRefused(run: (browser: Browser) => Promise<{ location?: string }>, code: string) {
      const before = await footprint(bed);
      const failuresBefore = (await loginFailures(bed)).length;
      const response = await run(new Browser());
      expect(response.location).toBe(errorPage(bed, code));
      expect(await footprint(bed)).toEqual(before);
      const failures = await loginFailures(bed);
      expect(failures.length).toBeGreaterThan(failuresBefore);
      expect(failures.at(-1)).toMatchObject({ provider: 'digidentity', code });
    }

    it.each([
      ['a partial RSSE set', 'broken-partial-rsse-0001', 'sermi_rsse_set_incomplete'],
      ['an RSSE set without the IOE set', 'broken-rsse-only-0001', 'sermi_rsse_without_ioe'],
      ['a missing IOEUID', 'broken-missing-ioeuid-0001', 'sermi_claims_missing'],
      ['a malformed IOEUID', 'broken-malformed-uid-0001', 'sermi_uid_malformed'],
    ])('refuses %s', async (_, personaId, code) => {
      await expectRefused((browser) => bed.webLogin(browser, personaId), code);
    });

    it('refuses a provider claim with a NUL character cleanly (no 500)', async () => {
      const nul = person('nul-claim-0001', { cabuid: 'E\u0000A/NL/1234/1EXA2MP34LE5' });
      bed.sandbox.personas.push(nul);
      await expectRefused((browser) => bed.webLogin(browser, nul.id), 'sermi_uid_malformed');
    });

    it('refuses a SERMI UID longer than 255 characters as malformed (no 500)', async () => {
      const long = person('long-uid-0001', { ioeuid: `NL/EXAMPLECAB/${'7'.repeat(3000)}B` });
      bed.sandbox.personas.push(long);
      await expectRefused((browser) => bed.webLogin(browser, long.id), 'sermi_uid_malformed');
    });

    it('refuses user-info Postgres could not store (a lone surrogate, deep nesting) as userinfo_invalid', async () => {
      let deep: unknown = 'leaf';
      for (let i = 0; i < 1000; i += 1) deep = [deep];
      for (const extra of [{ nickname: 'Jan\ud800' }, { extra: deep }]) {
        bed.hostile.hostility = { userinfo: (body) => ({ ...body, ...extra }) };
        await expectRefused((browser) => bed.webLogin(browser, IOE.id), 'userinfo_invalid');
      }
    });

    it('keeps an error code from the callback that is no OAuth code short in the audit trail', async () => {
      const browser = new Browser();
      const callback = new URL(await bed.startWebLogin(browser, IOE.id));
      callback.searchParams.delete('code');
      callback.searchParams.set('error', 'A'.repeat(12_000));
      expect((await browser.request(callback.href)).location).toBe(errorPage(bed, 'provider_error'));
      const failure = (await loginFailures(bed)).at(-1)!;
      expect(failure.oauthError).toBe(`(not an OAuth error code) ${'A'.repeat(64)}`);
      expect(JSON.stringify(failure).length).toBeLessThan(1500);
    });

    it('reports a cancelled login (access_denied) as login_cancelled', async () => {
      await expectRefused(async (browser) => {
        const page = await browser.follow(`${bed.app.baseUrl}/auth/digidentity/login`);
        return browser.follow(`${page.url}/abort`, (url) => url.startsWith(`${bed.app.baseUrl}/auth/login-error`), {
          form: {},
        });
      }, 'login_cancelled');
    });

    it('refuses a replayed callback', async () => {
      const browser = new Browser();
      const callback = await bed.startWebLogin(browser, IOE.id);
      expect((await browser.request(callback)).status).toBe(302);
      const sessions = await footprint(bed);
      const replay = await browser.request(callback);
      expect(replay.location).toBe(errorPage(bed, 'login_replayed'));
      expect(await footprint(bed)).toEqual(sessions);
    });

    it('refuses a callback delivered to another browser, before calling the token endpoint', async () => {
      const victim = new Browser();
      const callback = await bed.startWebLogin(victim, IOE.id);
      const tokenCalls = bed.hostile.requests.filter((path) => path === '/oauth2/token').length;
      await expectRefused((attacker) => attacker.request(callback), 'login_wrong_browser');
      expect(bed.hostile.requests.filter((path) => path === '/oauth2/token').length).toBe(tokenCalls);
      // The transaction is burned: not even the right browser can use it now.
      expect((await victim.request(callback)).location).toBe(errorPage(bed, 'login_replayed'));
    });

    it('refuses a callback without state, or with a state it never issued', async () => {
      await expectRefused(
        (browser) => browser.request(`${bed.app.baseUrl}/auth/digidentity/callback?code=abc`),
        'login_state_invalid',
      );
      await expectRefused(
        (browser) => browser.request(`${bed.app.baseUrl}/auth/digidentity/callback?code=abc&state=forged`),
        'login_state_invalid',
      );
    });

    it('refuses a code redeemed under another login’s state (PKCE and code binding fail at the provider)', async () => {
      const browser = new Browser();
      const first = new URL(await bed.startWebLogin(browser, IOE.id));
      const second = new URL(await bed.startWebLogin(browser, IOE.id));
      first.searchParams.set('state', second.searchParams.get('state')!);
      await expectRefused(() => browser.request(first.href), 'token_exchange_failed');
    });

    it('holds a new subject with an already-bound SERMI authorisation UID for review, never merging it', async () => {
      const holder = new Browser();
      await bed.webLogin(holder, IOE.id);
      const accountId = (await me(holder)).json<{ account: { id: string } }>().account.id;
      const before = await footprint(bed);
      const response = await bed.webLogin(new Browser(), RECREATED.id);
      expect(response.location).toEqual(pendingPage(bed));
      expect(await footprint(bed)).toEqual({ ...before, pending: before.pending + 1 });
      const [pending] = await bed.app.dataSource.query(
        `SELECT reason, suspected_account_id, person_key, flags FROM pending_identities WHERE subject = $1`,
        [RECREATED.id],
      );
      expect(pending).toEqual({
        reason: 'probable_recreated_identity',
        suspected_account_id: accountId,
        person_key: '1234567890B',
        flags: { samePersonKeyAsAccount: accountId },
      });
      const [flagged] = (await auditEvents(bed.app.dataSource, 'identity.recreated_suspected')).slice(-1);
      expect(flagged.subject_account_id).toBe(accountId);
    });

    it('refuses the identity of a disabled account', async () => {
      const browser = new Browser();
      await bed.webLogin(browser, IOE.id);
      const accountId = (await me(browser)).json<{ account: { id: string } }>().account.id;
      await bed.app.dataSource.query(`UPDATE accounts SET status = 'disabled' WHERE id = $1`, [accountId]);
      try {
        await expectRefused((other) => bed.webLogin(other, IOE.id), 'account_disabled');
      } finally {
        await bed.app.dataSource.query(`UPDATE accounts SET status = 'active' WHERE id = $1`, [accountId]);
      }
    });

    it('answers problem+json instead of a redirect when the client asks for JSON', async () => {
      const response = await new Browser().request(`${bed.app.baseUrl}/auth/digidentity/callback?code=x&state=y`, {
        headers: { accept: 'application/json' },
      });
      expect(response.status).toBe(400);
      expect(response.json()).toMatchObject({ code: 'login_state_invalid' });
    });
  });
});
