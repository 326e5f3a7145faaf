import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { PERSONAS } from '../../sandbox/digidentity/personas.js';
import { Browser } from '../support/browser.js';
import { hold } from '../support/hostile-provider.js';
import {
  footprint,
  IOE,
  loginFailures,
  RSSE,
  startDigidentityTestbed,
  type DigidentityTestbed,
} from '../support/digidentity-testbed.js';

describe('Digidentity passwordless (QR) login', () => {
  let bed: DigidentityTestbed;

  beforeAll(async () => {
    // A poll interval no test run outlasts (tests move the last poll into the past instead: intervalPassed), and
    // provider calls that a test holds (hold()) do not time out meanwhile.
    bed = await startDigidentityTestbed({
      env: { DIGIDENTITY_PASSWORDLESS_POLL_INTERVAL_MS: '30000', OIDC_HTTP_TIMEOUT_MS: '30000' },
    });
  });
  afterEach(() => {
    bed.hostile.hostility = {};
  });
  afterAll(async () => bed.close());

  interface Started {
    id: string;
    qrCodeUri: string;
    qrCodeSvg: string;
    expiresAt: string;
    pollIntervalMs: number;
  }

  const start = async (browser: Browser, body: Record<string, unknown> = {}) => {
    const response = await browser.request(`${bed.app.baseUrl}/auth/digidentity/passwordless`, {
      json: body,
      headers: { origin: bed.app.baseUrl },
    });
    expect(response.status).toBe(201);
    return response.json<Started>();
  };
  const poll = (browser: Browser, id: string) =>
    browser.request(`${bed.app.baseUrl}/auth/digidentity/passwordless/${id}`);
  /** Moves the last poll into the past, as if the poll interval had passed (instead of sleeping). */
  const intervalPassed = (id: string) =>
    bed.app.dataSource.query(
      `UPDATE login_transactions SET provider_data = provider_data || '{"pollNotBefore": "2000-01-01T00:00:00Z"}' WHERE id = $1`,
      [id],
    );
  const scanOf = (started: Started) => new URL(started.qrCodeUri).pathname.split('/').pop()!;
  const scan = (started: Started, personaId: string) => bed.sandbox.confirmPasswordless(scanOf(started), personaId);
  const tokenCalls = () => bed.hostile.requests.filter((path) => path === '/oauth2/token').length;

  it.each([
    ['an IOE', IOE, 'IOE'],
    ['an RSSE with chain authorisation', RSSE, 'RSSE'],
  ])(
    'signs %s in after a run of login_pending, and sets the session cookie on complete',
    async (_, persona, actorType) => {
      const browser = new Browser();
      const started = await start(browser, { returnTo: '/jobs/7' });
      expect(started).toMatchObject({
        id: expect.any(String),
        pollIntervalMs: 30_000,
        qrCodeUri: expect.stringContaining(`${bed.sandbox.issuer}/passwordless/`),
      });
      expect(started.qrCodeSvg).toMatch(/^<svg[\s\S]*<\/svg>\s*$/);
      const authorisationCode = bed.sandbox.codeForScan(scanOf(started));
      expect(authorisationCode).toMatch(/^PLS-/);
      expect(JSON.stringify(started)).not.toContain(authorisationCode);

      for (let i = 0; i < 3; i += 1) {
        await intervalPassed(started.id);
        expect((await poll(browser, started.id)).json()).toEqual({ status: 'pending' });
      }
      await scan(started, persona.id);
      await intervalPassed(started.id);
      const done = await poll(browser, started.id);
      expect(done.json()).toEqual({ status: 'complete', returnTo: '/jobs/7' });
      const me = await browser.request(`${bed.app.baseUrl}/api/me`);
      const session = me.json<{ session: { authContext: Record<string, unknown>; authenticatedAt: string } }>().session;
      expect(session.authContext).toMatchObject({
        method: 'passwordless',
        sermi: { actorType, actor: { sub: persona.id } },
      });
      // The ID token carries no auth_time: the PIN was confirmed after the QR code was handed out, so the session
      // is as fresh as the start of this login — never the time the poll happened to see it.
      const [{ created_at: startedAt }] = await bed.app.dataSource.query(
        `SELECT created_at FROM login_transactions WHERE id = $1`,
        [started.id],
      );
      expect(session.authenticatedAt).toBe((startedAt as Date).toISOString());
    },
  );

  it.each([
    ['too long for a QR code', (uri: string) => `${uri}?${'a'.repeat(3000)}`],
    ['a script', () => 'javascript:alert(1)'],
    ['not a URI', () => 'not a uri'],
  ])('refuses a QR code URI that is %s as the provider’s error, and stores nothing', async (_, rewrite) => {
    bed.sandbox.qrCodeUri = rewrite;
    try {
      const [{ count: before }] = await bed.app.dataSource.query(`SELECT count(*)::int FROM login_transactions`);
      const response = await new Browser().request(`${bed.app.baseUrl}/auth/digidentity/passwordless`, {
        json: {},
        headers: { origin: bed.app.baseUrl },
      });
      expect([response.status, response.json().code]).toEqual([502, 'provider_error']);
      const [{ count: after }] = await bed.app.dataSource.query(`SELECT count(*)::int FROM login_transactions`);
      expect(after).toBe(before);
    } finally {
      bed.sandbox.qrCodeUri = (uri) => uri;
    }
  });

  it('answers polls faster than the interval from the stored state, without calling Digidentity', async () => {
    const browser = new Browser();
    const started = await start(browser);
    await intervalPassed(started.id);
    expect((await poll(browser, started.id)).json()).toEqual({ status: 'pending' });
    const calls = tokenCalls();
    for (let i = 0; i < 5; i += 1) expect((await poll(browser, started.id)).json()).toEqual({ status: 'pending' });
    expect(tokenCalls()).toBe(calls);
  });

  it('lets only one of two overlapping polls call Digidentity, while its call hangs', async () => {
    const browser = new Browser();
    const started = await start(browser);
    await scan(started, IOE.id);
    await intervalPassed(started.id);
    const tokenCall = hold();
    bed.hostile.hostility = { beforeToken: tokenCall.hook };
    const calls = tokenCalls();
    const polls = [poll(browser, started.id), poll(browser, started.id)];
    try {
      await tokenCall.reached;
      // One poll claimed the login and hangs in its token call: the other is answered from the stored state.
      expect((await Promise.race(polls)).json()).toEqual({ status: 'pending' });
      expect(tokenCalls()).toBe(calls + 1);
    } finally {
      tokenCall.release();
    }
    const answers = await Promise.all(polls);
    expect(answers.map((answer) => answer.json().status).sort()).toEqual(['complete', 'pending']);
    expect(tokenCalls()).toBe(calls + 1);
    await intervalPassed(started.id);
    expect((await poll(browser, started.id)).status).toBe(410);
  });

  it('answers pending, not expired, to a poll that arrives while a confirmed login is being completed', async () => {
    const browser = new Browser();
    const started = await start(browser, { returnTo: '/jobs/8' });
    await scan(started, IOE.id);
    await intervalPassed(started.id);
    // The completing poll is held at user-info: it has consumed the transaction and not finished yet.
    const userinfo = hold();
    bed.hostile.hostility = { beforeUserinfo: userinfo.hook };
    const completing = poll(browser, started.id);
    try {
      await userinfo.reached;
      const meanwhile = await poll(browser, started.id);
      expect([meanwhile.status, meanwhile.json()]).toEqual([200, { status: 'pending' }]);
    } finally {
      userinfo.release();
    }
    expect((await completing).json()).toEqual({ status: 'complete', returnTo: '/jobs/8' });
    expect((await browser.request(`${bed.app.baseUrl}/api/me`)).status).toBe(200);
    const after = await poll(browser, started.id);
    expect([after.status, after.json().code]).toEqual([410, 'passwordless_already_used']);
  });

  it('answers expired to a poll of a login whose completion never finished once it ran out', async () => {
    const browser = new Browser();
    const started = await start(browser);
    // As a completing instance that died would leave it: consumed, still completing.
    await bed.app.dataSource.query(
      `UPDATE login_transactions SET consumed_at = now(), provider_data = provider_data || '{"status": "completing"}'
        WHERE id = $1`,
      [started.id],
    );
    expect((await poll(browser, started.id)).json()).toEqual({ status: 'pending' });
    await bed.app.dataSource.query(
      `UPDATE login_transactions SET expires_at = now() - interval '1 second' WHERE id = $1`,
      [started.id],
    );
    expect((await poll(browser, started.id)).json()).toEqual({ status: 'expired' });
  });

  it('refuses a poll from another browser, and does not let it complete the login', async () => {
    const owner = new Browser();
    const started = await start(owner);
    await scan(started, IOE.id);
    await intervalPassed(started.id);
    const before = await footprint(bed);
    const stranger = await poll(new Browser(), started.id);
    expect([stranger.status, stranger.json().code]).toEqual([404, 'passwordless_not_found']);
    expect(await footprint(bed)).toEqual(before);
    expect((await loginFailures(bed)).at(-1)).toMatchObject({ code: 'passwordless_not_found' });
    expect((await poll(owner, started.id)).json()).toMatchObject({ status: 'complete' });
  });

  it('never lets a completed id produce a second session', async () => {
    const browser = new Browser();
    const started = await start(browser);
    await scan(started, IOE.id);
    await intervalPassed(started.id);
    expect((await poll(browser, started.id)).json()).toMatchObject({ status: 'complete' });
    const before = await footprint(bed);
    await intervalPassed(started.id);
    const again = await poll(browser, started.id);
    expect([again.status, again.json().code]).toEqual([410, 'passwordless_already_used']);
    expect(await footprint(bed)).toEqual(before);
  });

  it('reports expired when Digidentity no longer knows the QR session (session_not_found), and stays expired', async () => {
    const browser = new Browser();
    const started = await start(browser);
    bed.sandbox.expirePasswordless(scanOf(started));
    await intervalPassed(started.id);
    expect((await poll(browser, started.id)).json()).toEqual({ status: 'expired' });
    await scan(started, IOE.id);
    await intervalPassed(started.id);
    expect((await poll(browser, started.id)).json()).toEqual({ status: 'expired' });
  });

  it('reports expired when the login transaction itself ran out, without calling Digidentity', async () => {
    const browser = new Browser();
    const started = await start(browser);
    await bed.app.dataSource.query(
      `UPDATE login_transactions SET expires_at = now() - interval '1 second' WHERE id = $1`,
      [started.id],
    );
    const calls = tokenCalls();
    expect((await poll(browser, started.id)).json()).toEqual({ status: 'expired' });
    expect(tokenCalls()).toBe(calls);
  });

  it('fails with the SERMI refusal code for a broken claim set, writing nothing', async () => {
    const browser = new Browser();
    const started = await start(browser);
    await scan(started, PERSONAS.find((p) => p.id === 'broken-partial-rsse-0001')!.id);
    await intervalPassed(started.id);
    const before = await footprint(bed);
    expect((await poll(browser, started.id)).json()).toEqual({ status: 'failed', code: 'sermi_rsse_set_incomplete' });
    expect(await footprint(bed)).toEqual(before);
  });

  it('refuses an ID token that carries a nonce although none was sent', async () => {
    const browser = new Browser();
    const started = await start(browser);
    await scan(started, IOE.id);
    bed.hostile.hostility = { idToken: (claims, header) => ({ claims: { ...claims, nonce: 'injected' }, header }) };
    await intervalPassed(started.id);
    expect((await poll(browser, started.id)).json()).toEqual({ status: 'failed', code: 'id_token_invalid' });
  });

  it('refuses an ID token whose auth_time is older than the QR code: an earlier sign-in, not this one', async () => {
    const browser = new Browser();
    const started = await start(browser);
    await scan(started, IOE.id);
    const earlier = Math.floor(Date.now() / 1000) - 600;
    bed.hostile.hostility = { idToken: (claims, header) => ({ claims: { ...claims, auth_time: earlier }, header }) };
    await intervalPassed(started.id);
    const before = await footprint(bed);
    expect((await poll(browser, started.id)).json()).toEqual({ status: 'failed', code: 'authentication_not_fresh' });
    expect(await footprint(bed)).toEqual(before);
  });

  it('refuses to start from another site', async () => {
    const response = await new Browser().request(`${bed.app.baseUrl}/auth/digidentity/passwordless`, {
      json: {},
      headers: { origin: 'https://evil.example' },
    });
    expect([response.status, response.json().code]).toEqual([403, 'csrf_check_failed']);
  });

  it('answers 404 for an id that is not a login of this browser, whatever it looks like', async () => {
    for (const id of ['00000000-0000-4000-8000-000000000000', 'not-a-uuid']) {
      const response = await poll(new Browser(), id);
      expect([id, response.status, response.json().code]).toEqual([id, 404, 'passwordless_not_found']);
    }
  });
});
