import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Browser } from '../support/browser.js';
import { IOE, startDigidentityTestbed, type DigidentityTestbed } from '../support/digidentity-testbed.js';
import { reachProviderCallback } from '../support/web-login.js';

/**
 * A login that lands in the admin area, whose reads refuse what the browser says another site opened — as it says of
 * the provider's redirects: started from this site, it finishes through a page of ours; started elsewhere, it does not.
 */
describe('a login that lands in the admin area', () => {
  let bed: DigidentityTestbed;

  beforeAll(async () => {
    // Where a login without returnTo lands: the console itself.
    bed = await startDigidentityTestbed({ env: { LOGIN_SUCCESS_URL: '/console' } });
  });
  afterAll(async () => bed.close());

  /** A whole web login, its start sent with `headers`; the callback's answer. */
  async function logIn(headers: Record<string, string>, returnTo?: string) {
    const browser = new Browser();
    const query = returnTo === undefined ? '' : `?returnTo=${encodeURIComponent(returnTo)}`;
    const start = await browser.request(`${bed.app.baseUrl}/auth/digidentity/login${query}`, { headers });
    const callback = await reachProviderCallback(
      browser,
      start.location!,
      IOE.id,
      `${bed.app.baseUrl}/auth/digidentity/callback`,
    );
    return { browser, answer: await browser.request(callback) };
  }

  /** A re-authentication of the browser's session, its start sent with `headers`; the callback's answer. */
  async function reauthenticate(browser: Browser, headers: Record<string, string>, returnTo: string) {
    const query = `?returnTo=${encodeURIComponent(returnTo)}`;
    const start = await browser.request(`${bed.app.baseUrl}/auth/reauthenticate${query}`, { headers });
    expect(start.status).toBe(302);
    const callback = await reachProviderCallback(
      browser,
      start.location!,
      IOE.id,
      `${bed.app.baseUrl}/auth/digidentity/callback`,
    );
    return browser.request(callback);
  }

  const refreshTo = (body: string) => /<meta http-equiv="refresh" content="0;url=([^"]*)">/.exec(body)?.[1];

  it('goes on through a page of ours when this site started it, to LOGIN_SUCCESS_URL or returnTo', async () => {
    const toSuccess = await logIn({ 'Sec-Fetch-Site': 'same-origin' });
    expect(toSuccess.answer.status).toBe(200);
    expect(refreshTo(toSuccess.answer.body)).toBe(`${bed.app.baseUrl}/console`);
    expect((await toSuccess.browser.request(`${bed.app.baseUrl}/api/me`)).status).toBe(200);

    const toPage = await logIn({ 'Sec-Fetch-Site': 'none' }, '/console/accounts?q=a&status=active');
    expect(toPage.answer.status).toBe(200);
    expect(refreshTo(toPage.answer.body)).toBe('/console/accounts?q=a&#38;status=active');
  });

  it('is a plain redirect when another site started it, or when it lands outside the admin area', async () => {
    const elsewhere = await logIn({ 'Sec-Fetch-Site': 'cross-site' }, '/console');
    expect([elsewhere.answer.status, elsewhere.answer.location]).toEqual([302, `${bed.app.baseUrl}/console`]);
    const outside = await logIn({ 'Sec-Fetch-Site': 'same-origin' }, '/account');
    expect([outside.answer.status, outside.answer.location]).toEqual([302, `${bed.app.baseUrl}/account`]);
  });

  it('treats a re-authentication that lands in the admin area as a login', async () => {
    const { browser } = await logIn({ 'Sec-Fetch-Site': 'same-origin' }, '/account');
    const here = await reauthenticate(browser, { 'Sec-Fetch-Site': 'same-origin' }, '/console/accounts');
    expect(here.status).toBe(200);
    expect(refreshTo(here.body)).toBe('/console/accounts');
    const elsewhere = await reauthenticate(browser, { 'Sec-Fetch-Site': 'cross-site' }, '/console/accounts');
    expect([elsewhere.status, elsewhere.location]).toEqual([302, `${bed.app.baseUrl}/console/accounts`]);
    const outside = await reauthenticate(browser, { 'Sec-Fetch-Site': 'same-origin' }, '/account');
    expect([outside.status, outside.location]).toEqual([302, `${bed.app.baseUrl}/account`]);
  });
});
