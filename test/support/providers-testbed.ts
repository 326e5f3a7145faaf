import { decodeJwt } from 'jose';
import { IDENTITY_PROVIDERS } from '../../src/common/identity-providers.js';
import { hashSignOutHandle } from '../../src/login-transactions/sign-out-hints.repository.js';
import type { Type } from '@nestjs/common';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { startDigidentitySandbox, type DigidentitySandbox } from '../../sandbox/digidentity/digidentity-sandbox.js';
import type { Persona } from '../../sandbox/digidentity/personas.js';
import {
  startSignicatIdinSandbox,
  type SignicatIdinSandbox,
} from '../../sandbox/signicat-idin/signicat-idin-sandbox.js';
import { IDIN_PERSONAS, type IdinPersona } from '../../sandbox/signicat-idin/personas.js';
import type { Browser, BrowserResponse } from './browser.js';
import { reachProviderCallback } from './web-login.js';

export { reachProviderCallback };
import {
  type DigidentityTestbed,
  errorPage as digidentityErrorPage,
  footprint as digidentityFootprint,
  type Footprint,
  loginFailures as digidentityLoginFailures,
  pendingPage,
} from './digidentity-testbed.js';

export { pendingPage };
import { freePort } from './free-port.js';
import { hostileProvider, type HostileControl } from './hostile-provider.js';
import { startTestApp, type TestApp } from './test-app.js';
import type { TestDatabase } from './test-database.js';

export const IDIN_VRIES = IDIN_PERSONAS[0];
export const IDIN_BAKKER = IDIN_PERSONAS[1];
export const IDIN_MINOR = IDIN_PERSONAS[2];

/** A person of a test's own at the iDIN sandbox: IDIN_VRIES with subject `id` and any `claims` given. */
export function newIdinPersona(bed: ProvidersTestbed, id: string, claims: IdinPersona['claims'] = {}): IdinPersona {
  const persona = { ...IDIN_VRIES, id, claims: { ...IDIN_VRIES.claims, ...claims } };
  bed.idin.personas.push(persona);
  return persona;
}

export const DIGIDENTITY_CALLBACK = '/auth/digidentity/callback';
export const IDIN_CALLBACK = '/auth/signicat-idin/callback';

/**
 * The cookie a sign-out leaves in the browser, which makes its next logins demand a new sign-in at the provider
 * (SessionCookie.leftHere). Tests of what the completion does with a single sign-on answer remove it: as the
 * next person at a shared PC can, or as a browser never had it whose previous person just walked away.
 */
export const SIGNED_OUT_MARKER = '__Host-rmi_signed_out';
/** The note that this browser came back from `provider`, whose sign-out page its next sign-out visits (ProviderLogout). */
export const providerNote = (provider: string) => `__Host-rmi_signed_in_${provider}`;

/** Ways the iDIN sandbox can misbehave, set per test (it rewrites the real provider's answers on their way out). */
export interface IdinHostility {
  userinfo?: (body: Record<string, unknown>) => Record<string, unknown>;
}

export interface ProvidersTestbedOptions {
  /** Digidentity sandbox people (default: its PERSONAS). */
  digidentityPersonas?: Persona[];
  /** iDIN sandbox people (default: IDIN_PERSONAS). */
  idinPersonas?: IdinPersona[];
  /** More app settings, e.g. SIGNICAT_IDIN_UNKNOWN_IDENTITY_POLICY or LINK_RECENT_AUTH_SECONDS. */
  env?: Record<string, string>;
  database?: TestDatabase;
  port?: number;
  /** Test-only routes. */
  extraModules?: Type[];
}

export interface ProvidersTestbed {
  /** One app with both Digidentity and Signicat iDIN configured as real providers against their sandboxes. */
  app: TestApp;
  digidentity: DigidentitySandbox;
  idin: SignicatIdinSandbox;
  /** Set `digidentityHostile.hostility` to make Digidentity misbehave; `.requests` lists the paths it received. */
  digidentityHostile: HostileControl;
  /** Set to make the iDIN sandbox misbehave; reset it after the test. */
  idinHostility: IdinHostility;
  /** Every path the iDIN sandbox's provider received, below its /auth/open mount path (e.g. /connect/token). */
  idinRequests: string[];
  /** Starts a Digidentity web login in `browser` (GET /auth/digidentity/login) and stops at the callback. */
  reachDigidentityCallback(browser: Browser, personaId: string, returnTo?: string): Promise<string>;
  /** Starts an iDIN login in `browser` (GET /auth/signicat-idin/login) and stops at the callback (not delivered). */
  reachIdinCallback(browser: Browser, personaId: string, returnTo?: string): Promise<string>;
  /** The whole Digidentity web login; returns the callback's response. */
  digidentityLogin(browser: Browser, personaId: string, returnTo?: string): Promise<BrowserResponse>;
  /** The whole iDIN login; returns the callback's response. */
  idinLogin(browser: Browser, personaId: string, returnTo?: string): Promise<BrowserResponse>;
  close(): Promise<void>;
}

