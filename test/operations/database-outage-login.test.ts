import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { ClientDroppingStuckConnections, QUERY_READ_TIMEOUT } from '../../src/database/pg-client.js';
import { Browser } from '../support/browser.js';
import { eventually } from '../support/eventually.js';
import { errorPage, IOE, startDigidentityTestbed, type DigidentityTestbed } from '../support/digidentity-testbed.js';
import { TcpLink } from '../support/tcp-link.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

/**
 * The database goes away in the middle of logins: every one ends on "try again" (`service_unavailable`), never on
 * `internal_error`, and the login can be tried again once the database is back. A callback to the instance that
 * started its login calls the provider before it needs the database, so its code is spent and trying again means
 * starting again, as the error page says (docs/login-flows.md, "A login consumed where it completes").
 */
describe('a database outage during a login', () => {
  let database: TestDatabase;
  let link: TcpLink;
  let bed: DigidentityTestbed;

  beforeAll(async () => {
    database = await createTestDatabase();
    const opened = await TcpLink.to(database.url);
    link = opened.link;
    bed = await startDigidentityTestbed({
      database,
      databaseUrl: opened.viaLink,
      env: { DATABASE_CONNECT_TIMEOUT_MS: '1000', DATABASE_STATEMENT_TIMEOUT_MS: '1000' },
    });
  });
  afterEach(async () => {
    bed.hostile.hostility = {};
    link.thaw();
    await link.restore();
  });
  afterAll(async () => {
    await bed.close();
    await link.cut();
    await database.drop();
  });

  const warningsAndErrors = (from: number) =>
    bed.app.logs.lines
      .slice(from)
      .filter((line) => line.level === 'error' || line.level === 'fatal' || line.level === 'warn');

  it('ends on service_unavailable while the database is down at the callback, and starting again signs in', async () => {
    const browsers = [new Browser(), new Browser(), new Browser()];
    const callbacks = await Promise.all(browsers.map((browser) => bed.startWebLogin(browser, IOE.id, '/portal/home')));
    // Someone signed in earlier whose next login fails during the outage.
    const signedIn = new Browser();
    await bed.webLogin(signedIn, IOE.id);
    const logsBefore = bed.app.logs.lines.length;

    await link.cut();
    for (const [i, browser] of browsers.entries()) {
      const refused = await browser.request(callbacks[i]);
      expect([refused.status, refused.location]).toEqual([302, errorPage(bed, 'service_unavailable')]);
    }
    // The error page explains the code with 200 even while the database is down (it needs none), also to a browser
    // with a session cookie, whose session it cannot look up now.
    expect((await browsers[0].request(errorPage(bed, 'service_unavailable'))).status).toBe(200);
    const withSession = await signedIn.request(errorPage(bed, 'service_unavailable'), {
      headers: { Accept: 'text/html' },
    });
    expect([withSession.status, withSession.body]).toEqual([200, expect.stringContaining('Back to the sign-in page')]);

    // Expected outage: one warning for the cause, no error lines, no stacks.
    const logged = warningsAndErrors(logsBefore).filter((line) => line.msg !== 'request completed');
    expect(logged).toEqual([expect.objectContaining({ level: 'warn', cause: 'database_unavailable' })]);
    expect(JSON.stringify(bed.app.logs.lines.slice(logsBefore))).not.toMatch(/"stack"|"err"/);

    // Nothing was written; each code was redeemed, so the same callback is spent, and a new login signs in.
    await link.restore();
    for (const [i, browser] of browsers.entries()) {
      expect((await browser.request(callbacks[i])).location).toBe(errorPage(bed, 'login_replayed'));
      expect((await browser.request(`${bed.app.baseUrl}/api/me`)).status).toBe(401);
      const again = await bed.webLogin(browser, IOE.id, '/portal/home');
      expect([again.status, again.location]).toEqual([302, `${bed.app.baseUrl}/portal/home`]);
      expect((await browser.request(`${bed.app.baseUrl}/api/me`)).status).toBe(200);
    }
  });

  it('ends on service_unavailable when the database goes away after the provider answered; a new login works', async () => {
    const browser = new Browser();
    const callback = await bed.startWebLogin(browser, IOE.id, '/portal/home');
    // The code is redeemed and the ID token verified; the database goes away before the login is written.
    bed.hostile.hostility = { beforeUserinfo: () => link.cut() };
    const refused = await browser.request(callback);
    expect([refused.status, refused.location]).toEqual([302, errorPage(bed, 'service_unavailable')]);
    expect((await browser.request(`${bed.app.baseUrl}/api/me`)).status).not.toBe(200);

    bed.hostile.hostility = {};
    await link.restore();
    // The provider's code is spent and the transaction consumed: that callback cannot sign in again...
    expect((await browser.request(callback)).location).toBe(errorPage(bed, 'login_replayed'));
    // ...but trying again from the start does, in the same browser.
    const again = await bed.webLogin(browser, IOE.id, '/portal/home');
    expect([again.status, again.location]).toEqual([302, `${bed.app.baseUrl}/portal/home`]);
    expect((await browser.request(`${bed.app.baseUrl}/api/me`)).status).toBe(200);
  });

  it('ends on service_unavailable when no pool connection comes in time, and starting again signs in', async () => {
    const browser = new Browser();
    const callback = await bed.startWebLogin(browser, IOE.id, '/portal/home');
    const held = Array.from({ length: bed.app.config.database.poolSize }, () => bed.app.dataSource.createQueryRunner());
    await Promise.all(held.map((runner) => runner.connect()));
    try {
      const refused = await browser.request(callback);
      expect([refused.status, refused.location]).toEqual([302, errorPage(bed, 'service_unavailable')]);
    } finally {
      await Promise.all(held.map((runner) => runner.release()));
    }
    expect((await browser.request(callback)).location).toBe(errorPage(bed, 'login_replayed'));
    const again = await bed.webLogin(browser, IOE.id, '/portal/home');
    expect([again.status, again.location]).toEqual([302, `${bed.app.baseUrl}/portal/home`]);
  });

  it('answers a login start with service_unavailable while the database is down', async () => {
    const browser = new Browser();
    await link.cut();
    const start = await browser.request(`${bed.app.baseUrl}/auth/digidentity/login?returnTo=/portal/home`);
    expect([start.status, start.location]).toEqual([302, errorPage(bed, 'service_unavailable')]);
    const json = await browser.request(`${bed.app.baseUrl}/auth/digidentity/login`, {
      headers: { accept: 'application/json' },
    });
    expect([json.status, json.json().code]).toEqual([503, 'service_unavailable']);
  });

  it('shows a page of this site the outage as try again, logged as an outage and not as a fault', async () => {
    const browser = new Browser();
    await bed.webLogin(browser, IOE.id);
    const logsBefore = bed.app.logs.lines.length;
    await link.cut();
    for (const path of ['/account', '/pending', '/console']) {
      const page = await browser.request(`${bed.app.baseUrl}${path}`, { headers: { Accept: 'text/html' } });
      expect([path, page.status]).toEqual([path, 503]);
      expect(page.body).toContain('Try again in a few minutes.');
    }
    const logged = bed.app.logs.lines.slice(logsBefore);
    expect(logged.filter((line) => line.level === 'error' || line.level === 'fatal')).toEqual([]);
    expect(JSON.stringify(logged)).not.toMatch(/"stack"|"err"/);
  });

  it('answers try again when the database stops answering, and recovers with it', async () => {
    const browser = new Browser();
    await bed.webLogin(browser, IOE.id);
    const logsBefore = bed.app.logs.lines.length;
    const start = () =>
      browser.request(`${bed.app.baseUrl}/auth/digidentity/login`, { headers: { accept: 'application/json' } });

    // Frozen: connections stay open, nothing comes back. Postgres's own statement_timeout cannot fire; the client's,
    // a little later, does (a hang guard is all the test has: Jest's timeout, were it to wait for ever).
    link.freeze();
    const stuck = link.watchOpenConnections();
    const refusedStart = await start();
    expect([refusedStart.status, refusedStart.json().code]).toEqual([503, 'service_unavailable']);
    const refusedMe = await browser.request(`${bed.app.baseUrl}/api/me`);
    expect([refusedMe.status, refusedMe.json().code]).toEqual([503, 'service_unavailable']);
    // The pool let go of the connection they were stuck on.
    expect(stuck.check()).toBe(true);
    const logged = warningsAndErrors(logsBefore).filter((line) => line.msg !== 'request completed');
    // An outage, as warnings without stacks (one line per cause and minute, so maybe none after the tests before).
    for (const line of logged) expect([line.level, line.cause]).toEqual(['warn', expect.stringMatching(/^database_/)]);
    expect(JSON.stringify(bed.app.logs.lines.slice(logsBefore))).not.toMatch(/"stack"|"err"/);

    link.thaw();
    expect((await browser.request(`${bed.app.baseUrl}/api/me`)).status).toBe(200);
    expect((await start()).status).toBe(302);
  });

  it('drops a connection whose statement got no answer, instead of keeping it for the next query', async () => {
    const frozen = await TcpLink.to(database.url);
    const pool = new pg.Pool({
      connectionString: frozen.viaLink,
      Client: ClientDroppingStuckConnections,
      max: 1,
      query_timeout: 200,
    });
    try {
      const client = await pool.connect();
      // Dropped, it reports the end of its connection, as to TypeORM's listener on a connection it holds.
      client.on('error', () => undefined);
      const stuck = frozen.link.watchOpenConnections();
      frozen.link.freeze();
      // Still checked out: only the client itself can have let go of it.
      await expect(client.query('SELECT 1')).rejects.toThrow(QUERY_READ_TIMEOUT);
      await eventually(() => stuck.check());
      client.release(true);
    } finally {
      frozen.link.thaw();
      await pool.end();
      await frozen.link.cut();
    }
  });
});
