import { expect } from '@jest/globals';
import type { Type } from '@nestjs/common';
import type { JWK } from 'jose';
import { startDigidentitySandbox, type DigidentitySandbox } from '../../sandbox/digidentity/digidentity-sandbox.js';
import type { Persona } from '../../sandbox/digidentity/personas.js';
import { PERSONAS } from '../../sandbox/digidentity/personas.js';
import { Browser, type BrowserResponse } from './browser.js';
import { reachCallback } from './web-login.js';
import { freePort } from './free-port.js';
import { hostileProvider, type HostileControl } from './hostile-provider.js';
import { startTestApp, type TestApp } from './test-app.js';
import type { TestDatabase } from './test-database.js';

export const IOE = PERSONAS[0];
export const IOE_PA = PERSONAS[1];
export const RSSE = PERSONAS[2];

/** An IOE of a test's own at the sandbox: IOE's claims with its own subject and IOEUID (hence person key). */
export function newIoePersona(sandbox: DigidentitySandbox, id: string, ioeuid: string): Persona {
  const persona = { ...IOE, id, claims: { ...IOE.claims, ioeuid } };
  sandbox.personas.push(persona);
  return persona;
}

export interface DigidentityTestbed {
  app: TestApp;
  sandbox: DigidentitySandbox;
  /** Set `hostile.hostility` to make the provider misbehave; `hostile.requests` lists what it received. */
  hostile: HostileControl;
  /** Starts a web login in `browser` and stops at the callback (not delivered). */
  startWebLogin(browser: Browser, personaId: string, returnTo?: string): Promise<string>;
  /** The whole web login; returns the callback's response. */
  webLogin(browser: Browser, personaId: string, returnTo?: string): Promise<BrowserResponse>;
  /** A new browser signed in through the sandbox, with its session id and the headers a same-origin write sends. */
  signedInBrowser(personaId: string): Promise<SignedInBrowser>;
  close(): Promise<void>;
}

export interface SignedInBrowser {
  browser: Browser;
  sessionId: string;
  headers: Record<string, string>;
}

export interface TestbedOptions {
  personas?: Persona[];
  signingKeys?: JWK[];
  /** Share the hostile control of another testbed (with `sandbox`). */
  hostile?: HostileControl;
  env?: Record<string, string>;
  database?: TestDatabase;
  /** Where the app reaches `database` (e.g. through a TcpLink); default: its own URL. */
  databaseUrl?: string;
  /** A second app instance on the same database and provider. */
  sandbox?: DigidentitySandbox;
  port?: number;
  /** Test-only routes (e.g. one guarded by @RequiresSermi()). */
  extraModules?: Type[];
}

/** The real app on its own port, with Digidentity configured as a real provider pointing at a sandbox instance. */
export async function startDigidentityTestbed(options: TestbedOptions = {}): Promise<DigidentityTestbed> {
  const port = options.port ?? (await freePort());
  let sandboxRef: DigidentitySandbox | undefined;
  const hostile = options.hostile ?? hostileProvider(() => sandboxRef!.signingKeys[0]);
  const sandbox =
    options.sandbox ??
    (await startDigidentitySandbox({
      redirectUris: [`http://localhost:${port}/auth/digidentity/callback`],
      personas: options.personas,
      middleware: [hostile.middleware],
      signingKeys: options.signingKeys,
    }));
  sandboxRef = sandbox;
  const app = await startTestApp(
    {
      ...sandbox.backendSettings,
      OIDC_ALLOW_INSECURE_HTTP: 'true',
      OIDC_HTTP_TIMEOUT_MS: '2000',
      OIDC_JWKS_REFETCH_COOLDOWN_SECONDS: '0',
      DIGIDENTITY_PASSWORDLESS_POLL_INTERVAL_MS: '500',
      ...options.env,
    },
    { listen: port, database: options.database, databaseUrl: options.databaseUrl, extraModules: options.extraModules },
  );
  const startWebLogin = (browser: Browser, personaId: string, returnTo?: string) =>
    reachCallback(browser, app.baseUrl, personaId, returnTo);
  const webLogin = async (browser: Browser, personaId: string, returnTo?: string) =>
    browser.request(await startWebLogin(browser, personaId, returnTo));

  return {
    app,
    sandbox,
    hostile,
    startWebLogin,
    webLogin,
    signedInBrowser: async (personaId) => {
      const browser = new Browser();
      expect((await webLogin(browser, personaId)).status).toBe(302);
      const me = (await browser.request(`${app.baseUrl}/api/me`)).json<{
        csrfToken: string;
        session: { id: string };
      }>();
      return { browser, sessionId: me.session.id, headers: { Origin: app.baseUrl, 'X-CSRF-Token': me.csrfToken } };
    },
    close: async () => {
      await app.close();
      if (!options.sandbox) await sandbox.close();
    },
  };
}

export interface Footprint {
  accounts: number;
  links: number;
  sessions: number;
  pending: number;
}

/** What a login can leave behind: compare before and after a refused login. */
export async function footprint(bed: DigidentityTestbed): Promise<Footprint> {
  const [row] = await bed.app.dataSource.query(
    `SELECT (SELECT count(*)::int FROM accounts) AS accounts, (SELECT count(*)::int FROM identity_links) AS links,
            (SELECT count(*)::int FROM sessions) AS sessions, (SELECT count(*)::int FROM pending_identities) AS pending`,
  );
  return row;
}

/** The login failures audited so far, newest last. */
export async function loginFailures(bed: DigidentityTestbed): Promise<Array<Record<string, unknown>>> {
  const rows: Array<{ details: Record<string, unknown> }> = await bed.app.dataSource.query(
    `SELECT details FROM audit_events WHERE type = 'auth.login_failed' ORDER BY seq`,
  );
  return rows.map((row) => row.details);
}

/** The error page a refused browser login lands on: LOGIN_ERROR_URL?code=… */
export function errorPage(bed: DigidentityTestbed, code: string): string {
  return `${bed.app.baseUrl}/auth/login-error?code=${code}`;
}

/** The page a login held as a pending identity lands on: LOGIN_PENDING_URL?code=identity_pending&reference=… */
export function pendingPage(bed: { app: { baseUrl: string } }): string {
  return expect.stringMatching(
    new RegExp(`^${bed.app.baseUrl}/pending\\?code=identity_pending&reference=[0-9A-F]{4}-[0-9A-F]{4}$`),
  ) as unknown as string;
}
