import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PendingIdentityHousekeeping } from '../../src/linking/pending-identity-housekeeping.js';
import { Browser } from '../support/browser.js';
import {
  errorPage,
  footprint,
  IOE,
  IOE_PA,
  newIoePersona,
  RSSE,
  startDigidentityTestbed,
  type DigidentityTestbed,
  pendingPage,
} from '../support/digidentity-testbed.js';
import { auditEvents, createAccount, createAdmin, createLink, signIn } from '../support/factories.js';
import {
  agePendingIdentity,
  ageSession,
  forgetProviderSession,
  portalWrite,
  useSession,
} from '../support/link-flow.js';
import { reachProviderCallback } from '../support/web-login.js';

interface PendingView {
  id: string;
  provider: string;
  reason: string;
  canAttach: boolean;
  canCreateAccount: boolean;
}

const callbackOf = (bed: DigidentityTestbed) => `${bed.app.baseUrl}/auth/digidentity/callback`;

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

  it('attaches it after the browser signs in with a method already linked and confirms it at the provider', async () => {
    const browser = new Browser();
    expect((await bed.webLogin(browser, IOE.id)).location).toEqual(pendingPage(bed));
    const pending = (await pendingOf(bed, browser)).json<PendingView>();
    expect(pending).toMatchObject({
      provider: 'digidentity',
      reason: 'unknown_identity',
      canAttach: true,
      canCreateAccount: false,
    });

    const { account } = await signInElsewhere(bed, browser);
    await agePendingIdentity(bed.app, pending.id);
    const attach = await portalWrite(browser, bed.app, 'POST', '/api/pending-identity/attach', {
      pendingIdentityId: pending.id,
      returnTo: '/settings/logins',
    });
    expect(attach.status).toBe(200);
    // The identity was left before this account signed in here: it must be proven again, in this browser.
    const { status, redirectUrl } = attach.json<{ status: string; redirectUrl: string }>();
    expect(status).toBe('confirm_with_provider');
    expect(new URL(redirectUrl).searchParams.get('max_age')).toBe('0');
    const callback = await browser.request(await reachProviderCallback(browser, redirectUrl, IOE.id, callbackOf(bed)));
    expect(callback.location).toBe(`${bed.app.baseUrl}/settings/logins`);

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

  it('attaches at once an identity produced while this browser was signed in to the account', async () => {
    const persona = newIoePersona(bed.sandbox, 'attach-direct-0001', 'NL/EXAMPLECAB/6161616161B');
    const browser = new Browser();
    const { account } = await signInElsewhere(bed, browser);
    expect((await bed.webLogin(browser, persona.id)).location).toEqual(pendingPage(bed));
    // The attempt did not end the session the browser had.
    expect((await browser.request(`${bed.app.baseUrl}/api/me`)).status).toBe(200);
    const pending = (await pendingOf(bed, browser)).json<PendingView>();
    const attach = await portalWrite(browser, bed.app, 'POST', '/api/pending-identity/attach', {
      pendingIdentityId: pending.id,
    });
    expect(attach.json()).toMatchObject({ status: 'attached', replaced: false, signedOut: false });
    const links = await bed.app.dataSource.query(
      `SELECT provider, subject FROM identity_links WHERE account_id = $1 ORDER BY provider`,
      [account.id],
    );
    expect(links).toEqual([
      { provider: 'digidentity', subject: persona.id },
      expect.objectContaining({ provider: 'signicat-idin' }),
    ]);
  });

  it('asks for a confirmation at the provider when another session of the same account attaches it', async () => {
    const persona = {
      ...IOE,
      id: 'attach-other-session-0001',
      claims: { ...IOE.claims, ioeuid: 'NL/EXAMPLECAB/6666666666B' },
    };
    bed.sandbox.personas.push(persona);
    const browser = new Browser();
    const { account } = await signInElsewhere(bed, browser);
    await bed.webLogin(browser, persona.id);
    const pending = (await pendingOf(bed, browser)).json<PendingView>();
    // Someone signs in to the same account again in this browser: a new session, not the one that was there.
    useSession(browser, bed.app, await signIn(bed.app, account));
    const attach = await portalWrite(browser, bed.app, 'POST', '/api/pending-identity/attach', {
      pendingIdentityId: pending.id,
    });
    expect(attach.json()).toMatchObject({ status: 'confirm_with_provider' });
  });

  it('does not hand an identity left behind on a shared browser to the next person who signs in', async () => {
    const stranger = { ...IOE, id: 'shared-pc-0001', claims: { ...IOE.claims, ioeuid: 'NL/EXAMPLECAB/6262626262B' } };
    bed.sandbox.personas.push(stranger);
    const browser = new Browser();
    await bed.webLogin(browser, stranger.id);
    const pending = (await pendingOf(bed, browser)).json<PendingView>();

    // Someone else sits down, signs in with their own account and is offered the identity.
    const { account } = await signInElsewhere(bed, browser);
    const attach = await portalWrite(browser, bed.app, 'POST', '/api/pending-identity/attach', {
      pendingIdentityId: pending.id,
    });
    const { redirectUrl } = attach.json<{ status: string; redirectUrl: string }>();
    // They cannot prove the stranger's identity: signing in as themselves does not attach it.
    forgetProviderSession(browser, bed.sandbox.issuer);
    const callback = await browser.request(await reachProviderCallback(browser, redirectUrl, RSSE.id, callbackOf(bed)));
    expect(callback.location).toBe(errorPage(bed, 'link_identity_mismatch'));
    const links = await bed.app.dataSource.query(`SELECT provider FROM identity_links WHERE account_id = $1`, [
      account.id,
    ]);
    expect(links).toEqual([{ provider: 'signicat-idin' }]);
    const [still] = await bed.app.dataSource.query(`SELECT resolved_at FROM pending_identities WHERE id = $1`, [
      pending.id,
    ]);
    expect(still.resolved_at).toBeNull();
  });

  it("does not count the provider session left over from the stranger's login as proof of the identity", async () => {
    const stranger = {
      ...IOE,
      id: 'shared-pc-sso-0001',
      claims: { ...IOE.claims, ioeuid: 'NL/EXAMPLECAB/6565656565B' },
    };
    bed.sandbox.personas.push(stranger);
    const browser = new Browser();
    await bed.webLogin(browser, stranger.id);
    const pending = (await pendingOf(bed, browser)).json<PendingView>();
    // The next person is quick: the stranger's sign-in is under a second old, which the durations allow.
    const { account } = await signInElsewhere(bed, browser);
    const { redirectUrl } = (
      await portalWrite(browser, bed.app, 'POST', '/api/pending-identity/attach', { pendingIdentityId: pending.id })
    ).json<{ redirectUrl: string }>();
    // Whoever sits at the browser strips the demand for a new sign-in: the provider reuses the stranger's session.
    const tampered = new URL(redirectUrl);
    tampered.searchParams.delete('prompt');
    tampered.searchParams.set('max_age', '3600');
    const callback = await browser.request(
      await reachProviderCallback(browser, tampered.href, stranger.id, callbackOf(bed)),
    );
    expect(callback.location).toBe(errorPage(bed, 'link_identity_mismatch'));
    const links = await bed.app.dataSource.query(`SELECT provider FROM identity_links WHERE account_id = $1`, [
      account.id,
    ]);
    expect(links).toEqual([{ provider: 'signicat-idin' }]);
  });

  it("attaches it with a new sign-in whatever the database's clock says against the provider's", async () => {
    const persona = { ...IOE, id: 'attach-clock-0001', claims: { ...IOE.claims, ioeuid: 'NL/EXAMPLECAB/6767676767B' } };
    bed.sandbox.personas.push(persona);
    const browser = new Browser();
    await bed.webLogin(browser, persona.id);
    const pending = (await pendingOf(bed, browser)).json<PendingView>();
    // The database's clock runs half a minute ahead of the provider's: it noted the held login "after" the new sign-in.
    await agePendingIdentity(bed.app, pending.id);
    await bed.app.dataSource.query(
      `UPDATE pending_identities SET last_seen_at = last_seen_at + interval '30 seconds' WHERE id = $1`,
      [pending.id],
    );
    const { account } = await signInElsewhere(bed, browser);
    const { redirectUrl } = (
      await portalWrite(browser, bed.app, 'POST', '/api/pending-identity/attach', { pendingIdentityId: pending.id })
    ).json<{ redirectUrl: string }>();
    const callback = await browser.request(
      await reachProviderCallback(browser, redirectUrl, persona.id, callbackOf(bed)),
    );
    expect(callback.location).toBe(`${bed.app.baseUrl}/account`);
    const links = await bed.app.dataSource.query(
      `SELECT provider FROM identity_links WHERE account_id = $1 ORDER BY provider`,
      [account.id],
    );
    expect(links).toEqual([{ provider: 'digidentity' }, { provider: 'signicat-idin' }]);
  });

  it('forgets the identities a browser left pending when that browser signs out', async () => {
    const persona = { ...IOE, id: 'signout-0001', claims: { ...IOE.claims, ioeuid: 'NL/EXAMPLECAB/6363636363B' } };
    bed.sandbox.personas.push(persona);
    const browser = new Browser();
    await signInElsewhere(bed, browser);
    await bed.webLogin(browser, persona.id);
    expect((await pendingOf(bed, browser)).status).toBe(200);
    await portalWrite(browser, bed.app, 'POST', '/auth/logout');
    expect((await pendingOf(bed, browser)).status).toBe(404);
  });

  it('forgets them too when the browser ends its own session from the session list', async () => {
    const persona = { ...IOE, id: 'signout-0002', claims: { ...IOE.claims, ioeuid: 'NL/EXAMPLECAB/6363636364B' } };
    bed.sandbox.personas.push(persona);
    const browser = new Browser();
    await signInElsewhere(bed, browser);
    await bed.webLogin(browser, persona.id);
    expect((await pendingOf(bed, browser)).status).toBe(200);
    const current = (await browser.request(`${bed.app.baseUrl}/api/me`)).json<{ session: { id: string } }>().session.id;
    const ended = await portalWrite(browser, bed.app, 'DELETE', `/api/me/sessions/${current}`);
    expect(ended.json()).toMatchObject({ revokedSessionId: current, signedOut: true });
    expect((await pendingOf(bed, browser)).status).toBe(404);
  });

  it('asks for proof when the session that would attach it began after the login was started (the next person)', async () => {
    const stranger = { ...IOE, id: 'shared-pc-0001', claims: { ...IOE.claims, ioeuid: 'NL/EXAMPLECAB/6464646464B' } };
    bed.sandbox.personas.push(stranger);
    const shared = new Browser();
    // The stranger starts a login at a shared PC; its callback arrives only later (a held tab, an app confirmation).
    const callback = await bed.startWebLogin(shared, stranger.id);
    await signInElsewhere(bed, shared);
    expect((await shared.request(callback)).location).toEqual(pendingPage(bed));
    const pending = (await pendingOf(bed, shared)).json<PendingView>();
    const attach = await portalWrite(shared, bed.app, 'POST', '/api/pending-identity/attach', {
      pendingIdentityId: pending.id,
    });
    expect(attach.json<{ status: string }>().status).toBe('confirm_with_provider');
  });

  it('refuses, on the record, to attach another account’s probable re-created identity', async () => {
    const person = { ...IOE, id: 'recreated-0001', claims: { ...IOE.claims, ioeuid: 'NL/EXAMPLECAB/6565656565B' } };
    bed.sandbox.personas.push(person);
    const owner = await createAccount(bed.app.dataSource);
    const old = await createLink(bed.app.dataSource, owner.id, {
      provider: 'digidentity',
      subject: 'old-recreated-0001',
    });
    await bed.app.dataSource.query(`UPDATE identity_links SET person_key = '6565656565B' WHERE id = $1`, [old.id]);
    const shared = new Browser();
    expect((await bed.webLogin(shared, person.id)).location).toEqual(pendingPage(bed));
    const pending = (await pendingOf(bed, shared)).json<PendingView>();
    expect(pending.reason).toBe('probable_recreated_identity');
    const { account: intruder } = await signInElsewhere(bed, shared);
    const attach = await portalWrite(shared, bed.app, 'POST', '/api/pending-identity/attach', {
      pendingIdentityId: pending.id,
    });
    expect([attach.status, attach.json().code]).toEqual([403, 'identity_review_required']);
    const [refused] = (await auditEvents(bed.app.dataSource, 'identity.link_refused')).slice(-1);
    expect(refused).toMatchObject({
      actor_account_id: intruder.id,
      details: { code: 'identity_review_required', pendingIdentityId: pending.id, suspectedAccountId: owner.id },
    });
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

    // Nor does the pending page's one click start a login for it from another browser.
    const logins = async () =>
      (await bed.app.dataSource.query(`SELECT count(*)::int AS n FROM login_transactions`))[0].n as number;
    const before = await logins();
    const oneClick = await new Browser().request(`${bed.app.baseUrl}/pending/sign-in`, {
      form: { provider: 'digidentity', pendingIdentityId: pending.id },
      headers: { Origin: bed.app.baseUrl },
    });
    expect([oneClick.status, oneClick.location]).toEqual([
      303,
      `${bed.app.baseUrl}/pending?error=pending_identity_not_found`,
    ]);
    expect(await logins()).toBe(before);
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

  it('keeps one open pending entry when two first logins of the same identity race', async () => {
    const persona = { ...IOE, id: 'pending-race-0001', claims: { ...IOE.claims, ioeuid: 'NL/EXAMPLECAB/6464646464B' } };
    bed.sandbox.personas.push(persona);
    const browsers = [new Browser(), new Browser(), new Browser()];
    const callbacks = await Promise.all(browsers.map((browser) => bed.startWebLogin(browser, persona.id)));
    const answers = await Promise.all(callbacks.map((url, index) => browsers[index].request(url)));
    expect(answers.map((answer) => answer.location)).toEqual(browsers.map(() => pendingPage(bed)));
    const [{ open }] = await bed.app.dataSource.query(
      `SELECT count(*)::int AS open FROM pending_identities WHERE subject = $1 AND resolved_at IS NULL`,
      [persona.id],
    );
    expect(open).toBe(1);
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

  it('offers the new account only right after the login that produced the identity', async () => {
    const persona = { ...IOE, id: 'choose-late-0001', claims: { ...IOE.claims, ioeuid: 'NL/EXAMPLECAB/6767676767B' } };
    bed.sandbox.personas.push(persona);
    const browser = new Browser();
    await bed.webLogin(browser, persona.id);
    const pending = (await pendingOf(bed, browser)).json<PendingView>();
    await agePendingIdentity(bed.app, pending.id, 11 * 60);
    const late = await browser.request(`${bed.app.baseUrl}/api/pending-identity/create-account`, {
      json: { pendingIdentityId: pending.id },
      headers: { Origin: new URL(bed.app.baseUrl).origin },
    });
    expect([late.status, late.json().code]).toEqual([410, 'pending_identity_expired']);
    const [{ accounts }] = await bed.app.dataSource.query(
      `SELECT count(*)::int AS accounts FROM identity_links WHERE subject = $1`,
      [persona.id],
    );
    expect(accounts).toBe(0);
  });

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
      session: { authenticatedAt: string };
    }>();
    expect(me.account.id).toBe(accountId);
    expect(me.links.map((link) => link.provider)).toEqual(['digidentity']);
    // As fresh as the provider's auth_time of the login that held the identity (whole seconds), not our clock.
    const [held] = await bed.app.dataSource.query(`SELECT authenticated_at FROM pending_identities WHERE id = $1`, [
      pending.id,
    ]);
    expect(me.session.authenticatedAt).toBe((held.authenticated_at as Date).toISOString());
    expect(me.session.authenticatedAt).toMatch(/:\d\d\.000Z$/);
    // Not recent, though the sign-in was moments ago: whoever clicked "create" need not be who signed in (a shared PC).
    expect((await browser.request(`${bed.app.baseUrl}/api/me/links`)).json()).toMatchObject({
      recentAuthenticationUntil: null,
    });
    const [provisioned] = (await auditEvents(bed.app.dataSource, 'account.provisioned')).slice(-1);
    expect(provisioned.details).toMatchObject({ pendingIdentityId: pending.id });

    // The held Trust Centre sign-in opened no session, so it is no SERMI login: the session made from it carries no
    // SERMI authorisation, and a security item needs a new Trust Centre sign-in (docs/sermi.md#what-is-logged).
    await bed.app.dataSource.query(
      `INSERT INTO rmi_items (code, title, security_related) VALUES ('IMMO_KEY_PROGRAMMING', 'Key programming', true)
       ON CONFLICT DO NOTHING`,
    );
    const security = await portalWrite(browser, bed.app, 'POST', '/api/sermi/access', {
      vin: 'WVWZZZ1JZXW000001',
      item: 'IMMO_KEY_PROGRAMMING',
    });
    expect(security.json()).toMatchObject({ decision: 'denied', reason: 'sermi_login_required' });
    const logged = await bed.app.dataSource.query(
      `SELECT kind, decision FROM sermi_access_log WHERE account_id = $1 ORDER BY recorded_at`,
      [accountId],
    );
    expect(logged).toEqual([{ kind: 'access', decision: 'denied' }]);

    // Now signed in: a further attempt needs the session's CSRF token like any other write.
    const withoutToken = await browser.request(`${bed.app.baseUrl}/api/pending-identity/create-account`, {
      json: { pendingIdentityId: pending.id },
      headers: { Origin: new URL(bed.app.baseUrl).origin },
    });
    expect([withoutToken.status, withoutToken.json().code]).toEqual([403, 'csrf_check_failed']);
    // Used once: a second attempt finds it resolved.
    const again = await portalWrite(browser, bed.app, 'POST', '/api/pending-identity/create-account', {
      pendingIdentityId: pending.id,
    });
    expect([again.status, again.json().code]).toEqual([409, 'pending_identity_resolved']);
  });
});
