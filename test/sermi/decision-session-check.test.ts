import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { Metrics } from '../../src/operations/metrics.js';
import { Browser } from '../support/browser.js';
import { IOE, RSSE, startDigidentityTestbed, type DigidentityTestbed } from '../support/digidentity-testbed.js';
import { createAccount, signIn, type SignedIn } from '../support/factories.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const VIN = 'WVWZZZ1JZXW000007';

/**
 * POST /api/sermi/access checks its session in the statements that bind and log the decision, not in a lookup of its
 * own; an instance remembers a session's fixed facts between lookups. A session that ended meanwhile — on another
 * instance, by an administrator, by time — must still decide nothing.
 */
describe('a SERMI decision checks its session in the statement that logs it', () => {
  let bed: DigidentityTestbed;
  let base: string;

  beforeAll(async () => {
    bed = await startDigidentityTestbed();
    base = bed.app.baseUrl;
    await bed.app.dataSource.query(
      `INSERT INTO rmi_items (code, title, security_related) VALUES
         ('IMMO_KEY_PROGRAMMING', 'Key programming', true), ('SERVICE_SCHEDULE', 'Service schedule', false)`,
    );
  });
  afterAll(async () => bed.close());
  // Every test signs the same personas in: an account one of them disabled is enabled again.
  afterEach(async () => bed.app.dataSource.query(`UPDATE accounts SET status = 'active'`));

  const ask = (signedIn: { browser: Browser; headers: Record<string, string> }, item: string) =>
    signedIn.browser.request(`${base}/api/sermi/access`, { json: { vin: VIN, item }, headers: signedIn.headers });
  const logged = async (sessionId: string) =>
    Number(
      (await bed.app.dataSource.query(`SELECT count(*) FROM sermi_access_log WHERE session_id = $1`, [sessionId]))[0]
        .count,
    );

  const ends: Array<[string, string]> = [
    [
      'revoked (signed out on another instance)',
      `UPDATE sessions SET revoked_at = now(), revoke_reason = 'test' WHERE id = $1`,
    ],
    ['idle too long', `UPDATE sessions SET idle_expires_at = now() - interval '1 second' WHERE id = $1`],
    [
      'past its absolute lifetime',
      `UPDATE sessions SET idle_expires_at = now() - interval '1 second', absolute_expires_at = now() - interval '1 second'
        WHERE id = $1`,
    ],
    [
      'of an account disabled since',
      `UPDATE accounts SET status = 'disabled' WHERE id = (SELECT account_id FROM sessions WHERE id = $1)`,
    ],
  ];
  it.each(ends.flatMap(([how, end]) => ['IMMO_KEY_PROGRAMMING', 'SERVICE_SCHEDULE'].map((item) => [how, item, end])))(
    'decides nothing for a session %s after this instance looked it up (%s)',
    async (_, item, end) => {
      const ioe = await bed.signedInBrowser(IOE.id);
      expect((await ask(ioe, 'IMMO_KEY_PROGRAMMING')).json()).toMatchObject({ decision: 'granted' });
      const before = await logged(ioe.sessionId);

      await bed.app.dataSource.query(end, [ioe.sessionId]);
      const response = await ask(ioe, item);
      expect(response.status).toBe(401);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      expect(response.json()).toMatchObject({ code: 'unauthenticated' });
      expect(ioe.browser.cookie(base, bed.app.config.session.cookieName)).toBeUndefined();
      expect(await logged(ioe.sessionId)).toBe(before);
    },
  );

  it('still needs the CSRF token and the origin for a session this instance remembers', async () => {
    const ioe = await bed.signedInBrowser(IOE.id);
    expect((await ask(ioe, 'SERVICE_SCHEDULE')).status).toBe(200);
    const before = await logged(ioe.sessionId);
    const forged: Array<Record<string, string>> = [
      { Origin: 'https://evil.example', 'X-CSRF-Token': ioe.headers['X-CSRF-Token'] },
      { Origin: base },
    ];
    for (const headers of forged) {
      const response = await ask({ browser: ioe.browser, headers }, 'SERVICE_SCHEDULE');
      expect([response.status, response.json<{ code: string }>().code]).toEqual([403, 'csrf_check_failed']);
    }
    expect(await logged(ioe.sessionId)).toBe(before);
  });

  it('binds no vehicle to a chain authorisation for a session revoked after this instance looked it up', async () => {
    const rsse = await bed.signedInBrowser(RSSE.id);
    expect((await ask(rsse, 'SERVICE_SCHEDULE')).json()).toMatchObject({ decision: 'granted' });
    await bed.app.dataSource.query(`UPDATE sessions SET revoked_at = now(), revoke_reason = 'test' WHERE id = $1`, [
      rsse.sessionId,
    ]);

    expect((await ask(rsse, 'IMMO_KEY_PROGRAMMING')).status).toBe(401);
    expect(
      await bed.app.dataSource.query(`SELECT vin FROM sermi_chain_bindings WHERE bound_by_session_id = $1`, [
        rsse.sessionId,
      ]),
    ).toEqual([]);
  });
});

describe('a session used only for SERMI decisions', () => {
  let t: TestApp;

  // The touch interval is a tenth of the idle timeout: 6 s here.
  beforeAll(async () => {
    t = await startTestApp({ SESSION_IDLE_TIMEOUT_SECONDS: '60' });
    await t.dataSource.query(`INSERT INTO rmi_items (code, title, security_related) VALUES ('OIL', 'Oil', false)`);
  });
  afterAll(async () => t.close());

  const decide = (session: SignedIn) =>
    request(t.http)
      .post('/api/sermi/access')
      .set('Cookie', session.cookie)
      .set(session.writeHeaders)
      .send({ vin: VIN, item: 'OIL' });
  const lookupStatements = async () =>
    Number(/^rmi_session_lookup_batch_calls_count (\d+)$/m.exec(await t.app.get(Metrics).registry.metrics())![1]);

  it('is looked up once per touch interval, not for every decision, and is kept alive by them', async () => {
    const session = await signIn(t, await createAccount(t.dataSource));
    expect((await decide(session)).status).toBe(200);
    const before = await lookupStatements();
    for (let i = 0; i < 5; i += 1) expect((await decide(session)).status).toBe(200);
    expect(await lookupStatements()).toBe(before);

    // Half-way to its idle end and not seen for a while: the first decision after the touch interval looks it up again,
    // which extends it as any request's lookup does.
    await t.dataSource.query(
      `UPDATE sessions SET last_seen_at = now() - interval '50 seconds', idle_expires_at = now() + interval '30 seconds'
        WHERE id = $1`,
      [session.sessionId],
    );
    await new Promise((resolve) => setTimeout(resolve, 6_100));
    expect((await decide(session)).status).toBe(200);
    expect(await lookupStatements()).toBe(before + 1);
    const [row] = await t.dataSource.query(
      `SELECT last_seen_at > now() - interval '5 seconds' AS touched,
              idle_expires_at > now() + interval '50 seconds' AS extended
         FROM sessions WHERE id = $1`,
      [session.sessionId],
    );
    expect(row).toEqual({ touched: true, extended: true });
  });
});
