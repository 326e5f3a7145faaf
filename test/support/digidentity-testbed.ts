import type { JWK } from 'jose';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { startDigidentitySandbox, type DigidentitySandbox } from '../../sandbox/digidentity/digidentity-sandbox.js';
import type { Persona } from '../../sandbox/digidentity/personas.js';
import { PERSONAS } from '../../sandbox/digidentity/personas.js';
import { Browser, type BrowserResponse } from './browser.js';
import { freePort } from './free-port.js';
import { startTestApp, type TestApp } from './test-app.js';
import type { TestDatabase } from './test-database.js';

export const IOE = PERSONAS[0];
export const IOE_PA = PERSONAS[1];
export const RSSE = PERSONAS[2];

export interface DigidentityTestbed {
  app: TestApp;
  sandbox: DigidentitySandbox;
  /** Starts a web login in `browser` and stops at the callback (not delivered). */
  startWebLogin(browser: Browser, personaId: string, returnTo?: string): Promise<string>;
  /** The whole web login; returns the callback's response. */
  webLogin(browser: Browser, personaId: string, returnTo?: string): Promise<BrowserResponse>;
  close(): Promise<void>;
}

export interface TestbedOptions {
  personas?: Persona[];
  middleware?: Array<(ctx: KoaContextWithOIDC, next: () => Promise<void>) => Promise<void>>;
  signingKeys?: JWK[];
  env?: Record<string, string>;
  database?: TestDatabase;
  /** A second app instance on the same database and provider. */
  sandbox?: DigidentitySandbox;
  port?: number;
}

/** The real app on its own port, with Digidentity configured as a real provider pointing at a sandbox instance. */
export async function startDigidentityTestbed(options: TestbedOptions = {}): Promise<DigidentityTestbed> {
  const port = options.port ?? (await freePort());
  const sandbox =
    options.sandbox ??
    (await startDigidentitySandbox({
      redirectUris: [`http://localhost:${port}/auth/digidentity/callback`],
      personas: options.personas,
      middleware: options.middleware,
      signingKeys: options.signingKeys,
    }));
  const app = await startTestApp(
    {
      DIGIDENTITY_ENABLED: 'true',
      DIGIDENTITY_ISSUER: sandbox.issuer,
      DIGIDENTITY_CLIENT_ID: sandbox.clientId,
      DIGIDENTITY_CLIENT_SECRET: sandbox.clientSecret,
      DIGIDENTITY_PRODUCT_SCOPE: sandbox.productScope,
      OIDC_ALLOW_INSECURE_HTTP: 'true',
      OIDC_HTTP_TIMEOUT_MS: '2000',
      OIDC_JWKS_REFETCH_COOLDOWN_SECONDS: '0',
      DIGIDENTITY_PASSWORDLESS_POLL_INTERVAL_MS: '500',
      ...options.env,
    },
    { listen: port, database: options.database },
  );
  const isCallback = (url: string) => url.startsWith(`${app.baseUrl}/auth/digidentity/callback`);

  const startWebLogin = async (browser: Browser, personaId: string, returnTo = '/portal/home') => {
    const interaction = await browser.follow(
      `${app.baseUrl}/auth/digidentity/login?returnTo=${encodeURIComponent(returnTo)}`,
    );
    if (interaction.status !== 200)
      throw new Error(`login did not reach the persona page: ${interaction.status} ${interaction.body}`);
    const chosen = await browser.follow(`${interaction.url.replace(/\/$/, '')}/login`, isCallback, {
      form: { persona: personaId },
    });
    if (!chosen.location || !isCallback(chosen.location))
      throw new Error(`no callback after choosing the persona: ${chosen.status} ${chosen.body}`);
    return chosen.location;
  };

  return {
    app,
    sandbox,
    startWebLogin,
    webLogin: async (browser, personaId, returnTo) =>
      browser.request(await startWebLogin(browser, personaId, returnTo)),
    close: async () => {
      await app.close();
      if (!options.sandbox) await sandbox.close();
    },
  };
}
