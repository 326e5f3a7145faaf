import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { decodeJwt } from 'jose';
import { PERSONAS, type Persona } from '../../sandbox/digidentity/personas.js';
import { Account } from '../../src/accounts/account.entity.js';
import { SessionsService } from '../../src/sessions/sessions.service.js';
import { Browser } from '../support/browser.js';
import { IOE, IOE_PA, RSSE, startDigidentityTestbed, type DigidentityTestbed } from '../support/digidentity-testbed.js';
import { auditEvents, createAccount, createLink, signIn } from '../support/factories.js';
import { ageSession, forgetProviderSession, portalWrite, startLink, useSession } from '../support/link-flow.js';
import { confirmProviderSignOut } from '../support/providers-testbed.js';
import { reachProviderCallback } from '../support/web-login.js';

const QR_PERSON: Persona = {
  id: 'link-by-qr-0001',
  label: 'IOE linking by QR',
  description: 'links Digidentity with a passwordless login',
  claims: { ...IOE.claims, ioeuid: 'NL/EXAMPLECAB/4444444444B' },
};

describe('self-service linking (Digidentity as the provider being linked)', () => {
  let bed: DigidentityTestbed;
  let callbackPrefix: string;

  beforeAll(async () => {
    bed = await startDigidentityTestbed({ personas: [...PERSONAS, QR_PERSON] });
    callbackPrefix = `${bed.app.baseUrl}/auth/digidentity/callback`;
  });
  afterAll(async () => bed.close());

  /** An account that signs in with iDIN only, signed in (just now) in a new browser. */
  async function idinOnlyAccount() {
    const account = await createAccount(bed.app.dataSource);
    const link = await createLink(bed.app.dataSource, account.id, {
      provider: 'signicat-idin',
      issuer: 'https://idin.example/auth/open',
    });
    const session = await signIn(bed.app, account, link);
    const browser = new Browser();
    useSession(browser, bed.app, session);
    return { account, link, session, browser };
  }

  /** An IOE persona of its own at the sandbox: its IOEUID (hence person key) is the test's alone. */
  const newIoe = (id: string, ioeuid: string): Persona => {
    const persona = { ...QR_PERSON, id, claims: { ...IOE.claims, ioeuid } };
    bed.sandbox.personas.push(persona);
    return persona;
  };
  const accountById = (id: string) => bed.app.dataSource.getRepository(Account).findOneByOrFail({ id });

  const linksOf = (accountId: string) =>
    bed.app.dataSource.query(
      `SELECT provider, subject, person_key FROM identity_links WHERE account_id = $1 ORDER BY provider`,
      [accountId],
    );

  it('lists the links with the subject shown in part and which one this session used', async () => {
    const { browser, link } = await idinOnlyAccount();
    const response = await browser.request(`${bed.app.baseUrl}/api/me/links`);
    expect(response.status).toBe(200);
    const body = response.json<{ items: Array<Record<string, unknown>>; linkableProviders: string[] }>();
    expect(body.items).toEqual([
      expect.objectContaining({
        id: link.id,
        provider: 'signicat-idin',
        subject: `${link.subject.slice(0, 4)}…${link.subject.slice(-4)}`,
        usedByThisSession: true,
      }),
    ]);
    expect(body.linkableProviders).toEqual(['digidentity']);
  });

  it('links a second provider through a fresh provider login in the same browser, in one transaction', async () => {
    const { account, browser } = await idinOnlyAccount();
    const started = await startLink(browser, bed.app, 'digidentity', { returnTo: '/settings/logins' });
    expect(started.status).toBe(201);
    const { redirectUrl } = started.json<{ mode: string; redirectUrl: string }>();
    // A link login must be a fresh authentication at the provider, never its single sign-on session.
    expect(new URL(redirectUrl).searchParams.get('prompt')).toBe('login');
    const callback = await browser.request(
      await reachProviderCallback(browser, redirectUrl, IOE_PA.id, callbackPrefix),
    );
    expect([callback.status, callback.location]).toEqual([302, `${bed.app.baseUrl}/settings/logins`]);
    expect(await linksOf(account.id)).toEqual([
      { provider: 'digidentity', subject: IOE_PA.id, person_key: '5550001111B' },
      expect.objectContaining({ provider: 'signicat-idin' }),
    ]);
    const [linked] = (await auditEvents(bed.app.dataSource, 'identity.linked')).slice(-1);
    expect(linked).toMatchObject({ actor_account_id: account.id, subject_account_id: account.id });
    expect(linked.details).toMatchObject({ provider: 'digidentity', via: 'link_login' });
    // The Trust Centre sign-in that added the method is a SERMI login, recorded against the session it happened in.
    const me = (await browser.request(`${bed.app.baseUrl}/api/me`)).json<{ session: { id: string } }>();
    const sermiLogins = await bed.app.dataSource.query(
      `SELECT account_id, login_method, sub, ioeuid, decision FROM sermi_access_log WHERE kind = 'login' AND session_id = $1`,
      [me.session.id],
    );
    expect(sermiLogins).toEqual([
      {
        account_id: account.id,
        login_method: 'web',
        sub: IOE_PA.id,
        ioeuid: IOE_PA.claims.ioeuid,
        decision: 'granted',
      },
    ]);
    // The session stays the one the person had; the new login method now signs in to the same account.
    expect((await browser.request(`${bed.app.baseUrl}/api/me`)).json<{ account: { id: string } }>().account.id).toBe(
      account.id,
    );
    const other = new Browser();
    await bed.webLogin(other, IOE_PA.id);
    expect((await other.request(`${bed.app.baseUrl}/api/me`)).json<{ account: { id: string } }>().account.id).toBe(
      account.id,
    );
  });

  it('refuses to start a link without a recent login and says where to re-authenticate', async () => {
    const { browser, session, account } = await idinOnlyAccount();
    await ageSession(bed.app, session.sessionId, 11 * 60);
    const response = await startLink(browser, bed.app, 'digidentity', { returnTo: '/settings' });
    expect(response.status).toBe(403);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    const problem = response.json<{ code: string; reauthenticateUrl: string }>();
    expect(problem.code).toBe('reauthentication_required');
    expect(problem.reauthenticateUrl).toBe(`${bed.app.baseUrl}/auth/reauthenticate?returnTo=%2Fsettings`);
    expect(await linksOf(account.id)).toHaveLength(1);
  });

  it('refuses a link callback delivered in another browser, and a replayed one', async () => {
    const { account, browser } = await idinOnlyAccount();
    const { redirectUrl } = (await startLink(browser, bed.app, 'digidentity')).json<{ redirectUrl: string }>();
    const callbackUrl = await reachProviderCallback(browser, redirectUrl, RSSE.id, callbackPrefix);

    const elsewhere = new Browser();
    const stolen = await elsewhere.request(callbackUrl);
    expect(stolen.location).toBe(`${bed.app.baseUrl}/auth/login-error?code=login_wrong_browser`);
    // The transaction was consumed by the refused delivery: the same callback cannot be used again anywhere.
    const replay = await browser.request(callbackUrl);
    expect(replay.location).toBe(`${bed.app.baseUrl}/auth/login-error?code=login_replayed`);
    expect(await linksOf(account.id)).toHaveLength(1);
  });

  it('refuses an identity that is already linked to another account and moves nothing', async () => {
    const owner = new Browser();
    await bed.webLogin(owner, IOE.id);
    const ownerAccount = (await owner.request(`${bed.app.baseUrl}/api/me`)).json<{ account: { id: string } }>().account
      .id;
    const { account, browser } = await idinOnlyAccount();
    const { redirectUrl } = (await startLink(browser, bed.app, 'digidentity')).json<{ redirectUrl: string }>();
    const callback = await browser.request(await reachProviderCallback(browser, redirectUrl, IOE.id, callbackPrefix));
    expect(callback.location).toBe(`${bed.app.baseUrl}/auth/login-error?code=identity_already_linked`);
    expect(await linksOf(account.id)).toHaveLength(1);
    expect(await linksOf(ownerAccount)).toEqual([expect.objectContaining({ subject: IOE.id })]);
    const [refused] = (await auditEvents(bed.app.dataSource, 'identity.link_refused')).slice(-1);
    expect(refused.subject_account_id).toBe(account.id);
    expect(refused.details).toMatchObject({ code: 'identity_already_linked', heldByAccountId: ownerAccount });
  });

  it('refuses a link callback once the session that started it has ended, or after signing out', async () => {
    const { account, browser, session } = await idinOnlyAccount();
    const { redirectUrl } = (await startLink(browser, bed.app, 'digidentity')).json<{ redirectUrl: string }>();
    const callbackUrl = await reachProviderCallback(browser, redirectUrl, RSSE.id, callbackPrefix);
    await bed.app.dataSource.query(`UPDATE sessions SET revoked_at = now(), revoke_reason = 'test' WHERE id = $1`, [
      session.sessionId,
    ]);
    const callback = await browser.request(callbackUrl);
    expect(callback.location).toBe(`${bed.app.baseUrl}/auth/login-error?code=link_account_mismatch`);

    // Signing out also forgets the browser binding: a link started before cannot finish afterwards.
    const second = await idinOnlyAccount();
    const started = (await startLink(second.browser, bed.app, 'digidentity')).json<{ redirectUrl: string }>();
    const secondCallback = await reachProviderCallback(second.browser, started.redirectUrl, RSSE.id, callbackPrefix);
    await portalWrite(second.browser, bed.app, 'POST', '/auth/logout');
    expect((await second.browser.request(secondCallback)).location).toBe(
      `${bed.app.baseUrl}/auth/login-error?code=login_wrong_browser`,
    );
    expect(await linksOf(account.id)).toHaveLength(1);
    expect(await linksOf(second.account.id)).toHaveLength(1);
  });

  it('refuses to link a provider the account already has, unless asked to replace it', async () => {
    const browser = new Browser();
    await bed.webLogin(browser, RSSE.id);
    const me = (await browser.request(`${bed.app.baseUrl}/api/me`)).json<{
      account: { id: string };
      session: { id: string };
    }>();
    const response = await startLink(browser, bed.app, 'digidentity');
    expect([response.status, response.json().code]).toEqual([409, 'provider_already_linked']);
    const [refused] = (await auditEvents(bed.app.dataSource, 'identity.link_refused')).slice(-1);
    expect(refused).toMatchObject({
      actor_account_id: me.account.id,
      subject_account_id: me.account.id,
      details: {
        via: 'link_start',
        provider: 'digidentity',
        code: 'provider_already_linked',
        sessionId: me.session.id,
        mode: 'redirect',
      },
    });
    // A refused start is not a started link.
    const started = (await auditEvents(bed.app.dataSource, 'identity.link_started')).filter(
      (event) => event.subject_account_id === me.account.id,
    );
    expect(started).toEqual([]);
    const unknown = await startLink(browser, bed.app, 'itsme');
    expect([unknown.status, unknown.json().code]).toEqual([404, 'provider_not_enabled']);
    const invalid = await startLink(browser, bed.app, 'facebook');
    expect([invalid.status, invalid.json().code]).toEqual([400, 'validation_failed']);
  });

  it('starts a passwordless (QR) link whose poll completes the link', async () => {
    const { account, browser } = await idinOnlyAccount();
    const started = await startLink(browser, bed.app, 'digidentity', { mode: 'passwordless' });
    expect(started.status).toBe(201);
    const { passwordless } = started.json<{ passwordless: { id: string; qrCodeUri: string; pollUrl: string } }>();
    expect(passwordless.pollUrl).toBe(`/auth/digidentity/passwordless/${passwordless.id}`);
    const scanId = passwordless.qrCodeUri.split('/').pop()!;
    expect(await bed.sandbox.confirmPasswordless(scanId, QR_PERSON.id)).toBe(true);
    const poll = await browser.request(`${bed.app.baseUrl}${passwordless.pollUrl}`);
    expect(poll.json()).toEqual({ status: 'complete', returnTo: `${bed.app.baseUrl}/account` });
    expect(await linksOf(account.id)).toEqual([
      expect.objectContaining({ provider: 'digidentity', subject: QR_PERSON.id }),
      expect.objectContaining({ provider: 'signicat-idin' }),
    ]);
  });

  it('refuses a link login the provider did not authenticate afresh (prompt and max_age stripped)', async () => {
    const { account, browser } = await idinOnlyAccount();
    // The browser still has a session at the provider from an earlier login.
    await bed.webLogin(new Browser(), RSSE.id);
    await reachProviderCallback(browser, `${bed.app.baseUrl}/auth/digidentity/login`, RSSE.id, callbackPrefix);
    const { redirectUrl } = (await startLink(browser, bed.app, 'digidentity')).json<{ redirectUrl: string }>();
    const stripped = new URL(redirectUrl);
    stripped.searchParams.delete('prompt');
    stripped.searchParams.delete('max_age');
    const callback = await browser.request(
      await reachProviderCallback(browser, stripped.href, RSSE.id, callbackPrefix),
    );
    expect(callback.location).toBe(`${bed.app.baseUrl}/auth/login-error?code=authentication_not_fresh`);
    expect(await linksOf(account.id)).toHaveLength(1);
  });

  it('replaces its own link after the person re-created their provider account (replaceExisting)', async () => {
    const persona = newIoe('replace-own-0001', 'NL/EXAMPLECAB/7272727272B');
    const old = new Browser();
    await bed.webLogin(old, persona.id);
    const accountId = (await old.request(`${bed.app.baseUrl}/api/me`)).json<{ account: { id: string } }>().account.id;
    const account = await accountById(accountId);
    const idin = await createLink(bed.app.dataSource, accountId, { provider: 'signicat-idin' });
    const browser = new Browser();
    useSession(browser, bed.app, await signIn(bed.app, account, idin));
    const newSubject = bed.sandbox.recreateAccount(persona.id);

    const started = await startLink(browser, bed.app, 'digidentity', { replaceExisting: true, returnTo: '/settings' });
    const { redirectUrl } = started.json<{ redirectUrl: string }>();
    const callback = await browser.request(
      await reachProviderCallback(browser, redirectUrl, persona.id, callbackPrefix),
    );
    expect(callback.location).toBe(`${bed.app.baseUrl}/settings`);
    expect(await linksOf(accountId)).toEqual([
      { provider: 'digidentity', subject: newSubject, person_key: '7272727272B' },
      expect.objectContaining({ provider: 'signicat-idin' }),
    ]);
    // The session of the old subject ended; this browser's (through iDIN) did not.
    expect((await old.request(`${bed.app.baseUrl}/api/me`)).status).toBe(401);
    expect((await browser.request(`${bed.app.baseUrl}/api/me`)).status).toBe(200);
    const [rebound] = (await auditEvents(bed.app.dataSource, 'identity.rebound')).slice(-1);
    expect(rebound).toMatchObject({ actor_account_id: accountId, subject_account_id: accountId });
    expect(rebound.details).toMatchObject({ via: 'link_login', oldSubject: persona.id, newSubject });
  });

  it("signs out a browser whose own login the replaced link was, through the provider's sign-out page", async () => {
    const persona = newIoe('replace-own-0002', 'NL/EXAMPLECAB/7474747474B');
    // Signed in through the subject the person's re-created Digidentity account replaces.
    const browser = new Browser();
    await bed.webLogin(browser, persona.id);
    const newSubject = bed.sandbox.recreateAccount(persona.id);
    const started = await startLink(browser, bed.app, 'digidentity', { replaceExisting: true, returnTo: '/settings' });
    const { redirectUrl } = started.json<{ redirectUrl: string }>();
    const callback = await browser.request(
      await reachProviderCallback(browser, redirectUrl, persona.id, callbackPrefix),
    );
    // Not back to /settings, signed out: on to Digidentity's sign-out page, with the ID token of the login just made
    // (the sign-in Digidentity holds now), as every sign-out of a browser goes.
    const signOutPage = new URL(callback.location!);
    expect(signOutPage.origin).toBe(new URL(bed.sandbox.issuer).origin);
    expect(decodeJwt(signOutPage.searchParams.get('id_token_hint')!).sub).toBe(newSubject);
    expect((await browser.request(`${bed.app.baseUrl}/api/me`)).status).toBe(401);
    expect(
      (await browser.request(await confirmProviderSignOut(browser, bed.app.baseUrl, signOutPage.href))).location,
    ).toBe(`${bed.app.baseUrl}/`);
  });

  it('sends a QR link that replaced its own login on through the sign-out round too, from its poll', async () => {
    const persona = newIoe('replace-own-0003', 'NL/EXAMPLECAB/7575757575B');
    const browser = new Browser();
    await bed.webLogin(browser, persona.id);
    const newSubject = bed.sandbox.recreateAccount(persona.id);
    const started = await startLink(browser, bed.app, 'digidentity', { mode: 'passwordless', replaceExisting: true });
    const { passwordless } = started.json<{ passwordless: { qrCodeUri: string; pollUrl: string } }>();
    expect(await bed.sandbox.confirmPasswordless(passwordless.qrCodeUri.split('/').pop()!, persona.id)).toBe(true);
    const poll = (await browser.request(`${bed.app.baseUrl}${passwordless.pollUrl}`)).json<{
      status: string;
      returnTo: string;
    }>();
    // Signed out, so not to /account: to the sign-out page of Digidentity, where this browser signed in on the web.
    expect(poll.status).toBe('complete');
    expect(new URL(poll.returnTo).origin).toBe(new URL(bed.sandbox.issuer).origin);
    expect((await browser.request(`${bed.app.baseUrl}/api/me`)).status).toBe(401);
    const [link] = await bed.app.dataSource.query(`SELECT account_id FROM identity_links WHERE subject = $1`, [
      newSubject,
    ]);
    expect(await linksOf(link.account_id)).toEqual([
      { provider: 'digidentity', subject: newSubject, person_key: '7575757575B' },
    ]);
  });

  it('refuses, on the record, to replace a link with the very identity it already names', async () => {
    const persona = newIoe('replace-same-0001', 'NL/EXAMPLECAB/7373737373B');
    await bed.webLogin(new Browser(), persona.id);
    const [link] = await bed.app.dataSource.query(
      `SELECT id, account_id FROM identity_links WHERE provider = 'digidentity' AND subject = $1`,
      [persona.id],
    );
    const account = await accountById(link.account_id);
    const browser = new Browser();
    useSession(browser, bed.app, await signIn(bed.app, account));
    const { redirectUrl } = (await startLink(browser, bed.app, 'digidentity', { replaceExisting: true })).json<{
      redirectUrl: string;
    }>();
    const callback = await browser.request(
      await reachProviderCallback(browser, redirectUrl, persona.id, callbackPrefix),
    );
    expect(callback.location).toBe(`${bed.app.baseUrl}/auth/login-error?code=identity_already_linked`);
    expect(await linksOf(account.id)).toEqual([
      { provider: 'digidentity', subject: persona.id, person_key: '7373737373B' },
    ]);
    const [refused] = (await auditEvents(bed.app.dataSource, 'identity.link_refused')).slice(-1);
    expect(refused).toMatchObject({
      actor_account_id: account.id,
      subject_account_id: account.id,
      details: {
        via: 'link_login',
        code: 'identity_already_linked',
        provider: 'digidentity',
        alreadyBound: true,
        linkId: link.id,
      },
    });
  });

  describe('removing a login method', () => {
    it('refuses to remove the last one', async () => {
      const { account, browser, link } = await idinOnlyAccount();
      const response = await portalWrite(browser, bed.app, 'DELETE', `/api/me/links/${link.id}`);
      expect([response.status, response.json().code]).toEqual([409, 'last_login_method']);
      expect(await linksOf(account.id)).toHaveLength(1);
      const [refused] = (await auditEvents(bed.app.dataSource, 'identity.unlink_refused')).slice(-1);
      expect(refused.details).toMatchObject({ linkId: link.id, code: 'last_login_method' });
    });

    it('removes one and ends the sessions that were authenticated through it', async () => {
      const { account, browser, link, session } = await idinOnlyAccount();
      const other = await createLink(bed.app.dataSource, account.id, { provider: 'digidentity' });
      const otherSession = await signIn(bed.app, account, other);
      const response = await portalWrite(browser, bed.app, 'DELETE', `/api/me/links/${link.id}`);
      expect(response.status).toBe(200);
      expect(response.json()).toEqual({ removedLinkId: link.id, revokedSessions: 1, signedOut: true });
      expect((await browser.request(`${bed.app.baseUrl}/api/me`)).status).toBe(401);
      const [revoked] = await bed.app.dataSource.query(`SELECT revoke_reason FROM sessions WHERE id = $1`, [
        session.sessionId,
      ]);
      expect(revoked.revoke_reason).toBe('link_removed');
      const [kept] = await bed.app.dataSource.query(`SELECT revoked_at FROM sessions WHERE id = $1`, [
        otherSession.sessionId,
      ]);
      expect(kept.revoked_at).toBeNull();
      expect(await linksOf(account.id)).toEqual([expect.objectContaining({ provider: 'digidentity' })]);
      const [unlinked] = (await auditEvents(bed.app.dataSource, 'identity.unlinked')).slice(-1);
      expect(unlinked.details).toMatchObject({ linkId: link.id, revokedSessionIds: [session.sessionId] });
    });

    it('needs a recent login, and answers 404 for a link of another account', async () => {
      const { account, browser, session } = await idinOnlyAccount();
      const second = await createLink(bed.app.dataSource, account.id, { provider: 'digidentity' });
      const stranger = await idinOnlyAccount();
      const foreign = await portalWrite(browser, bed.app, 'DELETE', `/api/me/links/${stranger.link.id}`);
      expect([foreign.status, foreign.json().code]).toEqual([404, 'link_not_found']);
      await ageSession(bed.app, session.sessionId, 3600);
      const stale = await portalWrite(browser, bed.app, 'DELETE', `/api/me/links/${second.id}`);
      expect([stale.status, stale.json().code]).toEqual([403, 'reauthentication_required']);
      expect(await linksOf(account.id)).toHaveLength(2);
    });

    it('refuses to remove the last method this portal can sign in with, even when others of disabled providers remain', async () => {
      const { account } = await idinOnlyAccount(); // iDIN is not enabled on this testbed
      const digidentity = await createLink(bed.app.dataSource, account.id, { provider: 'digidentity' });
      const browser = new Browser();
      useSession(browser, bed.app, await signIn(bed.app, account, digidentity));
      const response = await portalWrite(browser, bed.app, 'DELETE', `/api/me/links/${digidentity.id}`);
      expect([response.status, response.json().code]).toEqual([409, 'last_login_method']);
      expect((await linksOf(account.id)).map((l: { provider: string }) => l.provider)).toEqual([
        'digidentity',
        'signicat-idin',
      ]);
    });

    it('ends a session whose login through the link commits while the link is being removed', async () => {
      const { account, link: idin } = await idinOnlyAccount();
      const digidentity = await createLink(bed.app.dataSource, account.id, { provider: 'digidentity' });
      const remover = new Browser();
      useSession(remover, bed.app, await signIn(bed.app, account, digidentity));
      // A login through the iDIN link holds its row (as the returning-login statement does) while the removal starts.
      const login = bed.app.dataSource.createQueryRunner();
      await login.connect();
      await login.startTransaction();
      try {
        await login.query(`SELECT id FROM identity_links WHERE id = $1 FOR UPDATE`, [idin.id]);
        const removal = portalWrite(remover, bed.app, 'DELETE', `/api/me/links/${idin.id}`);
        for (let i = 0; i < 200; i += 1) {
          const [{ waiting }] = await bed.app.dataSource.query(
            `SELECT count(*)::int AS waiting FROM pg_stat_activity
              WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%identity_links%'`,
          );
          if (waiting > 0) break;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        const racing = await bed.app.app.get(SessionsService).create(
          {
            accountId: account.id,
            provider: 'signicat-idin',
            identityLinkId: idin.id,
            authenticatedAt: new Date(),
            authContext: { method: 'test' },
            clientIp: '127.0.0.1',
            userAgent: 'racing login',
          },
          login.manager,
        );
        await login.commitTransaction();
        expect((await removal).status).toBe(200);
        const [row] = await bed.app.dataSource.query(`SELECT revoke_reason FROM sessions WHERE id = $1`, [
          racing.sessionId,
        ]);
        expect(row.revoke_reason).toBe('link_removed');
      } finally {
        await login.release();
      }
    });

    it('never lets two concurrent removals take both of two methods', async () => {
      const { account, link } = await idinOnlyAccount();
      const second = await createLink(bed.app.dataSource, account.id, { provider: 'digidentity' });
      // Sessions not tied to either link, so neither removal signs the other browser out.
      const [a, b] = [new Browser(), new Browser()];
      useSession(a, bed.app, await signIn(bed.app, account));
      useSession(b, bed.app, await signIn(bed.app, account));
      const answers = await Promise.all([
        portalWrite(a, bed.app, 'DELETE', `/api/me/links/${link.id}`),
        portalWrite(b, bed.app, 'DELETE', `/api/me/links/${second.id}`),
      ]);
      expect(answers.map((answer) => answer.status).sort()).toEqual([200, 409]);
      expect(await linksOf(account.id)).toHaveLength(1);
    });
  });

  describe('re-authentication', () => {
    it('signs the same account in again through a fresh provider login', async () => {
      const browser = new Browser();
      await bed.webLogin(browser, RSSE.id);
      const before = (await browser.request(`${bed.app.baseUrl}/api/me`)).json<{
        account: { id: string };
        session: { id: string };
      }>();
      const again = await browser.request(`${bed.app.baseUrl}/auth/reauthenticate?returnTo=/settings`);
      expect(new URL(again.location!).searchParams.get('prompt')).toBe('login');
      const callback = await browser.request(
        await reachProviderCallback(browser, again.location!, RSSE.id, callbackPrefix),
      );
      expect(callback.location).toBe(`${bed.app.baseUrl}/settings`);
      const after = (await browser.request(`${bed.app.baseUrl}/api/me`)).json<{
        account: { id: string };
        session: { id: string; authenticatedAt: string };
      }>();
      expect(after.account.id).toBe(before.account.id);
      expect(after.session.id).not.toBe(before.session.id);
      // The session counts from the provider's auth_time (whole seconds), not from when the callback arrived.
      expect(after.session.authenticatedAt).toMatch(/\.000Z$/);
    });

    it('refuses a re-authentication as another identity and keeps the session as it was', async () => {
      const browser = new Browser();
      await bed.webLogin(browser, RSSE.id);
      const before = (await browser.request(`${bed.app.baseUrl}/api/me`)).json<{ session: { id: string } }>();
      const again = await browser.request(`${bed.app.baseUrl}/auth/reauthenticate`);
      forgetProviderSession(browser, bed.sandbox.issuer);
      const callback = await browser.request(
        await reachProviderCallback(browser, again.location!, IOE.id, callbackPrefix),
      );
      expect(callback.location).toBe(`${bed.app.baseUrl}/auth/login-error?code=reauthentication_account_mismatch`);
      const after = (await browser.request(`${bed.app.baseUrl}/api/me`)).json<{ session: { id: string } }>();
      expect(after.session.id).toBe(before.session.id);
    });

    it('sends a browser without a session to the error page', async () => {
      const response = await new Browser().request(`${bed.app.baseUrl}/auth/reauthenticate`);
      expect(response.location).toBe(`${bed.app.baseUrl}/auth/login-error?code=unauthenticated`);
    });
  });
});
