import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { LoginTransactionsService } from '../../src/login-transactions/login-transactions.service.js';
import { Browser, type BrowserResponse } from '../support/browser.js';
import { errorPage, IOE, startDigidentityTestbed, type DigidentityTestbed } from '../support/digidentity-testbed.js';
import { auditEvents, createAccount, signIn } from '../support/factories.js';
import { freePort } from '../support/free-port.js';
import { reachProviderCallback } from '../support/web-login.js';

const LOGIN_LIMIT = 5;
const PASSWORDLESS_LIMIT = 3;
const OPEN_PER_BROWSER = 3;
const GRACE_SECONDS = 300;

/**
 * Login starts are limited per client address, counted in Postgres: the limits hold on every instance. Two
 * instances share one database; TRUST_PROXY lets each test be a different client (X-Forwarded-For).
 */
describe('limits on login starts', () => {
  let first: DigidentityTestbed;
  let second: DigidentityTestbed;
  let nextAddress = 1;
  /** A client address no other test used. */
  const newClient = () => `198.51.100.${nextAddress++}`;

  beforeAll(async () => {
    const env = {
      TRUST_PROXY: 'loopback',
      LOGIN_START_LIMIT_PER_MINUTE: String(LOGIN_LIMIT),
      PASSWORDLESS_START_LIMIT_PER_MINUTE: String(PASSWORDLESS_LIMIT),
      LOGIN_OPEN_PER_BROWSER: String(OPEN_PER_BROWSER),
      LOGIN_TRANSACTION_PURGE_GRACE_SECONDS: String(GRACE_SECONDS),
      LOGIN_TRANSACTION_PURGE_INTERVAL_SECONDS: '0',
    };
    first = await startDigidentityTestbed({ env });
    second = await startDigidentityTestbed({
      sandbox: first.sandbox,
      hostile: first.hostile,
      database: first.app.database,
      port: await freePort(),
      env: { ...env, PUBLIC_BASE_URL: first.app.baseUrl },
    });
  });
  afterAll(async () => {
    await second.close();
    await first.close();
  });

  const db = () => first.app.dataSource;
  const count = async (sql: string, parameters: unknown[] = []) =>
    ((await db().query(sql, parameters)) as Array<{ n: number }>)[0].n;
  const transactions = () => count(`SELECT count(*)::int AS n FROM login_transactions`);

  /** The same browser on instance `bed` (a load balancer: same public origin, cookies shared). */
  const on = (bed: DigidentityTestbed, browser: Browser) => {
    if (bed !== first)
      for (const [name, value] of browser.cookies(first.app.baseUrl)) browser.cookies(bed.app.baseUrl).set(name, value);
    return bed.app.baseUrl;
  };
  const webStart = (browser: Browser, client: string, bed = first, accept?: string) =>
    browser.request(`${on(bed, browser)}/auth/digidentity/login?returnTo=/jobs/1`, {
      headers: { 'x-forwarded-for': client, ...(accept ? { accept } : {}) },
    });
  const passwordlessStart = (browser: Browser, client: string, bed = first) =>
    browser.request(`${on(bed, browser)}/auth/digidentity/passwordless`, {
      json: {},
      headers: { origin: first.app.baseUrl, 'x-forwarded-for': client },
    });
  const toProvider = (response: BrowserResponse) =>
    response.status === 302 && response.location?.startsWith(first.sandbox.issuer);

  /** A refusal as the limit answers it: 429 and Retry-After in seconds, up to the end of the minute. */
  const expectRefused = (response: BrowserResponse) => {
    expect(response.status).toBe(429);
    const retryAfter = Number(response.headers.get('retry-after'));
    expect(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60).toBe(true);
    expect(response.headers.get('location')).toBeNull();
    expect(response.headers.get('cache-control')).toBe('no-store');
    return retryAfter;
  };

  /**
   * Limits count per minute of database time. A scenario that happened to straddle a minute boundary saw the
   * counts start again; it runs once more (with new clients), which then fits in one minute.
   */
  const inOneWindow = async (scenario: () => Promise<void>) => {
    const minute = async () =>
      ((await db().query(`SELECT date_trunc('minute', now())::text AS m`)) as Array<{ m: string }>)[0].m;
    const before = await minute();
    try {
      await scenario();
    } catch (error) {
      if ((await minute()) === before) throw error;
      await scenario();
    }
  };

  describe('browser login starts', () => {
    it('refuses a flood from one client with 429 and Retry-After while another client still gets through', () =>
      inOneWindow(async () => {
        const flooder = newClient();
        const other = newClient();
        const stored = await transactions();
        for (let i = 0; i < LOGIN_LIMIT; i += 1) expect(toProvider(await webStart(new Browser(), flooder))).toBe(true);

        const page = await webStart(new Browser(), flooder);
        expectRefused(page);
        expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
        expect(page.body).toContain('<code>too_many_login_attempts</code>');
        expect(page.body).not.toContain(first.sandbox.issuer);

        const json = await webStart(new Browser(), flooder, first, 'application/json');
        const retryAfter = expectRefused(json);
        expect(json.headers.get('content-type')).toBe('application/problem+json; charset=utf-8');
        expect(json.json()).toMatchObject({
          status: 429,
          code: 'too_many_login_attempts',
          retryAfterSeconds: retryAfter,
        });

        expect(toProvider(await webStart(new Browser(), other))).toBe(true);
        // Nothing is stored for a refused start, and refusals are not audited one by one.
        expect(await transactions()).toBe(stored + LOGIN_LIMIT + 1);
        expect(await auditEvents(db(), 'auth.login_failed')).toHaveLength(0);
        expect(first.app.logs.lines).toContainEqual(
          expect.objectContaining({
            msg: 'login starts of a client are being refused',
            client: flooder,
            kind: 'login',
          }),
        );
      }));

    it('refuses a saturated client without touching its counter row (a flood does not queue on it)', () =>
      inOneWindow(async () => {
        const client = newClient();
        for (let i = 0; i <= LOGIN_LIMIT; i += 1) await webStart(new Browser(), client);
        const other = db().createQueryRunner();
        await other.connect();
        try {
          await other.startTransaction();
          await other.query(`SELECT hits FROM login_start_counters WHERE client_key = $1 FOR UPDATE`, [client]);
          // Answered while another transaction holds the row: a refusal that waited for it would never come back.
          expectRefused(await webStart(new Browser(), client, second));
        } finally {
          await other.rollbackTransaction();
          await other.release();
        }
      }));

    it('counts the addresses of one IPv6 /64 as one client', () =>
      inOneWindow(async () => {
        const prefix = `2001:db8:${nextAddress++}:1`;
        for (let i = 0; i < LOGIN_LIMIT; i += 1) {
          expect(toProvider(await webStart(new Browser(), `${prefix}::${i + 1}`))).toBe(true);
        }
        expectRefused(await webStart(new Browser(), `${prefix}:ffff::1`));
        expect(toProvider(await webStart(new Browser(), `2001:db8:${nextAddress++}:1::1`))).toBe(true);
      }));

    it('holds across two instances on one database', () =>
      inOneWindow(async () => {
        const client = newClient();
        const answers: number[] = [];
        for (let i = 0; i < LOGIN_LIMIT + 2; i += 1) {
          answers.push((await webStart(new Browser(), client, i % 2 === 0 ? first : second)).status);
        }
        expect(answers).toEqual([...Array(LOGIN_LIMIT).fill(302), 429, 429]);
      }));

    it('admits exactly the limit when a client floods both instances at once', () =>
      inOneWindow(async () => {
        const client = newClient();
        const answers = await Promise.all(
          Array.from({ length: 3 * LOGIN_LIMIT }, (_, i) =>
            webStart(new Browser(), client, i % 2 === 0 ? first : second),
          ),
        );
        expect(answers.filter((answer) => answer.status === 302)).toHaveLength(LOGIN_LIMIT);
        expect(answers.filter((answer) => answer.status === 429)).toHaveLength(2 * LOGIN_LIMIT);
      }));

    it('also limits link starts, which answer problem+json with Retry-After', () =>
      inOneWindow(async () => {
        const client = newClient();
        const account = await createAccount(db());
        const session = await signIn(first.app, account);
        const link = () =>
          new Browser().request(`${first.app.baseUrl}/api/me/links/digidentity`, {
            json: {},
            headers: { ...session.writeHeaders, cookie: session.cookie, 'x-forwarded-for': client },
          });
        for (let i = 0; i < LOGIN_LIMIT; i += 1) expect((await link()).status).toBe(201);
        const refused = await link();
        expectRefused(refused);
        expect(refused.json()).toMatchObject({ code: 'too_many_login_attempts' });
      }));
  });

  describe('passwordless starts', () => {
    it('refuses a flood before Digidentity is called, while another client still gets a QR code', () =>
      inOneWindow(async () => {
        const flooder = newClient();
        const calls = first.sandbox.passwordlessStarts();
        for (let i = 0; i < PASSWORDLESS_LIMIT; i += 1) {
          expect((await passwordlessStart(new Browser(), flooder, i % 2 === 0 ? first : second)).status).toBe(201);
        }
        const refused = await passwordlessStart(new Browser(), flooder, second);
        const retryAfter = expectRefused(refused);
        expect(refused.json()).toMatchObject({ code: 'too_many_login_attempts', retryAfterSeconds: retryAfter });
        expectRefused(await passwordlessStart(new Browser(), flooder));
        expect(first.sandbox.passwordlessStarts()).toBe(calls + PASSWORDLESS_LIMIT);

        expect((await passwordlessStart(new Browser(), newClient())).status).toBe(201);
        // Web logins have their own limit.
        expect(toProvider(await webStart(new Browser(), flooder))).toBe(true);
        expect(first.sandbox.passwordlessStarts()).toBe(calls + PASSWORDLESS_LIMIT + 1);
      }));
  });

  describe('open logins per browser', () => {
    const openLoginsOf = (binding: string) =>
      count(
        `SELECT count(*)::int AS n FROM login_transactions
          WHERE browser_binding_hash = sha256(convert_to($1, 'UTF8')) AND consumed_at IS NULL AND expires_at > now()`,
        [binding],
      );
    const openLogins = (browser: Browser) =>
      openLoginsOf(browser.cookie(first.app.baseUrl, first.app.config.login.bindingCookieName)!);

    it('expires the oldest open login of a browser beyond the cap; the newer ones still complete', async () => {
      const browser = new Browser();
      const client = newClient();
      const started: string[] = [];
      for (let i = 0; i < OPEN_PER_BROWSER + 1; i += 1) {
        const response = await webStart(browser, client, i % 2 === 0 ? first : second);
        expect(toProvider(response)).toBe(true);
        started.push(response.location!);
      }
      expect(await openLogins(browser)).toBe(OPEN_PER_BROWSER);
      const callbackOf = (authorizeUrl: string) =>
        reachProviderCallback(browser, authorizeUrl, IOE.id, `${first.app.baseUrl}/auth/digidentity/callback`);

      const oldest = await browser.request(await callbackOf(started[0]));
      expect(oldest.location).toBe(errorPage(first, 'login_expired'));
      const newest = await browser.request(await callbackOf(started[OPEN_PER_BROWSER]));
      expect([newest.status, newest.location]).toEqual([302, `${first.app.baseUrl}/jobs/1`]);
      const second_ = await browser.request(await callbackOf(started[1]));
      expect([second_.status, second_.location]).toEqual([302, `${first.app.baseUrl}/jobs/1`]);
    });

    it('skips the cap check only for a start that minted the browser binding, which no open login can carry', async () => {
      const logins = first.app.app.get(LoginTransactionsService);
      const binding = randomBytes(32).toString('base64url');
      const start = (browserBindingIsNew: boolean) =>
        logins.create({
          provider: 'digidentity',
          returnTo: '/',
          browserBinding: binding,
          browserBindingIsNew,
          startLimit: { clientIp: newClient() },
        });
      for (let i = 0; i < OPEN_PER_BROWSER; i += 1) await start(false);
      // Told the binding is new, the start does not look for the browser's open logins (the cost of the check saved).
      await start(true);
      expect(await openLoginsOf(binding)).toBe(OPEN_PER_BROWSER + 1);
      await start(false);
      expect(await openLoginsOf(binding)).toBe(OPEN_PER_BROWSER);
    });

    it('keeps the cap when one browser starts many logins on two instances at once', async () => {
      const browser = new Browser();
      expect(toProvider(await webStart(browser, newClient()))).toBe(true);
      const answers = await Promise.all(
        Array.from({ length: 16 }, (_, i) => webStart(browser, newClient(), i % 2 === 0 ? first : second)),
      );
      expect(answers.every(toProvider)).toBe(true);
      expect(await openLogins(browser)).toBe(OPEN_PER_BROWSER);
    });
  });

  describe('the purge of expired logins', () => {
    /** Login transactions expired `seconds` ago, not started over HTTP (only the purge looks at them). */
    const expired = async (rows: number, seconds: number): Promise<Buffer> => {
      const binding = randomBytes(32);
      await db().query(
        `INSERT INTO login_transactions (provider, state_hash, browser_binding_hash, expires_at, created_at)
         SELECT 'digidentity', sha256(convert_to(gen_random_uuid()::text, 'UTF8')), $3,
                now() - make_interval(secs => $2), now() - make_interval(secs => $2 + 600)
           FROM generate_series(1, $1)`,
        [rows, seconds, binding],
      );
      return binding;
    };
    const left = (binding: Buffer) =>
      count(`SELECT count(*)::int AS n FROM login_transactions WHERE browser_binding_hash = $1`, [binding]);
    const purge = (bed: DigidentityTestbed) => bed.app.app.get(LoginTransactionsService).purgeExpired();

    it('keeps an expired login for the grace (a late poll still hears `expired`), then deletes it', async () => {
      const browser = new Browser();
      const client = newClient();
      const started = (await passwordlessStart(browser, client)).json<{ id: string }>();
      const expireAgo = (seconds: number) =>
        db().query(`UPDATE login_transactions SET expires_at = now() - make_interval(secs => $2) WHERE id = $1`, [
          started.id,
          seconds,
        ]);
      const poll = () => browser.request(`${first.app.baseUrl}/auth/digidentity/passwordless/${started.id}`);

      await expireAgo(GRACE_SECONDS - 60);
      await purge(first);
      expect((await poll()).json()).toEqual({ status: 'expired' });
      await purge(second);
      expect((await poll()).json()).toEqual({ status: 'expired' });

      await expireAgo(GRACE_SECONDS + 1);
      await purge(first);
      const gone = await poll();
      expect([gone.status, gone.json().code]).toEqual([404, 'passwordless_not_found']);
    });

    // A minute that ends between the insert and the purge would finish the "current" window: run it again.
    it('deletes expired logins past the grace, finished counter windows and expired sign-out hints, nothing else', () =>
      inOneWindow(async () => {
        const past = await expired(3, GRACE_SECONDS + 60);
        const inGrace = await expired(2, GRACE_SECONDS - 60);
        await db().query(
          `INSERT INTO login_start_counters (kind, client_key, window_start, hits)
         VALUES ('login', '192.0.2.1', date_trunc('minute', now()) - interval '1 minute', 9),
                ('passwordless', '192.0.2.1', date_trunc('minute', now()), 2)`,
        );
        await db().query(
          `INSERT INTO sign_out_hints (handle_hash, provider, id_token, expires_at)
           VALUES (sha256('gone'), 'digidentity', 'a.b.c', now() - interval '1 second'),
                  (sha256('kept'), 'digidentity', 'a.b.c', now() + interval '1 hour')
           ON CONFLICT (handle_hash) DO UPDATE SET expires_at = EXCLUDED.expires_at`,
        );
        const result = await purge(first);
        expect(result).toMatchObject({ skipped: false, hints: 1 });
        expect(
          await db().query(
            `SELECT handle_hash = sha256('kept') AS kept FROM sign_out_hints
              WHERE handle_hash IN (sha256('gone'), sha256('kept'))`,
          ),
        ).toEqual([{ kept: true }]);
        expect([await left(past), await left(inGrace)]).toEqual([0, 2]);
        expect(await db().query(`SELECT kind, hits FROM login_start_counters WHERE client_key = '192.0.2.1'`)).toEqual([
          { kind: 'passwordless', hits: 2 },
        ]);
        expect(
          await count(
            `SELECT count(*)::int AS n FROM login_start_counters WHERE window_start < date_trunc('minute', now())`,
          ),
        ).toBe(0);
      }));

    it('runs on two instances at once without failing or deleting anything twice', async () => {
      const past = await expired(2500, GRACE_SECONDS + 60);
      const recent = await expired(5, 10);
      const results = await Promise.all([purge(first), purge(second), purge(first), purge(second)]);
      expect(results.reduce((sum, result) => sum + result.transactions, 0)).toBe(2500);
      expect([await left(past), await left(recent)]).toEqual([0, 5]);
    });
  });
});
