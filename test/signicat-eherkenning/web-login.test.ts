import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { EHERKENNING_PERSONAS, type EherkenningPersona } from '../../sandbox/signicat-eherkenning/personas.js';
import { Browser } from '../support/browser.js';
import { auditEvents } from '../support/factories.js';
import {
  EHERKENNING_CALLBACK,
  type EherkenningTestbed,
  startEherkenningTestbed,
} from '../support/eherkenning-testbed.js';
import { errorPage, footprint, loginFailures } from '../support/providers-testbed.js';

const [JANSEN, BAKKER, BROKER_FAILURE] = EHERKENNING_PERSONAS;
const NO_BRANCH: EherkenningPersona = {
  id: 'eh-head-office-0004',
  label: 'Head office without branch number',
  description: 'no eherkenningVestigingsNr',
  subject: { id: 'eh-head-office-0004', chamberOfCommerce: '11223344', organisationName: 'Hoofdkantoor B.V.' },
};

interface Me {
  account: { id: string; displayName: string };
  links: Array<{ provider: string; attributes: Record<string, unknown> }>;
  session: { id: string; provider: string; authContext: Record<string, unknown> };
}

const sessionIdOf = (callback: string) => new URL(callback).searchParams.get('sessionId')!;
const onPath = (callback: string, outcome: string) =>
  callback.replace(/\/callback\/(success|abort|error)\?/, `/callback/${outcome}?`);

