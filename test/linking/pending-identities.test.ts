import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PendingIdentityHousekeeping } from '../../src/linking/pending-identity-housekeeping.js';
import { Browser } from '../support/browser.js';
import {
  errorPage,
  footprint,
  IOE,
  IOE_PA,
  RSSE,
  startDigidentityTestbed,
  type DigidentityTestbed,
} from '../support/digidentity-testbed.js';
import { auditEvents, createAccount, createAdmin, createLink, signIn } from '../support/factories.js';
import { ageSession, portalWrite, useSession } from '../support/link-flow.js';

interface PendingView {
  id: string;
  provider: string;
  reason: string;
  canAttach: boolean;
  canCreateAccount: boolean;
}

const pendingOf = (bed: DigidentityTestbed, browser: Browser) =>
  browser.request(`${bed.app.baseUrl}/api/pending-identity`);

/** An account that signs in with iDIN only; its session (just signed in) goes into `browser`. */
async function signInElsewhere(bed: DigidentityTestbed, browser: Browser) {
  const account = await createAccount(bed.app.dataSource);
  const link = await createLink(bed.app.dataSource, account.id, {
    provider: 'signicat-idin',
    issuer: 'https://idin.example/auth/open',
  });
  const session = await signIn(bed.app, account, link);
  useSession(browser, bed.app, session);
  return { account, session };
}

