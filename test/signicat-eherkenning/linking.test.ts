import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PERSONAS } from '../../sandbox/digidentity/personas.js';
import { EHERKENNING_PERSONAS } from '../../sandbox/signicat-eherkenning/personas.js';
import { Browser } from '../support/browser.js';
import { auditEvents } from '../support/factories.js';
import {
  EHERKENNING_CALLBACK,
  type EherkenningTestbed,
  startEherkenningTestbed,
} from '../support/eherkenning-testbed.js';
import { startLink } from '../support/link-flow.js';
import { errorPage, footprint, reachProviderCallback, pendingPage } from '../support/providers-testbed.js';

const [JANSEN, BAKKER] = EHERKENNING_PERSONAS;

/** eHerkenning with its default policy (pending) next to Digidentity, over real HTTP. */
describe('Signicat eHerkenning: unknown identities and linking', () => {
  let bed: EherkenningTestbed;

  beforeAll(async () => {
    bed = await startEherkenningTestbed();
  });
  afterAll(async () => bed.close());

  const accountIdOf = async (browser: Browser) =>
    (await browser.request(`${bed.app.baseUrl}/api/me`)).json<{ account: { id: string } }>().account.id;

  it('holds an unknown eHerkenning identity as pending: no account, no session, identity_pending', async () => {
    const before = await footprint(bed);
    const browser = new Browser();
    expect((await bed.eherkenningLogin(browser, BAKKER.id)).location).toEqual(pendingPage(bed));
    expect(await footprint(bed)).toEqual({ ...before, pending: before.pending + 1 });
    expect((await browser.request(`${bed.app.baseUrl}/api/me`)).status).toBe(401);
    const [pending] = await bed.app.dataSource.query(
      `SELECT provider, issuer, attributes, raw_claims FROM pending_identities WHERE subject = $1`,
      [BAKKER.id],
    );
    expect(pending).toEqual({
      provider: 'signicat-eherkenning',
      issuer: bed.eherkenning.baseUrl,
      attributes: {
        chamberOfCommerce: '87654321',
        eherkenningVestigingsNr: '000087654322',
        eherkenningPseudo: 'pseudo-bakker-87654321',
        organisationName: 'Bakker Truck Service',
      },
      raw_claims: {
        id: BAKKER.id,
        chamberOfCommerce: '87654321',
        eherkenningVestigingsNr: '000087654322',
        eherkenningPseudo: 'pseudo-bakker-87654321',
        organisationName: 'Bakker Truck Service',
      },
    });
  });

  it('links eHerkenning to an account through POST /api/me/links/signicat-eherkenning; then it signs in to it', async () => {
    const browser = new Browser();
    await bed.digidentityLogin(browser, PERSONAS[0].id);
    const accountId = await accountIdOf(browser);

    const started = await startLink(browser, bed.app, 'signicat-eherkenning', { returnTo: '/settings' });
    expect(started.status).toBe(201);
    const { redirectUrl } = started.json<{ redirectUrl: string }>();
    expect(redirectUrl.startsWith(`${bed.eherkenning.baseUrl}/authenticate/`)).toBe(true);
    const callback = await browser.request(
      await reachProviderCallback(browser, redirectUrl, JANSEN.id, `${bed.app.baseUrl}${EHERKENNING_CALLBACK}`),
    );
    expect(callback.location).toBe(`${bed.app.baseUrl}/settings`);

    const links = (await browser.request(`${bed.app.baseUrl}/api/me/links`)).json<{
      items: Array<{ provider: string; attributes: Record<string, unknown> }>;
    }>();
    expect(links.items.map((link) => link.provider).sort()).toEqual(['digidentity', 'signicat-eherkenning']);
    expect(links.items.find((link) => link.provider === 'signicat-eherkenning')!.attributes).toMatchObject({
      chamberOfCommerce: '12345678',
    });
    const [linked] = (await auditEvents(bed.app.dataSource, 'identity.linked')).slice(-1);
    expect(linked).toMatchObject({ subject_account_id: accountId });

    const viaEherkenning = new Browser();
    expect((await bed.eherkenningLogin(viaEherkenning, JANSEN.id)).location).toBe(`${bed.app.baseUrl}/portal/home`);
    expect(await accountIdOf(viaEherkenning)).toBe(accountId);
  });

  it('re-authenticates an account with eHerkenning, and refuses another organisation login for it', async () => {
    const browser = new Browser();
    await bed.eherkenningLogin(browser, JANSEN.id); // linked in the previous test
    const accountId = await accountIdOf(browser);
    const start = `${bed.app.baseUrl}/auth/reauthenticate?returnTo=/settings&provider=signicat-eherkenning`;
    const callbackPrefix = `${bed.app.baseUrl}${EHERKENNING_CALLBACK}`;
    const same = await browser.request(await reachProviderCallback(browser, start, JANSEN.id, callbackPrefix));
    expect(same.location).toBe(`${bed.app.baseUrl}/settings`);
    expect(await accountIdOf(browser)).toBe(accountId);
    const [reauthenticated] = (await auditEvents(bed.app.dataSource, 'auth.login_succeeded')).slice(-1);
    expect(reauthenticated).toMatchObject({
      subject_account_id: accountId,
      details: { provider: 'signicat-eherkenning' },
    });

    const before = await footprint(bed);
    const other = await browser.request(await reachProviderCallback(browser, start, BAKKER.id, callbackPrefix));
    expect(other.location).toBe(errorPage(bed, 'reauthentication_account_mismatch'));
    expect(await footprint(bed)).toEqual(before);
  });

  it('refuses to link an eHerkenning identity that already belongs to another account', async () => {
    const browser = new Browser();
    await bed.digidentityLogin(browser, PERSONAS[1].id);
    const { redirectUrl } = (await startLink(browser, bed.app, 'signicat-eherkenning')).json<{
      redirectUrl: string;
    }>();
    const before = await footprint(bed);
    const callback = await browser.request(
      await reachProviderCallback(browser, redirectUrl, JANSEN.id, `${bed.app.baseUrl}${EHERKENNING_CALLBACK}`),
    );
    expect(callback.location).toBe(errorPage(bed, 'identity_already_linked'));
    expect(await footprint(bed)).toEqual(before);
  });
});
