import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { Page } from 'playwright-core';
import { PERSONAS } from '../../sandbox/digidentity/personas.js';
import { signInWith } from '../support/console-flow.js';
import { auditEvents } from '../support/factories.js';
import {
  checkPage,
  choosePersona,
  grantAdmin,
  startPagesTestbed,
  type PagesTestbed,
} from '../support/pages-testbed.js';

const SUPPORT = PERSONAS[0];

jest.setTimeout(90_000);

/** Another site: a page whose only content is a link to `href`, as a mail or a forum post would have. */
async function anotherSite(): Promise<{ server: Server; linkTo(page: Page, href: string): Promise<void> }> {
  const server = createServer((req, res) => {
    const href = new URL(req.url ?? '/', 'http://x').searchParams.get('href') ?? '/';
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.end(`<!doctype html><title>Elsewhere</title><a href="${href.replace(/"/g, '&quot;')}">Have a look</a>`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  // `localhost` while the app is `127.0.0.1`: another site to the browser.
  const origin = `http://localhost:${(server.address() as AddressInfo).port}`;
  return {
    server,
    linkTo: async (page, href) => {
      await page.goto(`${origin}/?href=${encodeURIComponent(href)}`);
      await page.getByRole('link', { name: 'Have a look' }).click();
    },
  };
}

/**
 * The support desk with its providers on another site, as real ones are: every read there is audited in the admin's
 * name, so only this site may open its pages, and an admin's own sign-in still lands on them.
 */
describe('support-desk pages opened from another site', () => {
  let bed: PagesTestbed;
  let elsewhere: Awaited<ReturnType<typeof anotherSite>>;
  let someoneId: string;
  const looksAt = async () =>
    (await auditEvents(bed.dataSource, 'account.viewed')).filter((e) => e.subject_account_id === someoneId).length;

  beforeAll(async () => {
    bed = await startPagesTestbed({}, { host: '127.0.0.1' });
    elsewhere = await anotherSite();
    const { page } = await bed.newPerson();
    await signInWith(bed, page, 'Digidentity', SUPPORT.label);
    await page.waitForURL(`${bed.baseUrl}/account`);
    await grantAdmin(bed, SUPPORT.id);
    [{ id: someoneId }] = await bed.dataSource.query(`SELECT id FROM accounts LIMIT 1`);
  }, 60_000);
  afterAll(async () => {
    elsewhere?.server.close();
    await bed?.close();
  });

  it('lands an administrator who opened a console page signed out on it after signing in', async () => {
    const { page } = await bed.newPerson();
    await page.goto(`${bed.baseUrl}/console/accounts`);
    await page.waitForURL(`${bed.baseUrl}/?returnTo=%2Fconsole%2Faccounts`);
    await page.getByRole('link', { name: 'Sign in with Digidentity', exact: true }).click();
    await choosePersona(page, SUPPORT.label);
    await page.waitForURL(`${bed.baseUrl}/console/accounts`);
    await expect(page.getByRole('heading', { level: 1, name: 'Find an account' }).isVisible()).resolves.toBe(true);
  });

  it('stops a link from another site at a page that opens it from here; only opening it is recorded', async () => {
    const { page } = await bed.newPerson();
    await signInWith(bed, page, 'Digidentity', SUPPORT.label);
    await page.waitForURL(`${bed.baseUrl}/account`);
    const before = await looksAt();

    await elsewhere.linkTo(page, `${bed.baseUrl}/console/accounts/${someoneId}`);
    await page.waitForURL(`${bed.baseUrl}/console/accounts/${someoneId}`);
    await expect(page.getByRole('heading', { level: 1, name: 'Opened from another site' }).isVisible()).resolves.toBe(
      true,
    );
    await checkPage(page, 'console-opened-elsewhere');
    expect(await looksAt()).toBe(before);

    await page.getByRole('link', { name: 'Open it here' }).click();
    await expect(page.getByRole('heading', { level: 2, name: 'Audit trail' }).isVisible()).resolves.toBe(true);
    expect(await looksAt()).toBe(before + 1);
  });

  it("keeps another site's way into the console off the sign-in page, signed out or signed in", async () => {
    const { page } = await bed.newPerson();
    const before = await looksAt();
    const signIn = `${bed.baseUrl}/?returnTo=${encodeURIComponent(`/console/accounts/${someoneId}`)}`;
    await elsewhere.linkTo(page, signIn);
    await page.getByRole('link', { name: 'Sign in with Digidentity', exact: true }).click();
    await choosePersona(page, SUPPORT.label);
    await page.waitForURL(`${bed.baseUrl}/account`);

    await elsewhere.linkTo(page, signIn);
    await expect(page.getByRole('link', { name: /^Continue as/ }).getAttribute('href')).resolves.toBe('/account');
    await expect(page.locator('#qr').getAttribute('data-return-to')).resolves.toBe('/');
    expect(await looksAt()).toBe(before);

    // Opened from here (typed, or a link of this site), the sign-in page keeps the way on.
    await page.goto(signIn);
    await expect(page.getByRole('link', { name: /^Continue as/ }).getAttribute('href')).resolves.toBe(
      `/console/accounts/${someoneId}`,
    );
  });

  it('ends a sign-in that another site started towards a console page on that stop too', async () => {
    const { page } = await bed.newPerson();
    const before = await looksAt();
    const target = `/console/accounts/${someoneId}`;
    await elsewhere.linkTo(page, `${bed.baseUrl}/auth/digidentity/login?returnTo=${encodeURIComponent(target)}`);
    await choosePersona(page, SUPPORT.label);
    await page.waitForURL(`${bed.baseUrl}${target}`);
    await expect(page.getByRole('heading', { level: 1, name: 'Opened from another site' }).isVisible()).resolves.toBe(
      true,
    );
    expect(await looksAt()).toBe(before);
  });
});