describe('pending identities, provider policy pending', () => {
  let bed: DigidentityTestbed;

  beforeAll(async () => {
    bed = await startDigidentityTestbed({ env: { DIGIDENTITY_UNKNOWN_IDENTITY_POLICY: 'pending' } });
  });
  afterAll(async () => bed.close());

  it('lets the same browser attach the identity after signing in with a method already linked', async () => {
    const browser = new Browser();
    expect((await bed.webLogin(browser, IOE.id)).location).toBe(errorPage(bed, 'identity_pending'));
    const pending = (await pendingOf(bed, browser)).json<PendingView>();
    expect(pending).toMatchObject({
      provider: 'digidentity',
      reason: 'unknown_identity',
      canAttach: true,
      canCreateAccount: false,
    });

    const { account } = await signInElsewhere(bed, browser);
    const attached = await portalWrite(browser, bed.app, 'POST', '/api/pending-identity/attach', {
      pendingIdentityId: pending.id,
    });
    expect(attached.status).toBe(200);
    expect(attached.json()).toMatchObject({ replaced: false });
    const [row] = await bed.app.dataSource.query(
      `SELECT resolution, resolved_account_id FROM pending_identities WHERE id = $1`,
      [pending.id],
    );
    expect(row).toEqual({ resolution: 'attached', resolved_account_id: account.id });
    const [linked] = (await auditEvents(bed.app.dataSource, 'identity.linked')).slice(-1);
    expect(linked.details).toMatchObject({ via: 'pending_attach', pendingIdentityId: pending.id });

    // From now on the identity signs in to that account, in any browser.
    const later = new Browser();
    await bed.webLogin(later, IOE.id);
    const me = (await later.request(`${bed.app.baseUrl}/api/me`)).json<{ account: { id: string } }>();
    expect(me.account.id).toBe(account.id);
    // And it is no longer waiting.
    expect((await pendingOf(bed, browser)).status).toBe(404);
  });

  it('shows and attaches a pending identity only in the browser that produced it', async () => {
    const producer = new Browser();
    await bed.webLogin(producer, IOE_PA.id);
    const pending = (await pendingOf(bed, producer)).json<PendingView>();
    const other = new Browser();
    expect((await pendingOf(bed, other)).json()).toMatchObject({ code: 'pending_identity_not_found' });
    await signInElsewhere(bed, other);
    const refused = await portalWrite(other, bed.app, 'POST', '/api/pending-identity/attach', {
      pendingIdentityId: pending.id,
    });
    expect([refused.status, refused.json().code]).toEqual([404, 'pending_identity_not_found']);
  });

  it('needs a recent login to attach, and refuses once the self-service window has passed', async () => {
    const browser = new Browser();
    await bed.webLogin(browser, RSSE.id);
    const pending = (await pendingOf(bed, browser)).json<PendingView>();
    const { session, account } = await signInElsewhere(bed, browser);
    await ageSession(bed.app, session.sessionId, 3600);
    const stale = await portalWrite(browser, bed.app, 'POST', '/api/pending-identity/attach', {
      pendingIdentityId: pending.id,
    });
    expect([stale.status, stale.json().code]).toEqual([403, 'reauthentication_required']);

    await ageSession(bed.app, session.sessionId, 0);
    await bed.app.dataSource.query(
      `UPDATE pending_identities SET last_seen_at = now() - interval '2 hours' WHERE id = $1`,
      [pending.id],
    );
    const late = await portalWrite(browser, bed.app, 'POST', '/api/pending-identity/attach', {
      pendingIdentityId: pending.id,
    });
    expect([late.status, late.json().code]).toEqual([410, 'pending_identity_expired']);
    const links = await bed.app.dataSource.query(`SELECT provider FROM identity_links WHERE account_id = $1`, [
      account.id,
    ]);
    expect(links).toEqual([{ provider: 'signicat-idin' }]);
  });

  it('refuses to create an account from it (policy pending) and creates nothing', async () => {
    const browser = new Browser();
    const persona = {
      ...IOE,
      id: 'pending-no-create-0001',
      claims: { ...IOE.claims, ioeuid: 'NL/EXAMPLECAB/1212121212B' },
    };
    bed.sandbox.personas.push(persona);
    await bed.webLogin(browser, persona.id);
    const pending = (await pendingOf(bed, browser)).json<PendingView>();
    const before = await footprint(bed);
    const response = await browser.request(`${bed.app.baseUrl}/api/pending-identity/create-account`, {
      json: { pendingIdentityId: pending.id },
      headers: { Origin: new URL(bed.app.baseUrl).origin },
    });
    expect([response.status, response.json().code]).toEqual([403, 'account_creation_not_allowed']);
    expect(await footprint(bed)).toEqual(before);
  });

  it('lets an admin bind an unknown identity to an account without that provider (the link is added)', async () => {
    const browser = new Browser();
    const persona = { ...IOE, id: 'admin-adds-0001', claims: { ...IOE.claims, ioeuid: 'NL/EXAMPLECAB/3434343434B' } };
    bed.sandbox.personas.push(persona);
    await bed.webLogin(browser, persona.id);
    const pending = (await pendingOf(bed, browser)).json<PendingView>();
    const { account } = await signInElsewhere(bed, new Browser());
    const admin = await createAdmin(bed.app, 'Desk');
    const adminBrowser = new Browser();
    useSession(adminBrowser, bed.app, admin.session);
    const response = await portalWrite(adminBrowser, bed.app, 'POST', `/api/admin/accounts/${account.id}/rebind`, {
      pendingIdentityId: pending.id,
      reason: 'Ticket 12: workshop owner asked to add Digidentity',
    });
    expect(response.status).toBe(200);
    expect(response.json()).toMatchObject({ status: 'applied', oldSubject: null, revokedSessions: 0 });
    const later = new Browser();
    await bed.webLogin(later, persona.id);
    expect((await later.request(`${bed.app.baseUrl}/api/me`)).json<{ account: { id: string } }>().account.id).toBe(
      account.id,
    );
    const [rebound] = (await auditEvents(bed.app.dataSource, 'identity.rebound')).slice(-1);
    expect(rebound.details).toMatchObject({ oldSubject: null, newSubject: persona.id });
  });

  it('marks expired pending identities and drops the raw claims of every closed one', async () => {
    const browser = new Browser();
    const persona = { ...IOE, id: 'housekeeping-0001', claims: { ...IOE.claims, ioeuid: 'NL/EXAMPLECAB/5757575757B' } };
    bed.sandbox.personas.push(persona);
    await bed.webLogin(browser, persona.id);
    const [open] = await bed.app.dataSource.query(`SELECT id, raw_claims FROM pending_identities WHERE subject = $1`, [
      persona.id,
    ]);
    expect(open.raw_claims).toMatchObject({ sub: persona.id, ioeuid: persona.claims.ioeuid });
    await bed.app.dataSource.query(`UPDATE pending_identities SET expires_at = now() WHERE id = $1`, [open.id]);

    await bed.app.app.get(PendingIdentityHousekeeping).run();
    const [closed] = await bed.app.dataSource.query(
      `SELECT resolution, raw_claims, attributes FROM pending_identities WHERE id = $1`,
      [open.id],
    );
    expect(closed).toMatchObject({ resolution: 'expired', raw_claims: {} });
    const [{ leftover }] = await bed.app.dataSource.query(
      `SELECT count(*)::int AS leftover FROM pending_identities WHERE resolved_at IS NOT NULL AND raw_claims <> '{}'::jsonb`,
    );
    expect(leftover).toBe(0);
  });

  it('validates the body: a garbage id is a 400, unknown fields are refused', async () => {
    const browser = new Browser();
    await signInElsewhere(bed, browser);
    const garbage = await portalWrite(browser, bed.app, 'POST', '/api/pending-identity/attach', {
      pendingIdentityId: 'not-a-uuid',
    });
    expect([garbage.status, garbage.json().code]).toEqual([400, 'validation_failed']);
    const extra = await portalWrite(browser, bed.app, 'POST', '/api/pending-identity/attach', {
      pendingIdentityId: '00000000-0000-4000-8000-000000000000',
      subject: 'typed-in-by-hand',
    });
    expect([extra.status, extra.json().code]).toEqual([400, 'validation_failed']);
  });
});

