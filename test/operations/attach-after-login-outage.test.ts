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
 * "Sign in with … and attach" (one click from the pending page): the login signs in, then attaches. When the database
 * fails between the two (here: the pending identity's row held by another transaction past the statement timeout),
 * the person is signed in and must be told so, with the attach still to hand — not a login error page.
 */
describe('attaching after a login while the database fails', () => {
  let bed: ProvidersTestbed;

  beforeAll(async () => {
    bed = await startProvidersTestbed({ env: { DATABASE_STATEMENT_TIMEOUT_MS: '1000' } });
  });
  afterAll(async () => bed.close());

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

    const holder = new pg.Client({ connectionString: bed.app.database.url });
    await holder.connect();
    let landed: URL;
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM pending_identities WHERE id = $1 FOR UPDATE', [pending.id]);
      landed = new URL((await browser.request(callback)).location!);
    } finally {
      await holder.query('ROLLBACK');
      await holder.end();
    }
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
