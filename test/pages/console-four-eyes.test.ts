import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { Page } from 'playwright-core';
import { PERSONAS } from '../../sandbox/digidentity/personas.js';
import { rebindFromConsole, recreatedItsmeAccount, signInWith, signsInAgain } from '../support/console-flow.js';
import { createAccount } from '../support/factories.js';
import {
  checkPage,
  expectNoPageProblems,
  grantAdmin,
  startPagesTestbed,
  type PagesTestbed,
} from '../support/pages-testbed.js';

jest.setTimeout(90_000);

/** Re-binding with four-eyes (REBIND_FOUR_EYES=true): one administrator requests, a second one decides. */
describe('support-desk console in a browser, four-eyes', () => {
  let bed: PagesTestbed;
  let first: Page;
  let second: Page;
  beforeAll(async () => {
    bed = await startPagesTestbed({ ITSME_UNKNOWN_IDENTITY_POLICY: 'choose', REBIND_FOUR_EYES: 'true' });
    ({ page: first } = await bed.newPerson());
    ({ page: second } = await bed.newPerson());
    for (const [page, persona] of [
      [first, PERSONAS[0]],
      [second, PERSONAS[1]],
    ] as const) {
      await signInWith(bed, page, 'Digidentity', persona.label);
      await page.waitForURL(`${bed.baseUrl}/account`);
      await grantAdmin(bed, persona.id);
    }
  }, 60_000);
  afterAll(async () => bed?.close());

  it('offers no "Make administrator": with four-eyes the operator appoints administrators', async () => {
    const [{ id }] = await bed.dataSource.query(
      `INSERT INTO accounts (display_name) VALUES ('A workshop employee') RETURNING id`,
    );
    await first.goto(`${bed.baseUrl}/console/accounts/${id}`);
    await expect(first.getByText(`npm run admin:grant -- ${id}`).isVisible()).resolves.toBe(true);
    await expect(first.getByRole('button', { name: 'Make administrator' }).count()).resolves.toBe(0);
    await expect(first.getByRole('button', { name: 'Disable the account' }).isVisible()).resolves.toBe(true);
  });

  it('applies a re-bind only when a second administrator approves the request', async () => {
    const { page: person } = await bed.newPerson();
    const reference = await recreatedItsmeAccount(bed, person);
    await rebindFromConsole(bed, first, reference);
    await first.getByRole('button', { name: 'Request the re-bind' }).click();
    await first.waitForURL(`${bed.baseUrl}/console/requests?notice=rebind_requested`);
    await expect(
      first.getByText('You requested this: another administrator must approve or reject it.').isVisible(),
    ).resolves.toBe(true);
    await expect(first.getByRole('button', { name: 'Approve and apply' }).count()).resolves.toBe(0);

    await second.goto(`${bed.baseUrl}/console`);
    await expect(second.getByRole('link', { name: /1 re-bind request waiting/ }).isVisible()).resolves.toBe(true);
    await second.getByRole('link', { name: /1 re-bind request waiting/ }).click();
    await checkPage(second, 'console-requests');
    // A comment longer than the API takes, past the browser's limit: back to the list, the request still waiting.
    const comment = second.getByLabel('Comment (optional)');
    await expect(comment.getAttribute('maxlength')).resolves.toBe('1000');
    await second.evaluate(
      `document.querySelectorAll('[maxlength]').forEach((field) => field.removeAttribute('maxlength'))`,
    );
    await comment.fill('x'.repeat(1001));
    await second.getByRole('button', { name: 'Approve and apply' }).click();
    await second.waitForURL(/\/console\/requests\?error=validation_failed$/);
    await comment.fill('Ticket 4711 checked');
    await second.getByRole('button', { name: 'Approve and apply' }).click();
    await second.waitForURL(/\/console\/requests\?status=all&notice=rebind_approved$/);
    await expect(second.getByRole('heading', { level: 2, name: /— applied$/ }).isVisible()).resolves.toBe(true);

    await signsInAgain(bed, person);
  });

  it('lets the second administrator reject a request with a comment, which changes nothing', async () => {
    const { page: person } = await bed.newPerson();
    // The same person re-creates her itsme account once more.
    await person.goto(`${bed.baseUrl}/sandbox`);
    await person.getByRole('link', { name: 'itsme sandbox home page' }).click();
    await person.getByRole('button', { name: /Delete and re-create Els Jansen/ }).click();
    await signInWith(bed, person, 'itsme', 'Els Jansen');
    await person.waitForURL(/\/pending\?/);
    const reference = (await person.locator('.reference').textContent())!.trim();

    await rebindFromConsole(bed, second, reference);
    // A reason of spaces says nothing: refused by the API's own rule, nothing requested (it was a 500 with four-eyes).
    await second.getByLabel(/Reason/).fill('   ');
    await second.getByRole('button', { name: 'Request the re-bind' }).click();
    await second.waitForURL(/\/console\/pending\/[^?]+\?error=validation_failed$/);
    await second.getByLabel('Find the account').fill('Jansen');
    await second.getByRole('button', { name: 'Search' }).click();
    await second.getByRole('radio', { name: /Els Jansen/ }).check();
    await second.getByLabel(/Reason/).fill('Ticket 4712: itsme re-created again');
    await second.getByRole('button', { name: 'Request the re-bind' }).click();
    await second.waitForURL(/notice=rebind_requested/);
    await first.goto(`${bed.baseUrl}/console/requests`);
    await first.getByLabel('Why it is rejected').fill('   ');
    await first.getByRole('button', { name: 'Reject' }).click();
    await first.waitForURL(/\/console\/requests\?error=validation_failed$/);
    await expect(first.getByRole('button', { name: 'Reject' }).isVisible()).resolves.toBe(true);
    await first.getByLabel('Why it is rejected').fill('Could not reach the workshop owner');
    await first.getByRole('button', { name: 'Reject' }).click();
    await first.waitForURL(/notice=rebind_rejected/);
    await expect(first.getByRole('heading', { level: 2, name: /— rejected$/ }).isVisible()).resolves.toBe(true);
    await first.goto(`${bed.baseUrl}/console?reference=${reference}`);
    await expect(first.getByRole('link', { name: `Review and re-bind ${reference}` }).isVisible()).resolves.toBe(true);
  });

  it('lists the requests a page at a time, and answers a page link that is not one with the page and a refusal', async () => {
    // Older decided requests of its own, so that there are 52 in all (the page holds 50), whichever tests ran before.
    const [{ existing }] = await bed.dataSource.query(`SELECT count(*)::int AS existing FROM rebind_requests`);
    const older = 52 - existing;
    const [person, requester, decider] = await Promise.all([0, 1, 2].map(() => createAccount(bed.dataSource)));
    const [pending] = await bed.dataSource.query(
      `INSERT INTO pending_identities (provider, issuer, subject, reason, expires_at)
       VALUES ('itsme', 'https://itsme.example', 'paging-0001', 'unknown_identity', now() + interval '1 day')
       RETURNING id`,
    );
    await bed.dataSource.query(
      `INSERT INTO rebind_requests (account_id, pending_identity_id, requested_by, reason, status, decided_by,
                                    decided_at, decision_comment, created_at, expires_at)
       SELECT $1, $2, $3, 'older request ' || g, 'rejected', $4, now() - g * interval '1 day', 'older',
              now() - g * interval '1 day' - interval '1 hour', now() - g * interval '1 day' + interval '7 days'
         FROM generate_series(1, $5::int) g`,
      [person.id, pending.id, requester.id, decider.id, older],
    );
    await first.goto(`${bed.baseUrl}/console/requests?status=all`);
    await expect(first.getByRole('heading', { level: 2 }).count()).resolves.toBe(50);
    await first.getByRole('link', { name: 'Older requests' }).click();
    await first.waitForURL(/\/console\/requests\?status=all&cursor=/);
    // The two oldest: 52 requests in all, newest first.
    await expect(first.getByRole('heading', { level: 2 }).count()).resolves.toBe(2);
    await expect(first.getByText(`older request ${older}`, { exact: true }).isVisible()).resolves.toBe(true);
    await expect(first.getByRole('link', { name: 'Older requests' }).count()).resolves.toBe(0);

    const forged = await first.goto(`${bed.baseUrl}/console/requests?status=all&cursor=bm90LWEtY3Vyc29y`);
    expect(forged?.status()).toBe(200);
    await expect(first.getByRole('alert').first().textContent()).resolves.toMatch(/cursor|page/i);
    expectNoPageProblems(first);
  });
});
