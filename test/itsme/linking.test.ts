import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ITSME_PERSONAS } from '../../sandbox/itsme/personas.js';
import { Browser } from '../support/browser.js';
import { auditEvents, createAccount, createAdmin, createLink, signIn } from '../support/factories.js';
import { portalWrite, startLink, useSession } from '../support/link-flow.js';
import { pendingPage } from '../support/providers-testbed.js';
import { ITSME_CALLBACK, startItsmeTestbed, type ItsmeTestbed } from '../support/itsme-testbed.js';
import { reachProviderCallback } from '../support/web-login.js';

const [PEETERS, DUBOIS, JANSEN] = ITSME_PERSONAS;

interface PendingItem {
  id: string;
  provider: string;
  subject: string;
  reason: string;
  suspectedAccount: { id: string } | null;
  rebindable: boolean;
}

describe('itsme: linking and re-binding a re-created itsme account', () => {
  let bed: ItsmeTestbed;

  beforeAll(async () => {
    // The default policy (pending): an itsme identity nobody knows is never made into an account by itself.
    bed = await startItsmeTestbed();
  });
  afterAll(async () => bed?.close());

  const accountIdOf = async (browser: Browser) =>
    (await browser.request(`${bed.app.baseUrl}/api/me`)).json<{ account: { id: string } }>().account.id;

  /** An account that signs in another way (a Digidentity link), signed in just now in a fresh browser. */
  async function signedInAccount() {
    const account = await createAccount(bed.app.dataSource, { displayName: 'Workshop owner' });
    const link = await createLink(bed.app.dataSource, account.id);
    const browser = new Browser();
    useSession(browser, bed.app, await signIn(bed.app, account, link));
    return { account, browser };
  }

  /** POST /api/me/links/itsme, then the itsme login in the same browser, up to the callback's answer. */
  async function linkItsme(browser: Browser, personaId: string) {
    const started = await startLink(browser, bed.app, 'itsme', { returnTo: '/settings' });
    expect(started.status).toBe(201);
    const { redirectUrl } = started.json<{ redirectUrl: string }>();
    return browser.request(
      await reachProviderCallback(browser, redirectUrl, personaId, `${bed.app.baseUrl}${ITSME_CALLBACK}`),
    );
  }

  it('links an itsme identity to an existing account; itsme then signs in to that account', async () => {
    const { account, browser } = await signedInAccount();
    const callback = await linkItsme(browser, PEETERS.id);
    expect(callback.location).toBe(`${bed.app.baseUrl}/settings`);

    const links = (await browser.request(`${bed.app.baseUrl}/api/me/links`)).json<{
      items: Array<{ provider: string; attributes: Record<string, unknown> }>;
    }>();
    expect(links.items.map((link) => link.provider).sort()).toEqual(['digidentity', 'itsme']);
    expect(links.items.find((link) => link.provider === 'itsme')!.attributes.name).toBe('Jan Peeters');
    const [linked] = (await auditEvents(bed.app.dataSource, 'identity.linked')).slice(-1);
    expect(linked.subject_account_id).toBe(account.id);

    const viaItsme = new Browser();
    expect((await bed.login(viaItsme, PEETERS.id)).location).toBe(`${bed.app.baseUrl}/portal/home`);
    expect(await accountIdOf(viaItsme)).toBe(account.id);
  });

  it('re-authenticates an itsme session through a fresh itsme login (prompt=login inside the request object)', async () => {
    const { account, browser } = await signedInAccount();
    expect((await linkItsme(browser, DUBOIS.id)).location).toBe(`${bed.app.baseUrl}/settings`);
    const viaItsme = new Browser();
    await bed.login(viaItsme, DUBOIS.id);
    const before = (await viaItsme.request(`${bed.app.baseUrl}/api/me`)).json<{ session: { id: string } }>();

    const again = await viaItsme.request(`${bed.app.baseUrl}/auth/reauthenticate?returnTo=/settings&provider=itsme`);
    expect(again.location).toMatch(new RegExp(`^${bed.itsme.issuer}/authorization\\?`));
    // The sandbox still has the person's itsme session; prompt=login makes it ask again anyway.
    const isCallback = (url: string) => url.startsWith(`${bed.app.baseUrl}${ITSME_CALLBACK}`);
    const page = await viaItsme.follow(again.location!, isCallback);
    expect([page.status, page.body]).toEqual([200, expect.stringContaining('Sign in with itsme')]);
    const chosen = await viaItsme.follow(`${page.url}/login`, isCallback, { form: { persona: DUBOIS.id } });
    const callback = await viaItsme.request(chosen.location!);
    expect(callback.location).toBe(`${bed.app.baseUrl}/settings`);
    const after = (await viaItsme.request(`${bed.app.baseUrl}/api/me`)).json<{
      account: { id: string };
      session: { id: string; provider: string };
    }>();
    expect(after.account.id).toBe(account.id);
    expect(after.session.provider).toBe('itsme');
    expect(after.session.id).not.toBe(before.session.id);
  });

  it('holds a re-created itsme account (new sub) as pending, never matched; an admin re-binds it to the account', async () => {
    const { account, browser } = await signedInAccount();
    expect((await linkItsme(browser, JANSEN.id)).location).toBe(`${bed.app.baseUrl}/settings`);
    const oldSubject = bed.itsme.subjectOf(JANSEN.id);

    // Els deletes and re-creates her itsme account: itsme gives her a new sub.
    const newSubject = bed.itsme.recreateAccount(JANSEN.id);
    const again = new Browser();
    expect((await bed.login(again, JANSEN.id)).location).toEqual(pendingPage(bed));
    expect((await again.request(`${bed.app.baseUrl}/api/me`)).status).toBe(401);
    // Same name, same e-mail — and still not merged into her account.
    const links = await bed.app.dataSource.query(
      `SELECT subject FROM identity_links WHERE account_id = $1 AND provider = 'itsme'`,
      [account.id],
    );
    expect(links).toEqual([{ subject: oldSubject }]);

    const admin = new Browser();
    useSession(admin, bed.app, (await createAdmin(bed.app, 'Support desk')).session);
    const page = (await admin.request(`${bed.app.baseUrl}/api/admin/pending-identities?provider=itsme`)).json<{
      items: PendingItem[];
    }>();
    const pending = page.items.find((item) => item.subject === newSubject)!;
    expect(pending).toMatchObject({ provider: 'itsme', reason: 'unknown_identity', rebindable: true });

    const reason = 'Ticket 815: itsme account re-created, identity checked at the counter';
    const response = await portalWrite(admin, bed.app, 'POST', `/api/admin/accounts/${account.id}/rebind`, {
      pendingIdentityId: pending.id,
      reason,
    });
    expect(response.status).toBe(200);
    expect(response.json()).toMatchObject({ status: 'applied', oldSubject });

    const fresh = new Browser();
    expect((await bed.login(fresh, JANSEN.id)).location).toBe(`${bed.app.baseUrl}/portal/home`);
    expect(await accountIdOf(fresh)).toBe(account.id);
    const [rebound] = (await auditEvents(bed.app.dataSource, 'identity.rebound')).slice(-1);
    expect(rebound.details).toMatchObject({ via: 'admin_rebind', provider: 'itsme', oldSubject, newSubject, reason });
  });
});
