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

const MECHANIC = PERSONAS[1];

/**
 * Signing out also takes from the browser the sign-ins it holds (pending identities): not for whoever uses this shared
 * PC next. When the database fails while the sign-out forgets them (here: the pending identity's row held by another
 * transaction past the statement timeout), the answer says "try again" — and still takes both cookies.
 */
describe('signing out while the database fails', () => {
  let bed: ProvidersTestbed;

  beforeAll(async () => {
    bed = await startProvidersTestbed({ env: { DATABASE_STATEMENT_TIMEOUT_MS: '1000' } });
  });
  afterAll(async () => bed.close());

  it('answers try again, and the browser keeps neither its session nor its held sign-in', async () => {
    const base = bed.app.baseUrl;
    const browser = new Browser();
    expect((await bed.idinLogin(browser, IDIN_BAKKER.id)).location).toEqual(pendingPage(bed));
    const pending = (await browser.request(`${base}/api/pending-identity`)).json<{ id: string }>();
    await bed.digidentityLogin(browser, MECHANIC.id);
    expect((await browser.request(`${base}/api/me`)).status).toBe(200);
    expect((await browser.request(`${base}/api/pending-identity`)).status).toBe(200);
    expect(browser.cookies(base).size).toBe(2);

    const holder = new pg.Client({ connectionString: bed.app.database.url });
    await holder.connect();
    let logout: Awaited<ReturnType<Browser['request']>>;
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM pending_identities WHERE id = $1 FOR UPDATE', [pending.id]);
      logout = await browser.request(`${base}/auth/logout`, { method: 'POST', headers: { Origin: base } });
    } finally {
      await holder.query('ROLLBACK');
      await holder.end();
    }
    expect([logout.status, logout.json<{ code: string }>().code]).toEqual([503, 'service_unavailable']);
    expect(browser.cookies(base).size).toBe(0);
    expect((await browser.request(`${base}/api/me`)).status).toBe(401);
    expect((await browser.request(`${base}/api/pending-identity`)).status).toBe(404);
  });
});
