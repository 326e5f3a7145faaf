import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Browser, type BrowserResponse } from '../support/browser.js';
import {
  errorPage,
  footprint,
  IOE,
  startDigidentityTestbed,
  type DigidentityTestbed,
} from '../support/digidentity-testbed.js';
import { freePort } from '../support/free-port.js';

const COOKIE = '__Host-rmi_login';
const MINTED = /^[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}$/;

/** Values this portal never minted: the old unsigned format, a made-up signature, a signature of another value. */
const forgeries = (minted: string) => [
  'F'.repeat(43),
  `${'F'.repeat(43)}.${'S'.repeat(43)}`,
  `${'F'.repeat(43)}.${minted.split('.')[1]}`,
  `${minted.split('.')[0]}.${minted.split('.')[1].slice(0, -1)}${minted.endsWith('A') ? 'B' : 'A'}`,
];

function bindingCookie(response: BrowserResponse): { value: string; maxAge: number } | undefined {
  const line = response.headers.getSetCookie().find((cookie) => cookie.startsWith(`${COOKIE}=`));
  if (!line) return undefined;
  return {
    value: line.slice(COOKIE.length + 1).split(';')[0],
    maxAge: Number(/;\s*Max-Age=(\d+)/i.exec(line)?.[1]),
  };
}

/** The login-binding cookie accepts only values this portal minted (signed), on every instance. */
describe('the login-binding cookie', () => {
  let first: DigidentityTestbed;
  let second: DigidentityTestbed;

  const sibling = async (env: Record<string, string> = {}) =>
    startDigidentityTestbed({
      sandbox: first.sandbox,
      hostile: first.hostile,
      database: first.app.database,
      port: await freePort(),
      // Both behind one public address, as behind a load balancer (which is why the ports differ).
      env: { PUBLIC_BASE_URL: first.app.baseUrl, TRUST_PROXY: 'loopback', ...env },
    });
  /**
   * Passport keeps one strategy per name for the whole process: the instance started last completes every
   * instance's callbacks in this file. An instance with other settings is therefore started last, in its own test.
   */
  const withSibling = async (env: Record<string, string>, test: (bed: DigidentityTestbed) => Promise<void>) => {
    const bed = await sibling(env);
    try {
      await test(bed);
    } finally {
      await bed.close();
    }
  };

  beforeAll(async () => {
    first = await startDigidentityTestbed();
    second = await sibling();
  });
  afterAll(async () => {
    await second?.close();
    await first?.close();
  });

  const startLogin = (browser: Browser, bed: DigidentityTestbed) =>
    browser.request(`${bed.app.baseUrl}/auth/digidentity/login`);
  const mintedBy = async (bed: DigidentityTestbed) => bindingCookie(await startLogin(new Browser(), bed))!.value;

  it('mints a signed value and keeps it on the next login start', async () => {
    const browser = new Browser();
    const minted = bindingCookie(await startLogin(browser, first))!.value;
    expect(minted).toMatch(MINTED);
    expect(bindingCookie(await startLogin(browser, first))!.value).toBe(minted);
  });

  it('replaces any value it did not mint with a new minted one', async () => {
    const minted = await mintedBy(first);
    for (const forged of forgeries(minted)) {
      const browser = new Browser();
      browser.cookies(first.app.baseUrl).set(COOKIE, forged);
      const replaced = bindingCookie(await startLogin(browser, first))!.value;
      expect([forged, replaced]).toEqual([forged, expect.stringMatching(MINTED)]);
      expect(replaced).not.toBe(forged);
      expect(replaced).not.toBe(minted);
    }
  });

  it('does not let a forged value complete a login started with it', async () => {
    const forged = 'F'.repeat(43);
    const victim = new Browser();
    victim.cookies(first.app.baseUrl).set(COOKIE, forged);
    const callback = await first.startWebLogin(victim, IOE.id);
    expect(victim.cookie(first.app.baseUrl, COOKIE)).toMatch(MINTED);
    // Whoever planted the value still holds it, and nothing else.
    const planter = new Browser();
    planter.cookies(first.app.baseUrl).set(COOKIE, forged);
    const before = await footprint(first);
    const refused = await planter.request(callback);
    expect(refused.location).toBe(errorPage(first, 'login_wrong_browser'));
    expect(await footprint(first)).toEqual(before);
    expect((await planter.request(`${first.app.baseUrl}/api/me`)).status).toBe(401);

    // The browser that started it, with the value the portal gave it, completes a login.
    const own = await first.webLogin(victim, IOE.id);
    expect([own.status, own.location]).toEqual([302, `${first.app.baseUrl}/portal/home`]);
  });

  it('accepts on one instance the values another minted, with the key they share through the database', async () => {
    const browser = new Browser();
    const minted = bindingCookie(await startLogin(browser, first))!.value;
    browser.cookies(second.app.baseUrl).set(COOKIE, minted);
    expect(bindingCookie(await startLogin(browser, second))!.value).toBe(minted);
    const fromSecond = await mintedBy(second);
    const other = new Browser();
    other.cookies(first.app.baseUrl).set(COOKIE, fromSecond);
    expect(bindingCookie(await startLogin(other, first))!.value).toBe(fromSecond);
    const keys = await first.app.dataSource.query(`SELECT name FROM server_secrets`);
    expect(keys).toEqual([{ name: 'login_binding' }]);
  });

  it('outlives a QR login (300 s) even when LOGIN_TRANSACTION_TTL_SECONDS is shorter', async () => {
    expect(bindingCookie(await startLogin(new Browser(), first))!.maxAge).toBe(600);
    await withSibling({ LOGIN_TRANSACTION_TTL_SECONDS: '60' }, async (shortLogins) => {
      expect(bindingCookie(await startLogin(new Browser(), shortLogins))!.maxAge).toBe(300);
      const qr = await new Browser().request(`${shortLogins.app.baseUrl}/auth/digidentity/passwordless`, {
        json: {},
        headers: { origin: first.app.baseUrl },
      });
      expect(qr.status).toBe(201);
      expect(bindingCookie(qr)!.maxAge).toBe(300);
    });
  });

  it('signs with LOGIN_BINDING_KEY when it is set', async () => {
    const fromDatabaseKey = await mintedBy(first);
    await withSibling({ LOGIN_BINDING_KEY: 'k'.repeat(32) }, async (ownKey) => {
      const browser = new Browser();
      browser.cookies(ownKey.app.baseUrl).set(COOKIE, fromDatabaseKey);
      const replaced = bindingCookie(await startLogin(browser, ownKey))!.value;
      expect(replaced).toMatch(MINTED);
      expect(replaced).not.toBe(fromDatabaseKey);
      expect(bindingCookie(await startLogin(browser, ownKey))!.value).toBe(replaced);
    });
  });
});
