import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { LoginTransactionsRepository } from '../../src/login-transactions/login-transactions.repository.js';
import { Metrics } from '../../src/operations/metrics.js';
import { Browser } from '../support/browser.js';
import {
  errorPage,
  footprint,
  loginFailures,
  newIoePersona,
  startDigidentityTestbed,
  type DigidentityTestbed,
} from '../support/digidentity-testbed.js';
import { createAccount, createLink, signIn } from '../support/factories.js';
import { startLink, useSession } from '../support/link-flow.js';
import { loginOfCallback, reachProviderCallback } from '../support/web-login.js';
import { freePort, runTypeScript, type RunningProcess } from '../support/spawn-process.js';

/**
 * A callback that comes back to the instance that started its login takes the login from that instance's memory; the
 * statement that completes the login consumes its row (docs/login-flows.md, "A login consumed where it completes").
 * Two instances share one database and one provider: whichever way the copies of a callback go, one login at most
 * signs in, and every login is used up, whatever its outcome. The second instance is a process of its own, as in a
 * deployment (Passport keeps its strategies per process: two apps in one process would share one).
 */
describe('a login consumed where it completes', () => {
  let first: DigidentityTestbed;
  let second: RunningProcess;
  let secondUrl: string;

  beforeAll(async () => {
    // Behind one load balancer: one public origin (TRUST_PROXY lets the second instance have a port of its own).
    first = await startDigidentityTestbed({ env: { TRUST_PROXY: 'loopback' } });
    const port = await freePort();
    secondUrl = `http://localhost:${port}`;
    second = runTypeScript('src/main.ts', {
      ...first.sandbox.backendSettings,
      NODE_ENV: 'test',
      PORT: String(port),
      DATABASE_URL: first.app.database.url,
      PUBLIC_BASE_URL: first.app.baseUrl,
      TRUST_PROXY: 'loopback',
      OIDC_ALLOW_INSECURE_HTTP: 'true',
      OIDC_HTTP_TIMEOUT_MS: '2000',
      SERMI_LOG_SEAL_INTERVAL_MS: '0',
      AUDIT_SEAL_INTERVAL_MS: '0',
      SERMI_LOG_PURGE_INTERVAL_SECONDS: '0',
      LOG_LEVEL: 'info',
    });
    await second.waitForLog((line) => line.msg === 'listening', 60_000);
  }, 90_000);
  afterEach(() => {
    first.hostile.hostility = {};
  });
  afterAll(async () => {
    second.child.kill('SIGTERM');
    await second.exited;
    await first.close();
  });

  /** The callback URL as the second instance receives it, with the browser's cookies (one public origin). */
  const atSecond = (browser: Browser, callback: string) => {
    for (const [name, value] of browser.cookies(first.app.baseUrl)) browser.cookies(secondUrl).set(name, value);
    return callback.replace(first.app.baseUrl, secondUrl);
  };
  const loginRow = (callback: string) => loginOfCallback(first.app.dataSource, callback);
  /** What another instance's consume statement does when a copy of the callback reaches it first. */
  const consumedElsewhere = (callback: string) =>
    loginRow(callback).then(({ id }) =>
      first.app.dataSource.query(`UPDATE login_transactions SET consumed_at = now() WHERE id = $1`, [id]),
    );
  let people = 0;
  /** A person no test signed in before (a new identity); `returning`: signed in once already. */
  const person = async (returning: boolean): Promise<string> => {
    people += 1;
    const { id } = newIoePersona(first.sandbox, `consumed-here-${people}`, `NL/EXAMPLECAB/${4_000_000_000 + people}B`);
    if (returning) expect((await first.webLogin(new Browser(), id)).location).toBe(`${first.app.baseUrl}/portal/home`);
    return id;
  };
  /**
   * What a login writes but a refused one must not (footprint counts rows; this sees updates too). A refusal writes its
   * audit event, and keeps the provider's ID token for the browser's next sign-out (ProviderLogout), by design.
   */
  const written = async () => ({
    ...(await footprint(first)),
    ...(
      (await first.app.dataSource.query(
        `SELECT (SELECT count(*)::int FROM audit_events WHERE type <> 'auth.login_failed') AS audit_events,
              (SELECT count(*)::int FROM sermi_access_log) AS sermi_records,
              (SELECT count(*)::int FROM sessions WHERE revoked_at IS NULL) AS live_sessions,
              (SELECT max(last_login_at) FROM identity_links) AS last_link_login`,
      )) as Array<Record<string, unknown>>
    )[0],
  });
  const tokenCalls = () => first.hostile.requests.filter((path) => path === '/oauth2/token').length;
  const signedIn = async (bed: DigidentityTestbed, browser: Browser) =>
    (await browser.request(`${bed.app.baseUrl}/api/me`)).status === 200;

  it.each([
    ['a new identity (the returning-login statement consumes it, then the general path signs in)', false],
    ['a returning identity (the returning-login statement)', true],
  ])('consumes the login of %s as it signs in; the callback again is a replay everywhere', async (_, returning) => {
    const browser = new Browser();
    const callback = await first.startWebLogin(browser, await person(returning));
    expect((await loginRow(callback)).consumed_at).toBeNull();

    expect((await browser.request(callback)).location).toBe(`${first.app.baseUrl}/portal/home`);
    const consumedAt = (await loginRow(callback)).consumed_at;
    const me = await browser.request(`${first.app.baseUrl}/api/me`);
    expect(me.status).toBe(200);
    const [session] = (await first.app.dataSource.query(`SELECT created_at FROM sessions WHERE id = $1`, [
      me.json<{ session: { id: string } }>().session.id,
    ])) as Array<{ created_at: Date }>;
    // In the statement that made the session (the same now()): no consume statement of its own ran. A new identity's
    // session comes from the general path's transaction after it.
    if (returning) expect(consumedAt).toEqual(session.created_at);
    else expect(consumedAt!.getTime()).toBeLessThan(session.created_at.getTime());
    const calls = tokenCalls();
    expect((await browser.request(callback)).location).toBe(errorPage(first, 'login_replayed'));
    expect((await browser.request(atSecond(browser, callback))).location).toBe(errorPage(first, 'login_replayed'));
    expect(tokenCalls()).toBe(calls);
  });

  it.each([
    ['a new identity', false],
    ['a returning identity', true],
  ])(
    'refuses the login of %s when another instance consumed it meanwhile, and writes nothing',
    async (_, returning) => {
      const browser = new Browser();
      const persona = await person(false);
      // A returning person signed in in this browser: the statement's variant that replaces the browser's session.
      if (returning) expect((await first.webLogin(browser, persona)).status).toBe(302);
      const callback = await first.startWebLogin(browser, persona);
      await consumedElsewhere(callback);
      const before = await written();

      expect((await browser.request(callback)).location).toBe(errorPage(first, 'login_replayed'));
      expect(await written()).toEqual(before);
      expect(await signedIn(first, browser)).toBe(returning);
      expect((await loginFailures(first)).at(-1)).toMatchObject({
        code: 'login_replayed',
        loginTransactionId: (await loginRow(callback)).id,
      });
    },
  );

  it('refuses a re-authentication (the general path) that another instance consumed meanwhile, and writes nothing', async () => {
    const browser = new Browser();
    const persona = await person(false);
    expect((await first.webLogin(browser, persona)).location).toBe(`${first.app.baseUrl}/portal/home`);
    const start = await browser.request(`${first.app.baseUrl}/auth/reauthenticate`);
    browser.cookies(first.sandbox.issuer).clear();
    const callback = await reachProviderCallback(
      browser,
      start.location!,
      persona,
      `${first.app.baseUrl}/auth/digidentity/callback`,
    );
    await consumedElsewhere(callback);
    const before = await written();
    const sessionBefore = (await browser.request(`${first.app.baseUrl}/api/me`)).json<{ session: unknown }>().session;

    expect((await browser.request(callback)).location).toBe(errorPage(first, 'login_replayed'));
    expect(await written()).toEqual(before);
    expect((await browser.request(`${first.app.baseUrl}/api/me`)).json<{ session: unknown }>().session).toEqual(
      sessionBefore,
    );
  });

  it('refuses a link login (its own transaction) that another instance consumed meanwhile, and links nothing', async () => {
    const account = await createAccount(first.app.dataSource);
    const idin = await createLink(first.app.dataSource, account.id, { provider: 'signicat-idin' });
    const browser = new Browser();
    useSession(browser, first.app, await signIn(first.app, account, idin));
    const { redirectUrl } = (await startLink(browser, first.app, 'digidentity')).json<{ redirectUrl: string }>();
    const callback = await reachProviderCallback(
      browser,
      redirectUrl,
      await person(false),
      `${first.app.baseUrl}/auth/digidentity/callback`,
    );
    await consumedElsewhere(callback);
    const before = await written();

    expect((await browser.request(callback)).location).toBe(errorPage(first, 'login_replayed'));
    expect(await written()).toEqual(before);
    expect((await browser.request(`${first.app.baseUrl}/api/me`)).status).toBe(200);
  });

  it('signs in once when copies of a callback reach both instances while the first is at the token endpoint', async () => {
    const browser = new Browser();
    const callback = await first.startWebLogin(browser, await person(true));
    let reached!: () => void;
    let release!: () => void;
    const atTokenEndpoint = new Promise<void>((resolve) => (reached = resolve));
    let calls = 0;
    first.hostile.hostility = {
      beforeToken: () => {
        if (calls++ > 0) return Promise.resolve();
        reached();
        return new Promise<void>((resolve) => (release = resolve));
      },
    };
    const here = browser.request(callback);
    await atTokenEndpoint;
    const copy = await browser.request(atSecond(browser, callback));
    expect(copy.location).toBe(`${secondUrl}/portal/home`);
    const sessions = await footprint(first);
    release();
    // Its code was redeemed by the copy: the provider refuses it, and nothing more is written.
    expect((await here).location).toBe(errorPage(first, 'token_exchange_failed'));
    expect(await footprint(first)).toEqual(sessions);
  });

  it('uses up a refused login in the statement that refused it: no consume of its own, nothing kept here', async () => {
    const browser = new Browser();
    const persona = await person(true);
    const [{ account_id: accountId }] = await first.app.dataSource.query(
      `SELECT account_id FROM identity_links WHERE subject = $1`,
      [persona],
    );
    await first.app.dataSource.query(`UPDATE accounts SET status = 'disabled' WHERE id = $1`, [accountId]);
    const callback = await first.startWebLogin(browser, persona);
    const consumes = jest.spyOn(first.app.app.get(LoginTransactionsRepository), 'consumeForCompletion');
    const keptHere = async () =>
      Number(/^rmi_logins_kept_in_memory (\d+)$/m.exec(await first.app.app.get(Metrics).registry.metrics())![1]);
    const kept = await keptHere();
    try {
      expect((await browser.request(callback)).location).toBe(errorPage(first, 'account_disabled'));
      expect(consumes).not.toHaveBeenCalled();
    } finally {
      consumes.mockRestore();
    }
    expect((await loginRow(callback)).consumed_at).not.toBeNull();
    expect(await keptHere()).toBe(kept - 1);
    expect((await browser.request(atSecond(browser, callback))).location).toBe(errorPage(first, 'login_replayed'));
  });

  it('uses up a login whose callback failed after the instance took it, for every instance', async () => {
    const browser = new Browser();
    const callback = await first.startWebLogin(browser, await person(true));
    const wrongCode = new URL(callback);
    wrongCode.searchParams.set('code', 'not-a-code-the-provider-issued');

    expect((await browser.request(wrongCode.href)).location).toBe(errorPage(first, 'token_exchange_failed'));
    expect((await loginRow(callback)).consumed_at).not.toBeNull();
    const calls = tokenCalls();
    expect((await browser.request(atSecond(browser, callback))).location).toBe(errorPage(first, 'login_replayed'));
    expect(tokenCalls()).toBe(calls);
  });

  it('uses up a login whose callback came to the starting instance in another browser, before calling the provider', async () => {
    const browser = new Browser();
    const callback = await first.startWebLogin(browser, await person(true));
    const calls = tokenCalls();

    expect((await new Browser().request(callback)).location).toBe(errorPage(first, 'login_wrong_browser'));
    expect((await loginRow(callback)).consumed_at).not.toBeNull();
    expect((await browser.request(atSecond(browser, callback))).location).toBe(errorPage(first, 'login_replayed'));
    expect(tokenCalls()).toBe(calls);
  });

  it('still consumes the login before calling the provider when the callback reaches another instance', async () => {
    const browser = new Browser();
    const callback = await first.startWebLogin(browser, await person(true));
    await first.app.dataSource.query(
      `UPDATE login_transactions SET expires_at = now() - interval '1 second' WHERE id = $1`,
      [(await loginRow(callback)).id],
    );
    const calls = tokenCalls();

    expect((await browser.request(atSecond(browser, callback))).location).toBe(errorPage(first, 'login_expired'));
    expect(tokenCalls()).toBe(calls);
    expect((await loginRow(callback)).consumed_at).not.toBeNull();
  });
});