describe('Signicat eHerkenning web login (Authentication REST API)', () => {
  let bed: EherkenningTestbed;
  const me = (browser: Browser) => browser.request(`${bed.app.baseUrl}/api/me`);

  beforeAll(async () => {
    bed = await startEherkenningTestbed({
      eherkenningPersonas: [...EHERKENNING_PERSONAS, NO_BRANCH],
      env: { SIGNICAT_EHERKENNING_UNKNOWN_IDENTITY_POLICY: 'provision', SIGNICAT_EHERKENNING_LOA: 'substantial' },
    });
  });
  afterEach(() => {
    for (const key of Object.keys(bed.eherkenning.hostility)) delete (bed.eherkenning.hostility as never)[key];
  });
  afterAll(async () => bed.close());

  it('signs an organisation employee in, provisions an account and keeps only the allow-listed attributes', async () => {
    const browser = new Browser();
    const callback = await bed.eherkenningLogin(browser, JANSEN.id, '/jobs/42');
    expect([callback.status, callback.location]).toEqual([302, `${bed.app.baseUrl}/jobs/42`]);
    const body = (await me(browser)).json<Me>();
    expect(body.account.displayName).toBe('Autobedrijf Jansen B.V. (eHerkenning)');
    expect(body.links).toEqual([expect.objectContaining({ provider: 'signicat-eherkenning' })]);
    expect(body.links[0].attributes).toEqual({
      chamberOfCommerce: '12345678',
      eherkenningVestigingsNr: '000012345678',
      eherkenningPseudo: 'pseudo-jansen-12345678',
      organisationName: 'Autobedrijf Jansen B.V.',
    });
    expect(body.session).toMatchObject({
      provider: 'signicat-eherkenning',
      authContext: { method: 'web', provider: 'signicat-eherkenning', kvk: '12345678' },
    });
    const [link] = await bed.app.dataSource.query(
      `SELECT issuer, subject, person_key FROM identity_links WHERE provider = 'signicat-eherkenning'`,
    );
    expect(link).toEqual({ issuer: bed.eherkenning.baseUrl, subject: JANSEN.id, person_key: null });
    // Signicat reports no authentication time: the session is as fresh as the start of this login (after which
    // the one-time REST session was authenticated), never the time of the callback.
    const [{ started }] = await bed.app.dataSource.query(
      `SELECT t.created_at AS started FROM login_transactions t JOIN sessions s ON s.authenticated_at = date_trunc('milliseconds', t.created_at)
        WHERE s.id = $1`,
      [body.session.id],
    );
    expect(started).toBeInstanceOf(Date);
    // The same identity signs in to the same account next time.
    const again = new Browser();
    await bed.eherkenningLogin(again, JANSEN.id);
    expect((await me(again)).json<Me>().account.id).toBe(body.account.id);
  });

  it('creates a redirect session for eHerkenning with our callbacks and the login transaction as reference', async () => {
    const browser = new Browser();
    const start = await browser.request(`${bed.app.baseUrl}/auth/signicat-eherkenning/login`);
    expect(start.status).toBe(302);
    expect(start.location).toMatch(new RegExp(`^${bed.eherkenning.baseUrl}/authenticate/[0-9a-f-]{36}$`));
    const sessionId = start.location!.split('/').at(-1)!;
    const { request } = bed.eherkenning.sessions.get(sessionId)!;
    const [transaction] = await bed.app.dataSource.query(
      `SELECT id FROM login_transactions WHERE provider = 'signicat-eherkenning' ORDER BY created_at DESC LIMIT 1`,
    );
    expect(request).toEqual({
      flow: 'redirect',
      allowedProviders: ['eherkenning'],
      requestedAttributes: ['eherkenningPseudo', 'chamberOfCommerce', 'eherkenningVestigingsNr', 'organisationName'],
      callbackUrls: {
        success: `${bed.app.baseUrl}${EHERKENNING_CALLBACK}/success`,
        abort: `${bed.app.baseUrl}${EHERKENNING_CALLBACK}/abort`,
        error: `${bed.app.baseUrl}${EHERKENNING_CALLBACK}/error`,
      },
      externalReference: transaction.id,
      sessionLifetime: 600,
      language: 'nl',
      requestedLoa: 'substantial',
    });
  });

  it('keeps a head office login without a branch number', async () => {
    const browser = new Browser();
    expect((await bed.eherkenningLogin(browser, NO_BRANCH.id)).status).toBe(302);
    expect((await me(browser)).json<Me>().links[0].attributes).toEqual({
      chamberOfCommerce: '11223344',
      organisationName: 'Hoofdkantoor B.V.',
    });
  });

  it('reports a login cancelled at Signicat as login_cancelled and writes nothing', async () => {
    const browser = new Browser();
    const before = await footprint(bed);
    const page = await browser.follow(`${bed.app.baseUrl}/auth/signicat-eherkenning/login`);
    expect(page.body).toContain('Sign in with eHerkenning');
    const response = await browser.follow(
      `${page.url}/abort`,
      (url) => url.startsWith(`${bed.app.baseUrl}/auth/login-error`),
      { form: {} },
    );
    expect(response.location).toBe(errorPage(bed, 'login_cancelled'));
    expect(await footprint(bed)).toEqual(before);
    expect((await loginFailures(bed)).at(-1)).toMatchObject({
      provider: 'signicat-eherkenning',
      code: 'login_cancelled',
      callback: 'abort',
      sessionStatus: 'ABORT',
    });
  });

  it('refuses a session that ended in ERROR (provider_error) and writes nothing', async () => {
    const before = await footprint(bed);
    const callback = await bed.reachEherkenningCallback(new Browser(), BROKER_FAILURE.id);
    expect(callback).toMatch(new RegExp(`${EHERKENNING_CALLBACK}/error\\?sessionId=`));
    const browser = new Browser();
    const response = await bed.eherkenningLogin(browser, BROKER_FAILURE.id);
    expect(response.location).toBe(errorPage(bed, 'provider_error'));
    expect(await footprint(bed)).toEqual(before);
    expect((await loginFailures(bed)).at(-1)).toMatchObject({ code: 'provider_error', sessionStatus: 'ERROR' });
  });

  it('refuses a session id delivered to another browser before calling Signicat, and burns it', async () => {
    const victim = new Browser();
    const callback = await bed.reachEherkenningCallback(victim, JANSEN.id);
    const calls = bed.eherkenning.counters.getSession;
    const before = await footprint(bed);
    expect((await new Browser().request(callback)).location).toBe(errorPage(bed, 'login_wrong_browser'));
    expect(bed.eherkenning.counters.getSession).toBe(calls);
    expect(await footprint(bed)).toEqual(before);
    expect((await loginFailures(bed)).at(-1)).toMatchObject({
      provider: 'signicat-eherkenning',
      code: 'login_wrong_browser',
    });
    expect((await victim.request(callback)).location).toBe(errorPage(bed, 'login_replayed'));
    expect(bed.eherkenning.counters.getSession).toBe(calls);
  });

  it('refuses a session id this app never started (another client of the Signicat account) without calling Signicat', async () => {
    const browser = new Browser();
    await browser.request(`${bed.app.baseUrl}/auth/signicat-eherkenning/login`); // the browser has a binding cookie
    const calls = bed.eherkenning.counters.getSession;
    const before = await footprint(bed);
    for (const sessionId of ['5f0c8b8e-1b7a-4f51-9a55-0c7c4f1e0d9a', '', 'x'.repeat(600)]) {
      const response = await browser.request(
        `${bed.app.baseUrl}${EHERKENNING_CALLBACK}/success?sessionId=${encodeURIComponent(sessionId)}`,
      );
      expect(response.location).toBe(errorPage(bed, 'login_state_invalid'));
    }
    const noId = await browser.request(`${bed.app.baseUrl}${EHERKENNING_CALLBACK}/success`);
    expect(noId.location).toBe(errorPage(bed, 'login_state_invalid'));
    expect(bed.eherkenning.counters.getSession).toBe(calls);
    expect(await footprint(bed)).toEqual(before);
    expect((await loginFailures(bed)).at(-1)).toMatchObject({ code: 'login_state_invalid' });
  });

  it('answers a JSON client with problem+json and refuses unknown callback paths', async () => {
    const browser = new Browser();
    const json = await browser.request(`${bed.app.baseUrl}${EHERKENNING_CALLBACK}/success?sessionId=nope`, {
      headers: { accept: 'application/json' },
    });
    expect(json.status).toBe(400);
    expect(json.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(json.json()).toMatchObject({ code: 'login_state_invalid' });
    const other = await browser.request(`${bed.app.baseUrl}${EHERKENNING_CALLBACK}/maybe?sessionId=nope`);
    expect(other.location).toBe(errorPage(bed, 'login_state_invalid'));
  });

  it('refuses a replayed callback and creates no second session', async () => {
    const browser = new Browser();
    const callback = await bed.reachEherkenningCallback(browser, BAKKER.id);
    expect((await browser.request(callback)).status).toBe(302);
    const after = await footprint(bed);
    const calls = bed.eherkenning.counters.getSession;
    expect((await browser.request(callback)).location).toBe(errorPage(bed, 'login_replayed'));
    expect((await browser.request(onPath(callback, 'error'))).location).toBe(errorPage(bed, 'login_replayed'));
    expect(await footprint(bed)).toEqual(after);
    expect(bed.eherkenning.counters.getSession).toBe(calls);
  });

  it("decides by the session's status, not by the callback path Signicat's redirect used", async () => {
    // SUCCESS at Signicat, delivered to the abort callback: a login (the path is only the browser's word).
    const browser = new Browser();
    const success = await bed.reachEherkenningCallback(browser, BAKKER.id);
    const response = await browser.request(onPath(success, 'abort'));
    expect(response.location).toBe(`${bed.app.baseUrl}/portal/home`);
    expect((await me(browser)).json<Me>().links[0].attributes.chamberOfCommerce).toBe('87654321');
    const [succeeded] = (await auditEvents(bed.app.dataSource, 'auth.login_succeeded')).slice(-1);
    expect(succeeded.details.warnings).toEqual(['signicat_session_success_on_abort_callback']);
    // ABORT at Signicat, delivered to the success callback: cancelled.
    const other = new Browser();
    const page = await other.follow(`${bed.app.baseUrl}/auth/signicat-eherkenning/login`);
    const aborted = await other.follow(`${page.url}/abort`, (url) => url.includes(EHERKENNING_CALLBACK), { form: {} });
    const before = await footprint(bed);
    expect((await other.request(onPath(aborted.location!, 'success'))).location).toBe(
      errorPage(bed, 'login_cancelled'),
    );
    expect(await footprint(bed)).toEqual(before);
  });

  it('refuses a session that expired at Signicat (login_expired), also when the person arrives too late', async () => {
    const browser = new Browser();
    const callback = await bed.reachEherkenningCallback(browser, JANSEN.id);
    bed.eherkenning.expireSession(sessionIdOf(callback));
    const before = await footprint(bed);
    expect((await browser.request(callback)).location).toBe(errorPage(bed, 'login_expired'));

    const late = new Browser();
    const start = await late.request(`${bed.app.baseUrl}/auth/signicat-eherkenning/login`);
    bed.eherkenning.expireSession(start.location!.split('/').at(-1)!);
    const response = await late.follow(start.location!, (url) => url.startsWith(`${bed.app.baseUrl}/auth/login-error`));
    expect(response.location).toBe(errorPage(bed, 'login_expired'));
    expect(await footprint(bed)).toEqual(before);
  });

  it('refuses a session answer that is not for this login or carries malformed organisation numbers', async () => {
    const cases: Array<[(body: Record<string, unknown>) => Record<string, unknown>, string]> = [
      [
        (body) => ({ ...body, externalReference: '00000000-0000-4000-8000-000000000000' }),
        'authorization_response_invalid',
      ],
      [(body) => ({ ...body, status: 'CREATED' }), 'authorization_response_invalid'],
      [(body) => ({ ...body, provider: 'idin' }), 'userinfo_invalid'],
      [
        (body) => ({ ...body, subject: { ...(body.subject as object), chamberOfCommerce: '1234567' } }),
        'userinfo_invalid',
      ],
      [
        (body) => ({ ...body, subject: { ...(body.subject as object), eherkenningVestigingsNr: '12345' } }),
        'userinfo_invalid',
      ],
      [(body) => ({ ...body, subject: { ...(body.subject as object), id: '' } }), 'userinfo_invalid'],
    ];
    const before = await footprint(bed);
    for (const [rewrite, code] of cases) {
      bed.eherkenning.hostility.session = rewrite;
      expect([(await bed.eherkenningLogin(new Browser(), JANSEN.id)).location, code]).toEqual([
        errorPage(bed, code),
        code,
      ]);
    }
    expect(await footprint(bed)).toEqual(before);
  });

  it('never sends the browser to an authentication URL off the Signicat host, and burns that login', async () => {
    const before = await footprint(bed);
    const open = async () =>
      (
        await bed.app.dataSource.query(
          `SELECT count(*)::int AS n FROM login_transactions WHERE provider = 'signicat-eherkenning' AND consumed_at IS NULL`,
        )
      )[0].n as number;
    const unused = await open();
    for (const authenticationUrl of ['https://evil.example/authenticate/x', 'javascript:alert(1)']) {
      bed.eherkenning.hostility.created = (body) => ({ ...body, authenticationUrl });
      const response = await new Browser().request(`${bed.app.baseUrl}/auth/signicat-eherkenning/login`);
      expect(response.location).toBe(errorPage(bed, 'provider_misconfigured'));
    }
    expect(await open()).toBe(unused);
    expect(await footprint(bed)).toEqual(before);
    expect((await loginFailures(bed)).at(-1)).toMatchObject({
      code: 'provider_misconfigured',
      stage: 'create_session',
    });
  });

  it('answers provider_error, not a 500, when Signicat hands out a session id it used before', async () => {
    let first: string | undefined;
    bed.eherkenning.hostility.created = (body) => {
      first ??= body.id as string;
      return { ...body, id: first };
    };
    await new Browser().request(`${bed.app.baseUrl}/auth/signicat-eherkenning/login`);
    const before = await footprint(bed);
    const again = await new Browser().request(`${bed.app.baseUrl}/auth/signicat-eherkenning/login`);
    expect(again.location).toBe(errorPage(bed, 'provider_error'));
    expect(await footprint(bed)).toEqual(before);
  });

  it('reuses one API token for many logins and fetches a new one once when Signicat answers 401', async () => {
    await bed.eherkenningLogin(new Browser(), BAKKER.id);
    const tokens = bed.eherkenning.counters.token;
    await Promise.all([1, 2, 3].map(() => bed.eherkenningLogin(new Browser(), BAKKER.id)));
    expect(bed.eherkenning.counters.token).toBe(tokens);

    bed.eherkenning.revokeTokens();
    const unauthorized = bed.eherkenning.counters.unauthorized;
    const response = await bed.eherkenningLogin(new Browser(), BAKKER.id);
    expect(response.location).toBe(`${bed.app.baseUrl}/portal/home`);
    expect(bed.eherkenning.counters.token).toBe(tokens + 1);
    expect(bed.eherkenning.counters.unauthorized).toBe(unauthorized + 1);
    const logged = bed.app.logs.text();
    expect(logged).not.toContain(bed.eherkenning.clientSecret);
  });

  it('reports Signicat down or slow as a retryable provider_unavailable and writes nothing', async () => {
    const before = await footprint(bed);
    bed.eherkenning.hostility.status = 503;
    const browser = new Browser();
    const down = await browser.request(`${bed.app.baseUrl}/auth/signicat-eherkenning/login`);
    expect(down.location).toBe(errorPage(bed, 'provider_unavailable'));
    const json = await browser.request(`${bed.app.baseUrl}/auth/signicat-eherkenning/login`, {
      headers: { accept: 'application/json' },
    });
    expect([json.status, json.json().code]).toEqual([503, 'provider_unavailable']);
    delete bed.eherkenning.hostility.status;

    const callback = await bed.reachEherkenningCallback(browser, JANSEN.id);
    // Far beyond the testbed's OIDC_HTTP_TIMEOUT_MS; the sandbox stops waiting when the app gives up.
    bed.eherkenning.hostility.delayMs = 30_000;
    expect((await browser.request(callback)).location).toBe(errorPage(bed, 'provider_unavailable'));
    expect(await footprint(bed)).toEqual(before);
    expect((await loginFailures(bed)).at(-1)).toMatchObject({ code: 'provider_unavailable', stage: 'get_session' });
  });

  it('audits every refusal with the provider and never the API token', async () => {
    const events = await auditEvents(bed.app.dataSource, 'auth.login_failed');
    expect(events.length).toBeGreaterThan(5);
    expect(JSON.stringify(events)).not.toMatch(/Bearer|access_token/);
  });
});
