import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { PERSONAS } from '../../sandbox/digidentity/personas.js';
import { JANSEN, rebindFromConsole, recreatedItsmeAccount, signInWith, signsInAgain } from '../support/console-flow.js';
import {
  checkPage,
  expectNoPageProblems,
  grantAdmin,
  startPagesTestbed,
  type PagesTestbed,
} from '../support/pages-testbed.js';

const SUPPORT = PERSONAS[0];

jest.setTimeout(90_000);

/** The support desk's console in a real browser, re-binding without four-eyes. */
describe('support-desk console in a browser', () => {
  let bed: PagesTestbed;
  let admin: Page;
  beforeAll(async () => {
    bed = await startPagesTestbed({ ITSME_UNKNOWN_IDENTITY_POLICY: 'choose' });
    ({ page: admin } = await bed.newPerson());
    await signInWith(bed, admin, 'Digidentity', SUPPORT.label);
    await admin.waitForURL(`${bed.baseUrl}/account`);
  }, 60_000);
  afterAll(async () => bed?.close());

  it('tells a signed-in person who is not an administrator how the first administrator is appointed', async () => {
    await admin.goto(`${bed.baseUrl}/console`);
    await expect(
      admin.getByRole('heading', { name: 'The support desk is for administrators' }).isVisible(),
    ).resolves.toBe(true);
    await expect(admin.getByText(/npm run admin:grant -- [0-9a-f-]{36}/).isVisible()).resolves.toBe(true);
    await checkPage(admin, 'console-not-admin');
    await grantAdmin(bed, SUPPORT.id);
    await admin.reload();
    await expect(admin.getByRole('heading', { level: 1, name: 'Support desk' }).isVisible()).resolves.toBe(true);
  });

  it('re-binds a re-created itsme account from the pending identity list, with a reason; the person signs in again', async () => {
    const { page: person } = await bed.newPerson();
    const reference = await recreatedItsmeAccount(bed, person);
    await checkPage(person, 'pending-reference');

    await admin.goto(`${bed.baseUrl}/console?reference=${reference}`);
    await expect(admin.getByRole('cell', { name: reference, exact: true }).isVisible()).resolves.toBe(true);
    await checkPage(admin, 'console-pending');
    await rebindFromConsole(bed, admin, reference);
    await checkPage(admin, 'console-rebind');
    await admin.getByRole('button', { name: 'Re-bind', exact: true }).click();
    await admin.waitForURL(/\/console\/accounts\/[0-9a-f-]{36}\?notice=rebind_applied$/);
    await expect(admin.getByRole('status').first().textContent()).resolves.toContain('The re-bind was applied');
    await expect(admin.getByRole('cell', { name: 'identity.rebound' }).count()).resolves.toBeGreaterThan(0);
    await checkPage(admin, 'console-account');

    await signsInAgain(bed, person);
  });

  it('finds accounts by exact UID and appoints another administrator by clicks', async () => {
    await admin.goto(`${bed.baseUrl}/console/accounts`);
    await admin.getByLabel(/exact UID/).fill(SUPPORT.claims.ioeuid);
    await admin.getByRole('button', { name: 'Search' }).click();
    const rows = admin.locator('tbody tr');
    await expect(rows.count()).resolves.toBe(1);
    await checkPage(admin, 'console-accounts');

    await admin.getByLabel(/exact UID/).fill('Jansen');
    await admin.getByRole('button', { name: 'Search' }).click();
    await admin.getByRole('link', { name: JANSEN.claims.name as string }).click();
    const accountPage = admin.url();
    // The browser asks for the reason first; one of spaces gets past it, not past the backend.
    await admin.getByRole('button', { name: 'Make administrator' }).click();
    expect(admin.url()).toBe(accountPage);
    await admin.getByLabel('Reason (ticket, what was checked)').fill('   ');
    await admin.getByRole('button', { name: 'Make administrator' }).click();
    await admin.waitForURL(/error=validation_failed/);
    await expect(admin.getByText('a reason or comment needs words, not only spaces').isVisible()).resolves.toBe(true);
    await expect(admin.getByRole('button', { name: 'Make administrator' }).isVisible()).resolves.toBe(true);

    await admin.getByLabel('Reason (ticket, what was checked)').fill('Ticket 77: covers the desk in August');
    await admin.getByRole('button', { name: 'Make administrator' }).click();
    await admin.waitForURL(/notice=account_updated/);
    await expect(admin.getByRole('button', { name: 'Remove the administrator role' }).isVisible()).resolves.toBe(true);
    const [granted] = await bed.dataSource.query(
      `SELECT details FROM audit_events WHERE type = 'account.updated' ORDER BY seq DESC LIMIT 1`,
    );
    expect(granted.details).toMatchObject({
      after: { roles: ['admin'] },
      reason: 'Ticket 77: covers the desk in August',
    });
  });

  it('refuses an account change sent without a reason or with too long a one, past the browser, and changes nothing', async () => {
    const [target] = await bed.dataSource.query(
      `INSERT INTO accounts (display_name) VALUES ('A form target') RETURNING id`,
    );
    const updates = () =>
      bed.dataSource.query(`SELECT count(*)::int AS n FROM audit_events WHERE type = 'account.updated'`);
    const looks = async () =>
      (
        await bed.dataSource.query(
          `SELECT count(*)::int AS n FROM audit_events WHERE type = 'account.viewed' AND subject_account_id = $1`,
          [target.id],
        )
      )[0].n as number;
    const [before] = await updates();
    for (const reason of [null, 'x'.repeat(1001)]) {
      await admin.goto(`${bed.baseUrl}/console/accounts/${target.id}`);
      // What a person with the browser's developer tools can do: the field gone, or its limits.
      const field = `document.querySelector('#change-reason')`;
      if (reason === null) {
        await admin.evaluate(`${field}.remove()`);
      } else {
        await expect(admin.locator('#change-reason').getAttribute('maxlength')).resolves.toBe('1000');
        await admin.evaluate(`${field}.removeAttribute('maxlength')`);
        await admin.locator('#change-reason').fill(reason);
      }
      const looksBefore = await looks();
      await admin.getByRole('button', { name: 'Disable the account' }).click();
      await admin.waitForURL(/error=validation_failed/);
      // The refused change read nothing: the one look recorded is the form's page, shown again.
      expect((await looks()) - looksBefore).toBe(1);
      // Back on the form (the API's own refusal), not on an error page.
      await expect(admin.getByRole('alert').first().textContent()).resolves.toMatch(/missing or not valid/);
      await expect(admin.getByRole('button', { name: 'Disable the account' }).isVisible()).resolves.toBe(true);
      expectNoPageProblems(admin);
    }
    const [after] = await bed.dataSource.query(`SELECT status FROM accounts WHERE id = $1`, [target.id]);
    expect(after.status).toBe('active');
    await expect(updates()).resolves.toEqual([before]);
  });

  it('shows the SERMI access log with filters and exports it', async () => {
    await admin.goto(`${bed.baseUrl}/console/access-log`);
    await admin.getByLabel('IOE UID').fill(SUPPORT.claims.ioeuid);
    await admin.getByRole('button', { name: 'Filter' }).click();
    await expect(admin.getByRole('cell', { name: /login/ }).count()).resolves.toBeGreaterThan(0);
    await checkPage(admin, 'console-access-log');
    const [download] = await Promise.all([
      admin.waitForEvent('download'),
      admin.getByRole('link', { name: 'Export as CSV' }).click(),
    ]);
    const csv = readFileSync((await download.path())!, 'utf8');
    expect(csv.split('\n')[0]).toContain('ioeuid');
    expect(csv).toContain(SUPPORT.claims.ioeuid);
  });

  it('answers a filter given many times (an array in the query string) with the page and a refusal, not a 500', async () => {
    const response = await admin.goto(`${bed.baseUrl}/console/access-log?${'from=x&'.repeat(20)}to=y&to=z&vin=A&vin=B`);
    expect(response?.status()).toBe(200);
    await expect(admin.getByRole('alert').first().textContent()).resolves.toMatch(/from/);
    await expect(admin.getByLabel('VIN').inputValue()).resolves.toBe('A,B');
    expectNoPageProblems(admin);
    for (const path of [
      '/console/accounts?q=a&q=b',
      '/console?status=open&status=all',
      '/console/requests?status=all&status=requested',
      '/console/rmi-items?q=a&q=b',
    ]) {
      const status = (await admin.goto(`${bed.baseUrl}${path}`))!.status();
      expect([path, status === 200 || status === 400]).toEqual([path, true]);
    }
  });

  it('imports the RMI item classification from a CSV file', async () => {
    await admin.goto(`${bed.baseUrl}/console/rmi-items`);
    await admin.getByLabel('CSV file', { exact: true }).setInputFiles({
      name: 'items.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(
        'code,title,securityRelated,category\r\nIMMO.KEY-PROG,Key programming,yes,Immobiliser\r\nBRAKE.PADS,Brake pads,no,Brakes\r\n',
      ),
    });
    // On success the page reloads itself a moment later to show the new list: waited for, not raced by a goto.
    const reloaded = admin.waitForEvent('load');
    await admin.getByRole('button', { name: 'Import' }).click();
    await expect(admin.getByRole('status').filter({ hasText: 'Imported 2 rows' }).textContent()).resolves.toContain(
      '2 created',
    );
    await reloaded;
    await expect(admin.getByRole('cell', { name: 'IMMO.KEY-PROG' }).isVisible()).resolves.toBe(true);
    await checkPage(admin, 'console-rmi-items');

    await admin.getByLabel('CSV file', { exact: true }).setInputFiles({
      name: 'bad.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from('code,title,securityRelated\r\nbad code,Broken,maybe\r\n'),
    });
    await admin.getByRole('button', { name: 'Import' }).click();
    await admin.getByRole('status').filter({ hasText: 'Nothing was imported' }).waitFor();
    await expect(admin.locator('#rmi-import-result li').count()).resolves.toBeGreaterThan(0);
  });
});
