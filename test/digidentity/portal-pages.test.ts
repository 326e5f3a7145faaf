import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PERSONAS } from '../../sandbox/digidentity/personas.js';
import { Browser } from '../support/browser.js';
import { startDigidentityTestbed, type DigidentityTestbed } from '../support/digidentity-testbed.js';

const PORTAL = 'https://workshop-portal.example';

/** A manufacturer with its own portal front end: every outcome of a browser login goes to the portal's own pages. */
describe('portal-owned pages (LOGIN_SUCCESS_URL, LOGIN_PENDING_URL, LOGIN_ERROR_URL)', () => {
  let bed: DigidentityTestbed;

  beforeAll(async () => {
    bed = await startDigidentityTestbed({
      env: {
        DIGIDENTITY_UNKNOWN_IDENTITY_POLICY: 'choose',
        LOGIN_SUCCESS_URL: `${PORTAL}/welcome`,
        LOGIN_PENDING_URL: `${PORTAL}/sign-in/held`,
        LOGIN_ERROR_URL: `${PORTAL}/sign-in/failed`,
        REBIND_PENDING_MAX_AGE_SECONDS: String(12 * 3600),
      },
    });
  });
  afterAll(async () => bed.close());

  it('sends a held identity to the portal with the code and the reference the console finds it by', async () => {
    const browser = new Browser();
    const response = await bed.webLogin(browser, PERSONAS[0].id);
    const target = new URL(response.location!);
    expect(`${target.origin}${target.pathname}`).toBe(`${PORTAL}/sign-in/held`);
    expect(target.searchParams.get('code')).toBe('identity_pending');
    const reference = target.searchParams.get('reference')!;
    expect(reference).toMatch(/^[0-9A-F]{4}-[0-9A-F]{4}$/);
    // The portal's page reads the same reference from the API, and the support desk finds the identity by it.
    const pending = await browser.request(`${bed.app.baseUrl}/api/pending-identity`);
    expect(pending.json()).toMatchObject({ reference, canCreateAccount: true });
    const [row] = await bed.app.dataSource.query(`SELECT id FROM pending_identities WHERE subject = $1`, [
      PERSONAS[0].id,
    ]);
    expect(reference.replace('-', '').toLowerCase()).toBe(row.id.replace(/-/g, '').slice(0, 8));
    // The built-in page says how long the desk can use it: REBIND_PENDING_MAX_AGE_SECONDS, not a fixed time.
    const page = await browser.request(`${bed.app.baseUrl}/pending`, { headers: { Accept: 'text/html' } });
    expect(page.body).toContain(`<code>${reference}</code>`);
    expect(page.body).toContain('The support desk can use it for 12 hours.');
  });

  it('lands a login without returnTo on LOGIN_SUCCESS_URL, one with returnTo on that page', async () => {
    const browser = new Browser();
    const held = await bed.webLogin(browser, PERSONAS[1].id);
    expect(held.location).toMatch(`${PORTAL}/sign-in/held?`);
    const pending = (await browser.request(`${bed.app.baseUrl}/api/pending-identity`)).json<{ id: string }>();
    const created = await browser.request(`${bed.app.baseUrl}/api/pending-identity/create-account`, {
      json: { pendingIdentityId: pending.id },
      headers: { origin: bed.app.baseUrl },
    });
    expect(created.status).toBe(201);
    const again = new Browser();
    expect((await bed.webLogin(again, PERSONAS[1].id, '/')).location).toBe(`${PORTAL}/welcome`);
    expect((await bed.webLogin(again, PERSONAS[1].id, '/jobs/42')).location).toBe(`${bed.app.baseUrl}/jobs/42`);
  });

  it('sends a failed login to LOGIN_ERROR_URL with its code', async () => {
    const response = await bed.webLogin(new Browser(), 'broken-missing-ioeuid-0001');
    expect(response.location).toBe(`${PORTAL}/sign-in/failed?code=sermi_claims_missing`);
  });
});
