import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Browser } from '../support/browser.js';
import { IOE, startDigidentityTestbed, type DigidentityTestbed } from '../support/digidentity-testbed.js';
import { freePort } from '../support/free-port.js';

/** Two instances of the backend behind one public URL, sharing the database: no login state lives in memory. */
describe('a login across app instances', () => {
  let first: DigidentityTestbed;
  let second: DigidentityTestbed;

  beforeAll(async () => {
    first = await startDigidentityTestbed();
    second = await startDigidentityTestbed({
      sandbox: first.sandbox,
      hostile: first.hostile,
      database: first.app.database,
      port: await freePort(),
      // Both behind one public address, as behind a load balancer (which is why the ports differ).
      env: { PUBLIC_BASE_URL: first.app.baseUrl, TRUST_PROXY: 'loopback' },
    });
  });
  afterAll(async () => {
    await second.close();
    await first.close();
  });

  /** What a load balancer does: the same public origin, a different instance behind it. */
  const onInstance = (url: string, bed: DigidentityTestbed) => url.replace(first.app.baseUrl, bed.app.baseUrl);
  const shareCookies = (browser: Browser) => {
    for (const [name, value] of browser.cookies(first.app.baseUrl))
      browser.cookies(second.app.baseUrl).set(name, value);
  };

  it('finishes on instance B a web login started on instance A', async () => {
    const browser = new Browser();
    const callback = await first.startWebLogin(browser, IOE.id, '/jobs/1');
    shareCookies(browser);
    const response = await browser.request(onInstance(callback, second));
    expect(response.status).toBe(302);
    // A same-site path: the browser stays on the public origin, whichever instance answered.
    expect(response.headers.get('location')).toBe('/jobs/1');
    const me = await browser.request(`${second.app.baseUrl}/api/me`);
    expect(me.json<{ links: Array<{ attributes: Record<string, string> }> }>().links[0].attributes.ioeuid).toBe(
      IOE.claims.ioeuid,
    );
  });

  it('finishes on instance B a passwordless login started on instance A', async () => {
    const browser = new Browser();
    const started = (
      await browser.request(`${first.app.baseUrl}/auth/digidentity/passwordless`, {
        json: {},
        headers: { origin: first.app.baseUrl },
      })
    ).json<{ id: string; qrCodeUri: string }>();
    await first.sandbox.confirmPasswordless(new URL(started.qrCodeUri).pathname.split('/').pop()!, IOE.id);
    shareCookies(browser);
    const poll = await browser.request(`${second.app.baseUrl}/auth/digidentity/passwordless/${started.id}`);
    expect(poll.json()).toMatchObject({ status: 'complete' });
    expect((await browser.request(`${second.app.baseUrl}/api/me`)).status).toBe(200);
  });
});
