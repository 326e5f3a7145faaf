import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PERSONAS, type Persona } from '../../sandbox/digidentity/personas.js';
import { Browser } from '../support/browser.js';
import { Account } from '../../src/accounts/account.entity.js';
import { auditEvents, createLink, signIn } from '../support/factories.js';
import { agePendingIdentity, portalWrite, startLink, useSession } from '../support/link-flow.js';
import {
  IDIN_BAKKER,
  IDIN_CALLBACK,
  IDIN_VRIES,
  reachProviderCallback,
  startProvidersTestbed,
  type ProvidersTestbed,
  pendingPage,
} from '../support/providers-testbed.js';

const WORKSHOP_OWNER: Persona = {
  id: 'two-providers-owner-0001',
  label: 'Workshop owner',
  description: 'signs in with Digidentity and iDIN',
  claims: { ...PERSONAS[0].claims, ioeuid: 'NL/EXAMPLECAB/8080808080B' },
};
const MECHANIC: Persona = {
  id: 'two-providers-mechanic-0001',
  label: 'Mechanic',
  description: 'Digidentity first, iDIN later',
  claims: { ...PERSONAS[0].claims, ioeuid: 'NL/EXAMPLECAB/9090909090B' },
};
const STARTER: Persona = {
  id: 'two-providers-starter-0001',
  label: 'Starter',
  description: 'starts links',
  claims: { ...PERSONAS[0].claims, ioeuid: 'NL/EXAMPLECAB/7070707070B' },
};