describe('pending identities, provider policy choose', () => {
  let bed: DigidentityTestbed;

  beforeAll(async () => {
    bed = await startDigidentityTestbed({ env: { DIGIDENTITY_UNKNOWN_IDENTITY_POLICY: 'choose' } });
  });
  afterAll(async () => bed.close());

  it('lets the browser create a new account from the identity and signs it in', async () => {
    const browser = new Browser();
    await bed.webLogin(browser, IOE.id);
    const pending = (await pendingOf(bed, browser)).json<PendingView>();
    expect(pending.canCreateAccount).toBe(true);

    const crossSite = await browser.request(`${bed.app.baseUrl}/api/pending-identity/create-account`, {
      json: { pendingIdentityId: pending.id },
      headers: { Origin: 'https://evil.example' },
    });
    expect(crossSite.status).toBe(403);

    const created = await browser.request(`${bed.app.baseUrl}/api/pending-identity/create-account`, {
      json: { pendingIdentityId: pending.id },
      headers: { Origin: new URL(bed.app.baseUrl).origin },
    });
    expect(created.status).toBe(201);
    const { accountId } = created.json<{ accountId: string }>();
    const me = (await browser.request(`${bed.app.baseUrl}/api/me`)).json<{
      account: { id: string };
      links: Array<{ provider: string }>;
    }>();
    expect(me.account.id).toBe(accountId);
    expect(me.links.map((link) => link.provider)).toEqual(['digidentity']);
    const [provisioned] = (await auditEvents(bed.app.dataSource, 'account.provisioned')).slice(-1);
    expect(provisioned.details).toMatchObject({ pendingIdentityId: pending.id });

    // Used once: a second attempt finds it resolved.
    const again = await browser.request(`${bed.app.baseUrl}/api/pending-identity/create-account`, {
      json: { pendingIdentityId: pending.id },
      headers: { Origin: new URL(bed.app.baseUrl).origin },
    });
    expect([again.status, again.json().code]).toEqual([409, 'pending_identity_resolved']);
  });
});
