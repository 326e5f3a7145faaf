import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { PERSONAS } from '../../sandbox/digidentity/personas.js';
import { Browser } from '../support/browser.js';
import {
  IDIN_BAKKER,
  startProvidersTestbed,
  type ProvidersTestbed,
  pendingPage,
} from '../support/providers-testbed.js';
import { reachProviderCallback } from '../support/web-login.js';

const MECHANIC = PERSONAS[1];

/**
 * What a browser holds between a login and its account — a pending identity — while the database fails: here, the
 * pending identity's row held by another transaction past the statement timeout, exactly while a request needs it.
 * A testbed each, as an outage is logged once per cause and minute.
 */
const outageTestbed = () => startProvidersTestbed({ env: { DATABASE_STATEMENT_TIMEOUT_MS: '1000' } });

/** `during` while another transaction holds the pending identity's row. */
async function whilePendingRowHeld<T>(
  bed: ProvidersTestbed,
  pendingIdentityId: string,
  during: () => Promise<T>,
): Promise<T> {
  const holder = new pg.Client({ connectionString: bed.app.database.url });
  await holder.connect();
  try {
    await holder.query('BEGIN');
    await holder.query('SELECT 1 FROM pending_identities WHERE id = $1 FOR UPDATE', [pendingIdentityId]);
    return await during();
  } finally {
    await holder.query('ROLLBACK');
    await holder.end();
  }
}

describe('attaching after a login while the database fails', () => {
  let bed: ProvidersTestbed;
  beforeAll(async () => (bed = await outageTestbed()));
  afterAll(async () => bed.close());

  // "Sign in with … and attach" (one click from the pending page) signs in, then attaches: when the attach fails, the
  // person is signed in and must be told so, with the attach still to hand — not a login error page.
  it('ends on the pending page (signed in, try again), the identity still waiting; attaching then works', async () => {
    const base = bed.app.baseUrl;
    const existing = new Browser();
    await bed.digidentityLogin(existing, MECHANIC.id);
    const accountId = (await existing.request(`${base}/api/me`)).json<{ account: { id: string } }>().account.id;

    const browser = new Browser();
    expect((await bed.idinLogin(browser, IDIN_BAKKER.id)).location).toEqual(pendingPage(bed));
    const pending = (await browser.request(`${base}/api/pending-identity`)).json<{ id: string }>();
    const start = await browser.request(`${base}/pending/sign-in`, {
      form: { provider: 'digidentity', pendingIdentityId: pending.id },
      headers: { Origin: base },
    });
    expect(start.status).toBe(302);
    const callback = await reachProviderCallback(browser, start.location!, MECHANIC.id, `${base}/auth/digidentity`);

    const landed = new URL((await whilePendingRowHeld(bed, pending.id, () => browser.request(callback))).location!);
    expect([landed.pathname, landed.searchParams.get('code')]).toEqual(['/pending', 'service_unavailable']);
    // An outage, reported as one: a warning with its cause, no stack.
    const reported = bed.app.logs.lines.filter((line) => line.msg === 'attaching after the login failed');
    expect(reported).toEqual([expect.objectContaining({ level: 'warn', cause: 'database_timeout' })]);
    const me = await browser.request(`${base}/api/me`);
    expect([me.status, me.json<{ account: { id: string } }>().account.id]).toEqual([200, accountId]);
    const page = await browser.request(landed.href, { headers: { Accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(page.body).toContain('Service unavailable');

    const [row] = await bed.app.dataSource.query(`SELECT resolved_at FROM pending_identities WHERE id = $1`, [
      pending.id,
    ]);
    expect(row).toEqual({ resolved_at: null });
    const retry = await browser.request(`${base}/api/pending-identity/attach`, {
      json: { pendingIdentityId: pending.id },
      headers: {
        Origin: base,
        'X-CSRF-Token': (await browser.request(`${base}/api/me`)).json<{ csrfToken: string }>().csrfToken,
      },
    });
    expect([retry.status, retry.json<{ status: string }>().status]).toEqual([200, 'confirm_with_provider']);
  });
});

describe('signing out while the database fails', () => {
  let bed: ProvidersTestbed;
  beforeAll(async () => (bed = await outageTestbed()));
  afterAll(async () => bed.close());

  // Signing out also takes the sign-ins the browser holds: not for whoever uses this shared PC next. The binding
  // cookie is what reaches them, so the sign-out stands when their rows cannot be unbound — and a logout still ends
  // the provider's single sign-on session, which a "try again" would have left for the next person.
  it('still signs out, ends the provider session, and the browser keeps nothing it held', async () => {
    const base = bed.app.baseUrl;
    const browser = new Browser();
    expect((await bed.idinLogin(browser, IDIN_BAKKER.id)).location).toEqual(pendingPage(bed));
    const pending = (await browser.request(`${base}/api/pending-identity`)).json<{ id: string }>();
    await bed.digidentityLogin(browser, MECHANIC.id);
    expect((await browser.request(`${base}/api/me`)).status).toBe(200);
    expect((await browser.request(`${base}/api/pending-identity`)).status).toBe(200);
    expect([...browser.cookies(base).keys()].sort()).toEqual([
      '__Host-rmi_login',
      '__Host-rmi_session',
      '__Host-rmi_signed_in_digidentity',
      '__Host-rmi_signed_in_signicat-idin',
    ]);

    const logout = await whilePendingRowHeld(bed, pending.id, () =>
      browser.request(`${base}/auth/logout`, { method: 'POST', headers: { Origin: base } }),
    );
    expect(logout.status).toBe(200);
    expect(logout.json<{ providerLogoutUrl: string }>().providerLogoutUrl).toMatch(/^http/);
    // Only the provider sign-out's state for its way back, the notes of the providers still to visit (the Trust
    // Centre's goes once its page is confirmed), and the note that someone signed out here.
    expect([...browser.cookies(base).keys()].sort()).toEqual([
      '__Host-rmi_logout',
      '__Host-rmi_signed_in_digidentity',
      '__Host-rmi_signed_in_signicat-idin',
      '__Host-rmi_signed_out',
    ]);
    expect((await browser.request(`${base}/api/me`)).status).toBe(401);
    expect((await browser.request(`${base}/api/pending-identity`)).status).toBe(404);
    const reported = bed.app.logs.lines.filter((line) => String(line.msg).startsWith('forgetting the held sign-ins'));
    expect(reported).toEqual([expect.objectContaining({ level: 'warn', cause: 'database_timeout' })]);
    // Still bound to a hash that no browser holds any more, until the identity expires or is reviewed.
    const [row] = await bed.app.dataSource.query(
      `SELECT browser_binding_hash IS NOT NULL AS bound, resolved_at FROM pending_identities WHERE id = $1`,
      [pending.id],
    );
    expect(row).toEqual({ bound: true, resolved_at: null });
  });
});