/** Both sandbox providers over real HTTP; iDIN with its default policy (pending). */
describe('linking across Digidentity and iDIN', () => {
  let bed: ProvidersTestbed;

  beforeAll(async () => {
    bed = await startProvidersTestbed({ digidentityPersonas: [...PERSONAS, WORKSHOP_OWNER, MECHANIC, STARTER] });
  });
  afterAll(async () => bed.close());

  const accountIdOf = async (browser: Browser) =>
    (await browser.request(`${bed.app.baseUrl}/api/me`)).json<{ account: { id: string } }>().account.id;

  it('links iDIN to an account that signs in with Digidentity; then either provider signs in to it', async () => {
    const browser = new Browser();
    await bed.digidentityLogin(browser, WORKSHOP_OWNER.id);
    const accountId = await accountIdOf(browser);

    const started = await startLink(browser, bed.app, 'signicat-idin', { returnTo: '/settings' });
    expect(started.status).toBe(201);
    const { redirectUrl } = started.json<{ redirectUrl: string }>();
    const callback = await browser.request(
      await reachProviderCallback(browser, redirectUrl, IDIN_VRIES.id, `${bed.app.baseUrl}${IDIN_CALLBACK}`),
    );
    expect(callback.location).toBe(`${bed.app.baseUrl}/settings`);

    const links = (await browser.request(`${bed.app.baseUrl}/api/me/links`)).json<{
      items: Array<{ provider: string; attributes: Record<string, unknown> }>;
      linkableProviders: string[];
    }>();
    expect(links.items.map((link) => link.provider).sort()).toEqual(['digidentity', 'signicat-idin']);
    expect(links.items.find((link) => link.provider === 'signicat-idin')!.attributes.bin).toBe(
      IDIN_VRIES.claims.idp_id,
    );
    expect(links.linkableProviders).toEqual([]);

    const viaIdin = new Browser();
    await bed.idinLogin(viaIdin, IDIN_VRIES.id);
    expect(await accountIdOf(viaIdin)).toBe(accountId);
  });

  it('writes identity.link_started only for a start that passed validation', async () => {
    const browser = new Browser();
    await bed.digidentityLogin(browser, STARTER.id);
    const accountId = await accountIdOf(browser);
    const startedEvents = async () =>
      (await auditEvents(bed.app.dataSource, 'identity.link_started')).filter(
        (event) => event.subject_account_id === accountId,
      );
    // iDIN has no QR login: refused before anything starts.
    const refused = await startLink(browser, bed.app, 'signicat-idin', { mode: 'passwordless' });
    expect([refused.status, refused.json().code]).toEqual([400, 'validation_failed']);
    expect(await startedEvents()).toEqual([]);
    const started = await startLink(browser, bed.app, 'signicat-idin');
    expect(started.status).toBe(201);
    expect(await startedEvents()).toEqual([
      expect.objectContaining({
        actor_account_id: accountId,
        details: expect.objectContaining({ provider: 'signicat-idin', mode: 'redirect', replaceExisting: false }),
      }),
    ]);
  });

  it('attaches an iDIN identity held as pending after the same browser signs in with Digidentity', async () => {
    const existing = new Browser();
    await bed.digidentityLogin(existing, MECHANIC.id);
    const accountId = await accountIdOf(existing);

    const browser = new Browser();
    expect((await bed.idinLogin(browser, IDIN_BAKKER.id)).location).toEqual(pendingPage(bed));
    const pending = (await browser.request(`${bed.app.baseUrl}/api/pending-identity`)).json<{
      id: string;
      provider: string;
      canAttach: boolean;
    }>();
    expect(pending).toMatchObject({ provider: 'signicat-idin', canAttach: true });

    await bed.digidentityLogin(browser, MECHANIC.id);
    await agePendingIdentity(bed.app, pending.id);
    const attach = await portalWrite(browser, bed.app, 'POST', '/api/pending-identity/attach', {
      pendingIdentityId: pending.id,
    });
    const { status, redirectUrl } = attach.json<{ status: string; redirectUrl: string }>();
    expect(status).toBe('confirm_with_provider');
    const callback = await browser.request(
      await reachProviderCallback(browser, redirectUrl, IDIN_BAKKER.id, `${bed.app.baseUrl}${IDIN_CALLBACK}`),
    );
    expect(callback.location).toBe(`${bed.app.baseUrl}/account`);

    const later = new Browser();
    await bed.idinLogin(later, IDIN_BAKKER.id);
    expect(await accountIdOf(later)).toBe(accountId);
  });

  it('lets a person re-bind their own re-created Digidentity account after signing in with iDIN', async () => {
    // WORKSHOP_OWNER has Digidentity and iDIN (first test). Their Digidentity account is deleted and re-created.
    const owner = new Browser();
    await bed.idinLogin(owner, IDIN_VRIES.id);
    const accountId = await accountIdOf(owner);
    const oldSession = new Browser();
    await bed.digidentityLogin(oldSession, WORKSHOP_OWNER.id);
    const newSubject = bed.digidentity.recreateAccount(WORKSHOP_OWNER.id);

    const browser = new Browser();
    expect((await bed.digidentityLogin(browser, WORKSHOP_OWNER.id)).location).toEqual(pendingPage(bed));
    const pending = (await browser.request(`${bed.app.baseUrl}/api/pending-identity`)).json<{
      id: string;
      reason: string;
    }>();
    expect(pending.reason).toBe('probable_recreated_identity');

    await bed.idinLogin(browser, IDIN_VRIES.id);
    const attached = await portalWrite(browser, bed.app, 'POST', '/api/pending-identity/attach', {
      pendingIdentityId: pending.id,
    });
    expect(attached.json()).toMatchObject({ replaced: true });
    expect((await oldSession.request(`${bed.app.baseUrl}/api/me`)).status).toBe(401);
    const fresh = new Browser();
    await bed.digidentityLogin(fresh, WORKSHOP_OWNER.id);
    expect(await accountIdOf(fresh)).toBe(accountId);
    const [rebound] = (await auditEvents(bed.app.dataSource, 'identity.rebound')).slice(-1);
    expect(rebound).toMatchObject({ actor_account_id: accountId, subject_account_id: accountId });
    expect(rebound.details).toMatchObject({ via: 'pending_attach', oldSubject: WORKSHOP_OWNER.id, newSubject });
  });
  it('keeps logins through a link and its removal apart: no deadlock, no half-done change', async () => {
    const persona: Persona = {
      ...PERSONAS[0],
      id: 'race-unlink-0001',
      claims: { ...PERSONAS[0].claims, ioeuid: 'NL/EXAMPLECAB/7171717171B' },
    };
    bed.digidentity.personas.push(persona);
    for (let round = 0; round < 4; round += 1) {
      const owner = new Browser();
      await bed.digidentityLogin(owner, persona.id);
      const me = (await owner.request(`${bed.app.baseUrl}/api/me`)).json<{
        account: { id: string };
        links: Array<{ id: string; provider: string }>;
      }>();
      // A second method this portal signs in with, so the Digidentity one may be removed.
      await createLink(bed.app.dataSource, me.account.id, { provider: 'signicat-idin' });
      const remover = new Browser();
      const account = await bed.app.dataSource.getRepository(Account).findOneByOrFail({ id: me.account.id });
      useSession(remover, bed.app, await signIn(bed.app, account));
      const callbacks = await Promise.all(
        [0, 1].map(async () => {
          const browser = new Browser();
          return { browser, url: await bed.reachDigidentityCallback(browser, persona.id) };
        }),
      );
      const [removal, ...logins] = await Promise.all([
        portalWrite(remover, bed.app, 'DELETE', `/api/me/links/${me.links[0].id}`),
        ...callbacks.map(({ browser, url }) => browser.request(url)),
      ]);
      if (removal.status !== 200) throw new Error(removal.body);
      for (const login of logins) expect(login.status).toBe(302);
      // Whatever the order, the subject is no longer this account's; logins after the removal made a new account,
      // which the next round must not find.
      await bed.app.dataSource.query(`DELETE FROM identity_links WHERE subject = $1`, [persona.id]);
    }
    const failures = (await auditEvents(bed.app.dataSource, 'auth.login_failed')).filter(
      (event) => event.details.code === 'internal_error',
    );
    expect(failures).toEqual([]);
  });
});
