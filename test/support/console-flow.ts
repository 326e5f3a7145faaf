import { expect } from '@jest/globals';
import type { Page } from 'playwright-core';
import { ITSME_PERSONAS } from '../../sandbox/itsme/personas.js';
import { choosePersona, type PagesTestbed } from './pages-testbed.js';

export const JANSEN = ITSME_PERSONAS[2];

export async function signInWith(bed: PagesTestbed, page: Page, provider: string, persona: string): Promise<void> {
  await page.goto(`${bed.baseUrl}/`);
  await page
    .getByRole('link', { name: provider === 'itsme' ? 'Log in with itsme' : `Sign in with ${provider}`, exact: true })
    .click();
  await choosePersona(page, persona);
}

/**
 * Els Jansen's story up to the support desk: an account made from her itsme sign-in, then her itsme account deleted
 * and re-created at itsme (the sandbox's home page), so her next sign-in is held. Returns the reference she is shown.
 */
export async function recreatedItsmeAccount(bed: PagesTestbed, page: Page): Promise<string> {
  await signInWith(bed, page, 'itsme', JANSEN.label);
  await page.waitForURL(/\/pending\?/);
  await page.getByRole('button', { name: 'Create an account' }).click();
  await page.waitForURL(`${bed.baseUrl}/account?notice=account_created`);
  // A session made from a held identity keeps no ID token, but the itsme sign-in behind it is in this browser: the
  // sign-out goes through itsme's sign-out page too.
  await page.getByRole('button', { name: 'Sign out', exact: true }).first().click();
  await page.getByRole('button', { name: 'Yes, sign me out' }).click();
  await page.waitForURL(`${bed.baseUrl}/`);

  await page.goto(`${bed.baseUrl}/sandbox`);
  await page.getByRole('link', { name: 'itsme sandbox home page' }).click();
  await page
    .getByRole('button', { name: `Delete and re-create ${JANSEN.label}’s itsme account (new subject)` })
    .click();
  await expect(page.getByRole('heading', { name: 'itsme account re-created' }).isVisible()).resolves.toBe(true);

  await signInWith(bed, page, 'itsme', JANSEN.label);
  await page.waitForURL(/\/pending\?/);
  const reference = (await page.locator('.reference').textContent())!.trim();
  expect(reference).toMatch(/^[0-9A-F]{4}-[0-9A-F]{4}$/);
  return reference;
}

/** The support desk finds the held identity by its reference and re-binds it to Els Jansen's account. */
export async function rebindFromConsole(bed: PagesTestbed, admin: Page, reference: string): Promise<void> {
  await admin.goto(`${bed.baseUrl}/console`);
  await admin.getByLabel('Reference').fill(reference);
  await admin.getByRole('button', { name: 'Filter' }).click();
  await admin.getByRole('link', { name: `Review and re-bind ${reference}` }).click();
  await admin.getByLabel('Find the account').fill('Jansen');
  await admin.getByRole('button', { name: 'Search' }).click();
  await admin.getByRole('radio', { name: /Els Jansen/ }).check();
  await admin.getByLabel(/Reason/).fill('Ticket 4711: itsme re-created; verified by call-back');
}

/** Els signs in with her new itsme account and lands on her own account. */
export async function signsInAgain(bed: PagesTestbed, page: Page): Promise<void> {
  await page.goto(`${bed.baseUrl}/`);
  await page.getByRole('link', { name: 'Sign in with itsme as someone else' }).click();
  await choosePersona(page, JANSEN.label);
  await page.waitForURL(`${bed.baseUrl}/account`);
  await expect(page.getByRole('heading', { level: 2, name: 'Els Jansen' }).isVisible()).resolves.toBe(true);
}
