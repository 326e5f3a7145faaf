import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { Page } from 'playwright-core';
import { PERSONAS } from '../../sandbox/digidentity/personas.js';
import { IDIN_PERSONAS } from '../../sandbox/signicat-idin/personas.js';
import { ITSME_PERSONAS } from '../../sandbox/itsme/personas.js';
import {
  checkPage,
  choosePersona,
  expectNoPageProblems,
  startPagesTestbed,
  type PagesTestbed,
} from '../support/pages-testbed.js';

const IOE = PERSONAS[0];
const SECOND_IOE = PERSONAS[1];
const RSSE = PERSONAS[2];
const VRIES = IDIN_PERSONAS[0];
const PEETERS = ITSME_PERSONAS[0];
const DUBOIS = ITSME_PERSONAS[1];

/** A person's pages in a real browser: sign-in with each provider, the QR login, pending identities, my account. */
jest.setTimeout(60_000);

describe('pages in a browser: sign-in, pending identity, my account', () => {
  let bed: PagesTestbed;
  beforeAll(async () => {
    bed = await startPagesTestbed({
      // iDIN makes accounts itself here, eHerkenning lets the person choose, itsme holds (the defaults of the rest).
      SIGNICAT_IDIN_UNKNOWN_IDENTITY_POLICY: 'provision',
      SIGNICAT_EHERKENNING_UNKNOWN_IDENTITY_POLICY: 'choose',
    });
  }, 60_000);
  afterAll(async () => bed?.close());

  const signInWith = async (page: Page, provider: string, persona: string) => {
    await page.goto(`${bed.baseUrl}/`);
    await page
      .getByRole('link', {
        name: provider === 'itsme' ? 'Log in with itsme' : `Sign in with ${provider}`,
        exact: true,
      })
      .click();
    await choosePersona(page, persona);
  };

  it('shows the sign-in page with one way in per provider, the sandbox page with personas, and no 404 at /', async () => {
    const { page } = await bed.newPerson();
    const response = await page.goto(`${bed.baseUrl}/`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-security-policy']).toMatch(/script-src 'self'; style-src 'self'/);
    expect(response?.headers()['content-security-policy']).not.toContain('unsafe-inline');
    for (const name of [
      'Sign in with Digidentity',
      'Sign in with iDIN',
      'Log in with itsme',
      'Sign in with eHerkenning',
    ]) {
      await expect(page.getByRole('link', { name, exact: true }).count()).resolves.toBe(1);
    }
    await expect(page.getByRole('button', { name: 'Sign in with a QR code' }).isVisible()).resolves.toBe(true);
    await checkPage(page, 'sign-in');

    await page.goto(`${bed.baseUrl}/sandbox`);
    await expect(page.getByText(IOE.label).count()).resolves.toBeGreaterThan(0);
    const homes = await page
      .getByRole('link', { name: /sandbox home page/ })
      .evaluateAll((links) => links.map((link) => (link as unknown as { href: string }).href));
    expect(homes).toHaveLength(4);
    for (const home of homes) expect(home).toMatch(/^http:\/\/localhost:\d+\/$/);
    await checkPage(page, 'sandbox-sign-in');
  });

  /** The pending page after "Forget this sign-in": its notice, and nothing left to attach. */
  const expectForgotten = async (page: Page) => {
    await page.waitForURL(`${bed.baseUrl}/pending?notice=pending_forgotten`);
    await expect(page.getByRole('status').first().textContent()).resolves.toContain(
      'This browser has forgotten the sign-in',
    );
    await expect(page.getByRole('heading', { name: 'Nothing is waiting in this browser' }).isVisible()).resolves.toBe(
      true,
    );
  };

  it('signs in with Digidentity into the account page with the SERMI identity; signing out ends the provider session too', async () => {
    const { page } = await bed.newPerson();
    await signInWith(page, 'Digidentity', RSSE.label);
    await page.waitForURL(`${bed.baseUrl}/account`);
    await expect(page.getByRole('heading', { name: 'SERMI identity' }).isVisible()).resolves.toBe(true);
    await expect(page.getByText('RSSE UID').isVisible()).resolves.toBe(true);
    await expect(page.getByText(RSSE.claims.rsseuid).count()).resolves.toBeGreaterThan(0);
    await checkPage(page, 'account');

    await page.getByRole('button', { name: 'Sign out', exact: true }).first().click();
    // The provider's own sign-out page (RP-initiated logout), then back to the sign-in page.
    await page.getByRole('button', { name: 'Yes, sign me out' }).click();
    await page.waitForURL(`${bed.baseUrl}/`);
    await expect(page.getByRole('link', { name: 'Sign in with Digidentity', exact: true }).isVisible()).resolves.toBe(
      true,
    );
    expectNoPageProblems(page);
  });

  it('lets the next person at the same browser sign in as someone else', async () => {
    const { page } = await bed.newPerson();
    await signInWith(page, 'iDIN', VRIES.label);
    await page.waitForURL(`${bed.baseUrl}/account`);
    await expect(page.getByRole('heading', { level: 2, name: 'V.J. de Vries' }).count()).resolves.toBe(0);
    const first = await page.locator('dd code').first().textContent();
    // Without a new sign-in the iDIN sandbox would answer from its single sign-on session: the same person again.
    await page.goto(`${bed.baseUrl}/`);
    await page.getByRole('link', { name: 'Sign in with iDIN as someone else' }).click();
    await choosePersona(page, IDIN_PERSONAS[1].label);
    await page.waitForURL(`${bed.baseUrl}/account`);
    expect(await page.locator('dd code').first().textContent()).not.toBe(first);
    expectNoPageProblems(page);
  });

  it('signs in with the QR code: the page shows it with its expiry and follows the confirmation', async () => {
    const { context, page } = await bed.newPerson();
    await page.goto(`${bed.baseUrl}/`);
    await page.getByRole('button', { name: 'Sign in with a QR code' }).click();
    await page.getByRole('img', { name: /QR code/ }).waitFor();
    await expect(page.locator('#qr-expiry').textContent()).resolves.toMatch(/expires in \d:\d\d/);
    await checkPage(page, 'sign-in-qr');
    const confirm = await page.getByRole('link', { name: /Open the confirmation page/ }).getAttribute('href');
    const phone = await context.newPage();
    await phone.goto(confirm!);
    await choosePersona(phone, SECOND_IOE.label);
    await expect(phone.getByRole('heading', { name: 'Confirmed' }).isVisible()).resolves.toBe(true);
    await page.waitForURL(`${bed.baseUrl}/account`);
    await expect(page.getByText(SECOND_IOE.claims.ioeuid).count()).resolves.toBeGreaterThan(0);
  });

  it('creates an account from a new eHerkenning sign-in on the pending page (policy choose)', async () => {
    const { page } = await bed.newPerson();
    await signInWith(page, 'eHerkenning', 'P. Jansen');
    await page.waitForURL(/\/pending\?code=identity_pending&reference=[0-9A-F]{4}-[0-9A-F]{4}$/);
    await expect(page.getByRole('heading', { name: 'Your sign-in needs one more step' }).isVisible()).resolves.toBe(
      true,
    );
    await expect(page.locator('.reference').textContent()).resolves.toMatch(/^[0-9A-F]{4}-[0-9A-F]{4}$/);
    await checkPage(page, 'pending-choose');
    await page.getByRole('button', { name: 'Create an account' }).click();
    await page.waitForURL(`${bed.baseUrl}/account?notice=account_created`);
    await expect(page.getByRole('status').first().textContent()).resolves.toContain('Your account was created');
    await expect(page.getByRole('button', { name: 'Remove eHerkenning' }).count()).resolves.toBe(0);
    await expect(page.getByText('your only method').count()).resolves.toBe(1);
  });

  it('forgets a held sign-in when asked: the next person at that browser cannot make an account of it', async () => {
    const { page } = await bed.newPerson();
    await signInWith(page, 'eHerkenning', 'S. Bakker');
    await page.waitForURL(/\/pending\?code=identity_pending&reference=[0-9A-F]{4}-[0-9A-F]{4}$/);
    // eHerkenning offers no sign-out from here: the page promises none.
    await expect(page.getByText('to sign out there too').count()).resolves.toBe(0);
    const reference = (await page.locator('.reference').textContent())!.replace('-', '').toLowerCase();
    const bindingCookies = async () =>
      (await page.context().cookies()).map((cookie) => cookie.name).filter((name) => name.endsWith('rmi_login'));
    expect(await bindingCookies()).toHaveLength(1);
    await page.getByRole('button', { name: 'Forget this sign-in' }).click();
    await expectForgotten(page);
    await expect(page.getByRole('button', { name: 'Create an account' }).count()).resolves.toBe(0);
    await checkPage(page, 'pending-forgotten');
    // The URL's reference is never shown: a link with someone else's could have it read out to the support desk.
    await page.goto(
      `${bed.baseUrl}/pending?code=identity_pending&reference=${reference.slice(0, 4)}-${reference.slice(4)}`,
    );
    await expect(page.locator('.reference').count()).resolves.toBe(0);
    // Still there for the support desk and admin review, but no browser's to use any more.
    const held = await bed.dataSource.query(
      `SELECT resolved_at, browser_binding_hash FROM pending_identities WHERE id::text LIKE $1 || '%'`,
      [reference],
    );
    expect(held).toEqual([{ resolved_at: null, browser_binding_hash: null }]);
    expect(await bindingCookies()).toEqual([]);
  });

  it('forgets a held itsme sign-in and signs out at itsme too, ending on the notice that it was forgotten', async () => {
    const { page } = await bed.newPerson();
    await signInWith(page, 'itsme', DUBOIS.label);
    await page.waitForURL(/\/pending\?/);
    await expect(page.getByText('You are then taken to itsme to sign out there too.').isVisible()).resolves.toBe(true);
    await page.getByRole('button', { name: 'Forget this sign-in' }).click();
    // itsme's own sign-out page (RP-initiated logout), then back to what the person asked for.
    await page.getByRole('button', { name: 'Yes, sign me out' }).click();
    await expectForgotten(page);
    expectNoPageProblems(page);
  });

  it('attaches a held itsme sign-in in one click by signing in with Digidentity, confirming it at itsme', async () => {
    const { page } = await bed.newPerson();
    // The person's account, made with Digidentity earlier (on another day: this browser's session is gone).
    const earlier = await bed.newPerson();
    await signInWith(earlier.page, 'Digidentity', IOE.label);
    await earlier.page.waitForURL(`${bed.baseUrl}/account`);

    await signInWith(page, 'itsme', PEETERS.label);
    await page.waitForURL(/\/pending\?/);
    await expect(page.getByText('this itsme sign-in is not linked to an account').isVisible()).resolves.toBe(true);
    await expect(page.getByText('You are then taken to itsme to sign out there too.').isVisible()).resolves.toBe(true);
    await checkPage(page, 'pending');
    // The confirmation below must be a sign-in at itsme after the held one, by itsme's auth_time in whole seconds: on
    // a fast machine the whole flow fits into one second, which the attach refuses (link_identity_mismatch) as it
    // would the held sign-in's own single sign-on session.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await page.getByRole('button', { name: 'Sign in with Digidentity and attach' }).click();
    await choosePersona(page, IOE.label);
    // Whoever sits at this browser now must prove the itsme identity again (a shared workshop PC).
    await choosePersona(page, PEETERS.label);
    await page.waitForURL(`${bed.baseUrl}/account?notice=attached`);
    const methods = await page.locator('#methods-heading ~ .table-scroll tbody tr td:first-child').allTextContents();
    expect(methods.map((m) => m.trim().split(' ')[0])).toEqual(['Digidentity', 'itsme']);
    expectNoPageProblems(page);
  });

  it('adds and removes a sign-in method, signs out everywhere else, and signs out at both providers', async () => {
    const { page } = await bed.newPerson();
    const elsewhere = await bed.newPerson();
    await signInWith(elsewhere.page, 'Digidentity', PERSONAS[1].label);
    await elsewhere.page.waitForURL(`${bed.baseUrl}/account`);
    await signInWith(page, 'Digidentity', PERSONAS[1].label);
    await page.waitForURL(`${bed.baseUrl}/account`);

    await page.getByRole('button', { name: 'Add iDIN' }).click();
    await choosePersona(page, IDIN_PERSONAS[2].label);
    await page.waitForURL(`${bed.baseUrl}/account?notice=linked`);
    await expect(page.getByRole('button', { name: 'Remove iDIN' }).isVisible()).resolves.toBe(true);
    await checkPage(page, 'account-linked');
    await page.getByRole('button', { name: 'Remove iDIN' }).click();
    await page.waitForURL(`${bed.baseUrl}/account?notice=link_removed`);
    await expect(page.getByRole('button', { name: 'Remove iDIN' }).count()).resolves.toBe(0);

    await expect(page.getByRole('button', { name: 'Sign out everywhere else' }).isVisible()).resolves.toBe(true);
    await page.getByRole('button', { name: 'Sign out everywhere else' }).click();
    await page.waitForURL(`${bed.baseUrl}/account?notice=others_signed_out`);
    await elsewhere.page.goto(`${bed.baseUrl}/account`);
    await elsewhere.page.waitForURL(`${bed.baseUrl}/?returnTo=%2Faccount`);
    await page.reload();
    await expect(page.getByRole('heading', { name: 'My account' }).isVisible()).resolves.toBe(true);

    // The iDIN sign-in that added the method (removed since) is still this browser's single sign-on at iDIN: signing
    // out ends it too, after the Trust Centre's, each on its own sign-out page.
    await page.getByRole('button', { name: 'Sign out', exact: true }).first().click();
    await page.waitForURL((url) => url.origin === bed.config.digidentity!.issuer!.origin);
    await page.getByRole('button', { name: 'Yes, sign me out' }).click();
    await page.waitForURL((url) => url.origin === bed.config.signicatIdin!.issuer!.origin);
    await page.getByRole('button', { name: 'Yes, sign me out' }).click();
    await page.waitForURL(`${bed.baseUrl}/`);
    expectNoPageProblems(page);
  });

  it('signs out from a tab opened before a later sign-in, and a refused stale form shows who is still signed in', async () => {
    const { context, page: first } = await bed.newPerson();
    await signInWith(first, 'Digidentity', PERSONAS[1].label);
    await first.waitForURL(`${bed.baseUrl}/account`);
    const second = await context.newPage();
    await second.goto(`${bed.baseUrl}/account`);
    // A third tab signs in again: a new session, so the first two tabs' forms carry the old session's token.
    const third = await context.newPage();
    await signInWith(third, 'Digidentity', PERSONAS[1].label);
    await third.waitForURL(`${bed.baseUrl}/account`);

    await first.getByRole('button', { name: 'Add iDIN' }).click();
    await expect(first.getByText('The form was out of date').isVisible()).resolves.toBe(true);
    // Not "Sign in": the person is still signed in, and the page's own sign-out works.
    await expect(first.getByRole('navigation').getByRole('link', { name: 'My account' }).isVisible()).resolves.toBe(
      true,
    );
    await expect(
      first.getByRole('navigation').getByRole('button', { name: 'Sign out', exact: true }).isVisible(),
    ).resolves.toBe(true);

    await second.getByRole('navigation').getByRole('button', { name: 'Sign out', exact: true }).click();
    await second.waitForURL((url) => !url.pathname.startsWith('/account'));
    await third.goto(`${bed.baseUrl}/account`);
    await third.waitForURL(`${bed.baseUrl}/?returnTo=%2Faccount`);
  });

  it('asks for a fresh sign-in before changing sign-in methods when the login is too old', async () => {
    const { page } = await bed.newPerson();
    await signInWith(page, 'Digidentity', PERSONAS[1].label);
    await page.waitForURL(`${bed.baseUrl}/account`);
    const accountId = (await page.locator('dd code').first().textContent())!.trim();
    await bed.dataSource.query(
      `UPDATE sessions SET authenticated_at = now() - interval '2 hours' WHERE account_id = $1 AND revoked_at IS NULL`,
      [accountId],
    );
    await page.reload();
    await expect(page.getByText('sign in again first').isVisible()).resolves.toBe(true);
    await page.getByRole('button', { name: 'Add iDIN' }).click();
    await page.waitForURL(`${bed.baseUrl}/account?error=reauthentication_required`);
    await expect(page.getByRole('alert').textContent()).resolves.toContain('This needs a recent sign-in');
    await checkPage(page, 'account-reauthenticate');
    await page.getByRole('alert').getByRole('link', { name: 'Sign in again' }).click();
    await choosePersona(page, PERSONAS[1].label);
    await page.waitForURL(`${bed.baseUrl}/account`);
    await expect(page.getByText('recent enough to add or remove methods').isVisible()).resolves.toBe(true);
  });

  it('explains a failed sign-in on an HTML page with what to do next and a reference; API clients get JSON', async () => {
    const { page } = await bed.newPerson();
    await page.goto(`${bed.baseUrl}/`);
    await page.getByRole('link', { name: 'Sign in with Digidentity', exact: true }).click();
    await page.getByRole('button', { name: 'Cancel the login' }).click();
    await page.waitForURL(`${bed.baseUrl}/auth/login-error?code=login_cancelled`);
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBeTruthy();
    await expect(page.getByText('login_cancelled').count()).resolves.toBeGreaterThan(0);
    await checkPage(page, 'login-error');
    const json = await fetch(`${bed.baseUrl}/auth/login-error?code=login_cancelled`, {
      headers: { accept: 'application/json' },
    });
    expect(((await json.json()) as { code: string }).code).toBe('login_cancelled');
  });
});
