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
 * PC next. The binding cookie is what reaches them, so when the database fails while their rows are unbound (here: the
 * pending identity's row held by another transaction past the statement timeout) the sign-out still stands — and a
 * logout still ends the provider's single sign-on session, which a "try again" would have left for the next person.
 */
describe('signing out while the database fails', () => {
  let bed: ProvidersTestbed;

  beforeAll(async () => {
    bed = await startProvidersTestbed({ env: { DATABASE_STATEMENT_TIMEOUT_MS: '1000' } });
  });
  afterAll(async () => bed.close());

  it('still signs out, ends the provider session, and the browser keeps nothing it held', async () => {
    const base = bed.app.baseUrl;
    const browser = new Browser();
    expect((await bed.idinLogin(browser, IDIN_BAKKER.id)).location).toEqual(pendingPage(bed));
    const pending = (await browser.request(`${base}/api/pending-identity`)).json<{ id: string }>();
    await bed.digidentityLogin(browser, MECHANIC.id);
    expect((await browser.request(`${base}/api/me`)).status).toBe(200);
    expect((await browser.request(`${base}/api/pending-identity`)).status).toBe(200);
    expect([...browser.cookies(base).keys()].sort()).toEqual(['__Host-rmi_login', '__Host-rmi_session']);

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
    expect(logout.status).toBe(200);
    expect(logout.json<{ providerLogoutUrl: string }>().providerLogoutUrl).toMatch(/^http/);
    // Only the provider sign-out's own cookie, for its way back.
    expect([...browser.cookies(base).keys()]).toEqual(['__Host-rmi_logout']);
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