/** The real app on its own port with Digidentity and Signicat iDIN, each pointing at its own sandbox. */
export async function startProvidersTestbed(options: ProvidersTestbedOptions = {}): Promise<ProvidersTestbed> {
  const port = options.port ?? (await freePort());
  const baseUrl = `http://localhost:${port}`;
  let digidentityRef: DigidentitySandbox | undefined;
  const digidentityHostile = hostileProvider(() => digidentityRef!.signingKeys[0]);
  const idinRequests: string[] = [];
  const bed = { idinHostility: {} as IdinHostility };
  const idinMiddleware = async (ctx: KoaContextWithOIDC, next: () => Promise<void>) => {
    idinRequests.push(ctx.path);
    await next();
    const rewrite = bed.idinHostility.userinfo;
    if (ctx.path === '/connect/userinfo' && ctx.status === 200 && rewrite && ctx.body)
      ctx.body = rewrite({ ...(ctx.body as Record<string, unknown>) });
  };

  const [digidentity, idin] = await Promise.all([
    startDigidentitySandbox({
      redirectUris: [`${baseUrl}${DIGIDENTITY_CALLBACK}`],
      personas: options.digidentityPersonas,
      middleware: [digidentityHostile.middleware],
    }),
    startSignicatIdinSandbox({
      redirectUris: [`${baseUrl}${IDIN_CALLBACK}`],
      personas: options.idinPersonas,
      middleware: [idinMiddleware],
    }),
  ]);
  digidentityRef = digidentity;
  let app: TestApp;
  try {
    app = await startTestApp(
      {
        ...digidentity.backendSettings,
        DIGIDENTITY_PASSWORDLESS_POLL_INTERVAL_MS: '500',
        ...idin.backendSettings,
        OIDC_ALLOW_INSECURE_HTTP: 'true',
        OIDC_HTTP_TIMEOUT_MS: '2000',
        OIDC_JWKS_REFETCH_COOLDOWN_SECONDS: '0',
        ...options.env,
      },
      { listen: port, database: options.database, extraModules: options.extraModules },
    );
  } catch (error) {
    await Promise.all([digidentity.close(), idin.close()]);
    throw error;
  }

  const reachDigidentityCallback = (browser: Browser, personaId: string, returnTo = '/portal/home') =>
    reachProviderCallback(
      browser,
      `${baseUrl}/auth/digidentity/login?returnTo=${encodeURIComponent(returnTo)}`,
      personaId,
      `${baseUrl}${DIGIDENTITY_CALLBACK}`,
    );
  const reachIdinCallback = (browser: Browser, personaId: string, returnTo = '/portal/home') =>
    reachProviderCallback(
      browser,
      `${baseUrl}/auth/signicat-idin/login?returnTo=${encodeURIComponent(returnTo)}`,
      personaId,
      `${baseUrl}${IDIN_CALLBACK}`,
    );

  return Object.assign(bed, {
    app,
    digidentity,
    idin,
    digidentityHostile,
    idinRequests,
    reachDigidentityCallback,
    reachIdinCallback,
    digidentityLogin: async (browser: Browser, personaId: string, returnTo?: string) =>
      browser.request(await reachDigidentityCallback(browser, personaId, returnTo)),
    idinLogin: async (browser: Browser, personaId: string, returnTo?: string) =>
      browser.request(await reachIdinCallback(browser, personaId, returnTo)),
    close: async () => {
      await app.close();
      await Promise.all([digidentity.close(), idin.close()]);
    },
  });
}

// The Digidentity testbed's helpers read only `bed.app`; these take any testbed.
type WithApp = { app: TestApp };

/** What a login can leave behind: compare before and after a refused login. */
export const footprint = (bed: WithApp): Promise<Footprint> => digidentityFootprint(bed as DigidentityTestbed);

/** The login failures audited so far (any provider), newest last. */
export const loginFailures = (bed: WithApp) => digidentityLoginFailures(bed as DigidentityTestbed);

/** The error page a refused browser login lands on: LOGIN_ERROR_URL?code=… */
export const errorPage = (bed: WithApp, code: string) => digidentityErrorPage(bed as DigidentityTestbed, code);

/**
 * Confirms on a provider's sign-out page (RP-initiated logout, the sandboxes' "Yes, sign me out"); answers where the
 * provider sends the browser back to the portal at `base`.
 */
export async function confirmProviderSignOut(
  browser: Browser,
  base: string,
  providerLogoutUrl: string,
): Promise<string> {
  const confirm = await browser.request(providerLogoutUrl);
  if (confirm.status !== 200) throw new Error(`no sign-out page at ${providerLogoutUrl}: ${confirm.status}`);
  const action = /<form[^>]*id="op.logoutForm"[^>]*action="([^"]+)"/.exec(confirm.body)?.[1];
  const xsrf = /name="xsrf" value="([^"]+)"/.exec(confirm.body)?.[1];
  const back = await browser.follow(new URL(action!, providerLogoutUrl).href, (next) => next.startsWith(base), {
    form: { xsrf: xsrf!, logout: 'yes' },
  });
  if (!back.location?.startsWith(base))
    throw new Error(`the provider kept the browser on its page: ${back.status} at ${back.url}`);
  return back.location;
}

/** A note's value when it holds a handle to the login's kept ID token (ProviderLogout). */
export const NOTE_HANDLE = /^[A-Za-z0-9_-]{32}$/;

/** The issuer an ID token names (unverified: to tell which provider's token a sign-out URL carries). */
export const idTokenIssuer = (idToken: string | null) => (idToken ? decodeJwt(idToken).iss : undefined);

/**
 * The ID tokens kept for this browser's next sign-out (`sign_out_hints`, under the handles of its provider notes),
 * by the provider each was kept for.
 */
export async function keptSignOutTokens(bed: WithApp, browser: Browser): Promise<Record<string, string>> {
  const handles = IDENTITY_PROVIDERS.flatMap(
    (provider) => browser.cookie(bed.app.baseUrl, providerNote(provider)) ?? [],
  );
  const rows = await bed.app.dataSource.query<{ provider: string; id_token: string }[]>(
    `SELECT provider, id_token FROM sign_out_hints WHERE handle_hash = ANY($1) ORDER BY provider`,
    [handles.map(hashSignOutHandle)],
  );
  return Object.fromEntries(rows.map((row) => [row.provider, row.id_token]));
}
