import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort, runTypeScript } from '../support/spawn-process.js';
import { TcpLink } from '../support/tcp-link.js';
import { Browser } from '../support/browser.js';
import { IOE, RSSE } from '../support/digidentity-testbed.js';
import { createTestDatabase } from '../support/test-database.js';

function portAcceptsConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('the backend process', () => {
  let workDir: string;

  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'rmi-startup-'));
    // As root, Postgres runs as the postgres user, which must be able to enter the folder.
    await chmod(workDir, 0o755);
  });
  afterAll(async () => rm(workDir, { recursive: true, force: true }));

  it('refuses to start with an invalid configuration and names the variable', async () => {
    const backend = runTypeScript('src/main.ts', { PORT: 'eighty', SESSION_COOKIE_SECURE: 'perhaps' });
    expect(await backend.exited).toBe(1);
    expect(backend.stderr()).toContain('Invalid configuration');
    expect(backend.stderr()).toMatch(/PORT: .*integer/);
    expect(backend.stderr()).toMatch(/SESSION_COOKIE_SECURE: /);
  });

  it('starts on an embedded Postgres when DATABASE_URL is unset, keeps its data across restarts, and shuts down cleanly', async () => {
    const httpPort = await freePort();
    const pgPort = await freePort();
    const env = {
      PORT: String(httpPort),
      EMBEDDED_POSTGRES_DIR: join(workDir, 'pgdata'),
      EMBEDDED_POSTGRES_PORT: String(pgPort),
      SESSION_COOKIE_SECURE: 'false',
      DIGIDENTITY_ENABLED: 'false',
    };

    const first = runTypeScript('src/main.ts', env);
    await first.waitForLog((line) => line.msg === 'listening');
    expect(first.stdout()).toContain(`data in ${join(workDir, 'pgdata')}`);
    // Quiet by default: no line per module or route, and a missing favicon is no warning.
    expect(first.stdout()).not.toMatch(/Mapped \{|dependencies initialized/);
    expect(first.stdout().trim().split('\n').length).toBeLessThan(12);
    expect((await fetch(`http://127.0.0.1:${httpPort}/favicon.ico`)).status).toBe(404);
    const favicon = await first.waitForLog((line) => line.path === '/favicon.ico');
    expect(favicon.level).toBe('info');
    expect((await fetch(`http://127.0.0.1:${httpPort}/ready`)).status).toBe(200);

    const password = (await readFile(join(workDir, 'pgdata', 'password'), 'utf8')).trim();
    const client = new pg.Client({ connectionString: `postgres://postgres:${password}@127.0.0.1:${pgPort}/rmi` });
    await client.connect();
    await client.query(`INSERT INTO accounts (display_name) VALUES ('survives restarts')`);
    await client.end();

    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    await first.waitForLog((line) => line.msg === 'stopped');
    expect(await portAcceptsConnections(httpPort)).toBe(false);
    expect(await portAcceptsConnections(pgPort)).toBe(false);

    const second = runTypeScript('src/main.ts', env);
    try {
      await second.waitForLog((line) => line.msg === 'listening');
      expect(second.stdout()).not.toContain('initialising embedded Postgres');
      const again = new pg.Client({ connectionString: `postgres://postgres:${password}@127.0.0.1:${pgPort}/rmi` });
      await again.connect();
      const { rows } = await again.query(`SELECT display_name FROM accounts`);
      await again.end();
      expect(rows).toEqual([{ display_name: 'survives restarts' }]);
    } finally {
      second.child.kill('SIGINT');
      expect(await second.exited).toBe(0);
    }
  }, 180_000);

  it('finishes a request that is in flight when SIGTERM arrives, then exits', async () => {
    const database = await createTestDatabase();
    const { link, viaLink } = await TcpLink.to(database.url);
    const httpPort = await freePort();
    const backend = runTypeScript('src/main.ts', {
      PORT: String(httpPort),
      DATABASE_URL: viaLink,
      DIGIDENTITY_ENABLED: 'false',
      // The sealers query through the link every second: the query held in flight must be the request's.
      SERMI_LOG_SEAL_INTERVAL_MS: '0',
      AUDIT_SEAL_INTERVAL_MS: '0',
    });
    try {
      await backend.waitForLog((line) => line.msg === 'listening');
      // Opens the readiness check's connection first: through the slow link, opening it would take several round
      // trips of 500 ms, close to the check's own 2 s limit on a busy machine.
      expect((await fetch(`http://127.0.0.1:${httpPort}/ready`)).status).toBe(200);
      link.delayMs = 500;
      const queried = link.nextQuery();
      const inFlight = fetch(`http://127.0.0.1:${httpPort}/ready`);
      await queried;
      backend.child.kill('SIGTERM');
      await backend.waitForLog(
        (line) => line.msg === 'shutting down: no new connections, finishing in-flight requests',
      );
      const response = await inFlight;
      expect(response.status).toBe(200);
      expect(await backend.exited).toBe(0);
    } finally {
      backend.child.kill('SIGKILL');
      await link.cut();
      await database.drop();
    }
  }, 120_000);

  it('runs a Digidentity sandbox when no provider is configured, and a person can sign in by web login and by QR', async () => {
    const httpPort = await freePort();
    const base = `http://localhost:${httpPort}`;
    const backend = runTypeScript('src/main.ts', {
      PORT: String(httpPort),
      PUBLIC_BASE_URL: base,
      EMBEDDED_POSTGRES_DIR: join(workDir, 'pgdata-sandbox'),
      EMBEDDED_POSTGRES_PORT: String(await freePort()),
      SANDBOX_DIGIDENTITY_PORT: String(await freePort()),
    });
    try {
      await backend.waitForLog((line) => line.msg === 'listening');
      const banner = await backend.waitForLog((line) => String(line.msg).startsWith('SANDBOX — not for production'));
      expect(banner.level).toBe('warn');

      const web = new Browser();
      expect((await web.request(`${base}/sandbox`)).body).toContain('Sign in with Digidentity');
      const personaPage = await web.follow(`${base}/auth/digidentity/login?returnTo=/api/me`);
      expect(personaPage.body).toContain('IOE — Example IO employee');
      const signedIn = await web.follow(`${personaPage.url}/login`, () => false, { form: { persona: IOE.id } });
      expect(signedIn.url).toBe(`${base}/api/me`);
      expect(
        signedIn.json<{ links: Array<{ attributes: Record<string, string> }> }>().links[0].attributes,
      ).toMatchObject(IOE.claims);
      // The SERMI examples of docs/sermi.md#access-decisions answer on a fresh development database (its RMI items are
      // seeded).
      const decision = await web.request(`${base}/api/sermi/access`, {
        json: { vin: 'WVWZZZ1JZXW000001', item: 'IMMO_KEY_PROGRAMMING' },
        headers: { Origin: base, 'X-CSRF-Token': signedIn.json<{ csrfToken: string }>().csrfToken },
      });
      expect(decision.json()).toMatchObject({ decision: 'granted', item: { securityRelated: true } });

      const qr = new Browser();
      const started = (
        await qr.request(`${base}/auth/digidentity/passwordless`, { json: { returnTo: '/api/me' } })
      ).json<{ id: string; qrCodeUri: string }>();
      const confirmed = await qr.request(`${started.qrCodeUri}/confirm`, { form: { persona: RSSE.id } });
      expect(confirmed.status).toBe(200);
      expect((await qr.request(`${base}/auth/digidentity/passwordless/${started.id}`)).json()).toEqual({
        status: 'complete',
        returnTo: '/api/me',
      });
      const me = (await qr.request(`${base}/api/me`)).json<{
        session: { authContext: { sermi: { actorType: string } } };
      }>();
      expect(me.session.authContext.sermi.actorType).toBe('RSSE');
    } catch (error) {
      backend.child.kill('SIGKILL');
      throw new Error(`${String(error)}\nstdout:\n${backend.stdout().slice(-4000)}\nstderr:\n${backend.stderr()}`);
    }
    backend.child.kill('SIGTERM');
    const exitCode = await backend.exited;
    // Says why the exit was not clean (the last lines of the process), instead of only that it was not.
    expect({ exitCode, tail: exitCode === 0 ? '' : backend.stdout().slice(-2000) + backend.stderr() }).toEqual({
      exitCode: 0,
      tail: '',
    });
  }, 180_000);
});
