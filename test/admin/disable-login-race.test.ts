import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { QueryRunner } from 'typeorm';
import type { Persona } from '../../sandbox/digidentity/personas.js';
import { Browser } from '../support/browser.js';
import {
  errorPage,
  newIoePersona,
  startDigidentityTestbed,
  type DigidentityTestbed,
} from '../support/digidentity-testbed.js';
import { auditEvents, createAdmin } from '../support/factories.js';
import { portalWrite, useSession } from '../support/link-flow.js';
import { reachProviderCallback } from '../support/web-login.js';

/**
 * A login that commits just after an administrator disabled the account (and revoked its sessions) must not leave
 * a session behind that comes back to life when the account is enabled again. The race is forced: a second
 * connection holds the identity link's row, so the login waits inside its statement while the disable commits.
 */
describe('a login racing an account disable', () => {
  let bed: DigidentityTestbed;
  let admin: Browser;
  let count = 0;

  beforeAll(async () => {
    bed = await startDigidentityTestbed();
    admin = new Browser();
    useSession(admin, bed.app, (await createAdmin(bed.app, 'Account desk')).session);
  });
  afterAll(async () => bed.close());

  /** A person with an account and a Digidentity link (provisioned by a first login). */
  async function person(): Promise<{ persona: Persona; accountId: string; linkId: string }> {
    count += 1;
    const persona = newIoePersona(bed.sandbox, `disable-race-${count}`, `NL/EXAMPLECAB/${3030303030 + count}B`);
    await bed.webLogin(new Browser(), persona.id);
    const [link] = await bed.app.dataSource.query(
      `SELECT id, account_id FROM identity_links WHERE provider = 'digidentity' AND subject = $1`,
      [persona.id],
    );
    return { persona, accountId: link.account_id, linkId: link.id };
  }

  const setStatus = (accountId: string, status: 'active' | 'disabled') =>
    portalWrite(admin, bed.app, 'PATCH', `/api/admin/accounts/${accountId}`, { status, reason: 'Ticket 42' });

  const liveSessions = async (accountId: string): Promise<number> =>
    (
      await bed.app.dataSource.query(
        `SELECT count(*)::int AS n FROM sessions
          WHERE account_id = $1 AND revoked_at IS NULL AND absolute_expires_at > now()`,
        [accountId],
      )
    )[0].n;

  async function lockWaiters(): Promise<number> {
    const [{ waiting }] = await bed.app.dataSource.query(
      `SELECT count(*)::int AS waiting FROM pg_stat_activity
        WHERE datname = current_database() AND wait_event_type = 'Lock'`,
    );
    return waiting;
  }

  async function untilWaiting(atLeast: number): Promise<void> {
    for (let i = 0; i < 250; i += 1) {
      if ((await lockWaiters()) >= atLeast) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error('nobody waited for the lock');
  }

  /**
   * Delivers `callback` while the link row is held; disables the account meanwhile; then lets the login go on.
   * Returns where the login ended.
   */
  async function raceDisable(browser: Browser, callback: string, accountId: string, linkId: string) {
    const holder: QueryRunner = bed.app.dataSource.createQueryRunner();
    await holder.connect();
    await holder.startTransaction();
    try {
      await holder.query(`SELECT id FROM identity_links WHERE id = $1 FOR UPDATE`, [linkId]);
      const login = browser.request(callback);
      await untilWaiting(1);
      const disabled = await setStatus(accountId, 'disabled');
      expect(disabled.status).toBe(200);
      await holder.commitTransaction();
      return await login;
    } finally {
      if (holder.isTransactionActive) await holder.rollbackTransaction();
      await holder.release();
    }
  }

  it('the returning-login statement: the login fails as disabled, and nothing revives on re-enable', async () => {
    const { persona, accountId, linkId } = await person();
    const browser = new Browser();
    const callback = await bed.startWebLogin(browser, persona.id);

    const login = await raceDisable(browser, callback, accountId, linkId);
    expect(login.location).toBe(errorPage(bed, 'account_disabled'));
    expect(await liveSessions(accountId)).toBe(0);

    expect((await setStatus(accountId, 'active')).status).toBe(200);
    expect((await browser.request(`${bed.app.baseUrl}/api/me`)).status).toBe(401);
    expect(await liveSessions(accountId)).toBe(0);
  });

  it('the general path (a re-authentication): the same', async () => {
    const { persona, accountId, linkId } = await person();
    const browser = new Browser();
    await bed.webLogin(browser, persona.id);
    const start = await browser.request(`${bed.app.baseUrl}/auth/reauthenticate`);
    browser.cookies(bed.sandbox.issuer).clear();
    const callback = await reachProviderCallback(
      browser,
      start.location!,
      persona.id,
      `${bed.app.baseUrl}/auth/digidentity/callback`,
    );

    const login = await raceDisable(browser, callback, accountId, linkId);
    expect(login.location).toBe(errorPage(bed, 'account_disabled'));
    expect(await liveSessions(accountId)).toBe(0);

    expect((await setStatus(accountId, 'active')).status).toBe(200);
    expect((await browser.request(`${bed.app.baseUrl}/api/me`)).status).toBe(401);
    expect(await liveSessions(accountId)).toBe(0);
  });

  it('re-enabling ends every session the account still had while disabled', async () => {
    const { accountId } = await person();
    expect((await setStatus(accountId, 'disabled')).status).toBe(200);
    // However it came about, a session of the disabled account that was never revoked.
    await bed.app.dataSource.query(
      `INSERT INTO sessions (token_hash, account_id, provider, authenticated_at, auth_context, last_seen_at,
                             idle_expires_at, absolute_expires_at)
       VALUES (decode(md5(random()::text) || md5(random()::text), 'hex'), $1, 'digidentity', now(), '{}', now(), now() + interval '1 hour',
               now() + interval '1 hour')`,
      [accountId],
    );
    expect(await liveSessions(accountId)).toBe(1);
    expect((await setStatus(accountId, 'active')).status).toBe(200);
    expect(await liveSessions(accountId)).toBe(0);
    const [updated] = (await auditEvents(bed.app.dataSource, 'account.updated')).slice(-1);
    expect(updated).toMatchObject({
      subject_account_id: accountId,
      details: { before: { status: 'disabled' }, after: { status: 'active' }, revokedSessions: 1 },
    });
  });
});
