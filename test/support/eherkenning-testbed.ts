import { startDigidentitySandbox, type DigidentitySandbox } from '../../sandbox/digidentity/digidentity-sandbox.js';
import type { Persona } from '../../sandbox/digidentity/personas.js';
import type { EherkenningPersona } from '../../sandbox/signicat-eherkenning/personas.js';
import {
  startSignicatEherkenningSandbox,
  type SignicatEherkenningSandbox,
} from '../../sandbox/signicat-eherkenning/signicat-eherkenning-sandbox.js';
import type { Browser, BrowserResponse } from './browser.js';
import { freePort } from './free-port.js';
import { startTestApp, type TestApp } from './test-app.js';
import { reachProviderCallback } from './web-login.js';

export const EHERKENNING_CALLBACK = '/auth/signicat-eherkenning/callback';
const DIGIDENTITY_CALLBACK = '/auth/digidentity/callback';

export interface EherkenningTestbedOptions {
  eherkenningPersonas?: EherkenningPersona[];
  digidentityPersonas?: Persona[];
  /** More app settings, e.g. SIGNICAT_EHERKENNING_UNKNOWN_IDENTITY_POLICY. */
  env?: Record<string, string>;
}

export interface EherkenningTestbed {
  /** One app with Digidentity and Signicat eHerkenning, each pointing at its own sandbox as if it were real. */
  app: TestApp;
  eherkenning: SignicatEherkenningSandbox;
  digidentity: DigidentitySandbox;
  /** Starts an eHerkenning login in `browser` and stops at the callback (not delivered); returns its URL. */
  reachEherkenningCallback(browser: Browser, personaId: string, returnTo?: string): Promise<string>;
  /** The whole eHerkenning login; returns the callback's response. */
  eherkenningLogin(browser: Browser, personaId: string, returnTo?: string): Promise<BrowserResponse>;
  digidentityLogin(browser: Browser, personaId: string): Promise<BrowserResponse>;
  close(): Promise<void>;
}

export async function startEherkenningTestbed(options: EherkenningTestbedOptions = {}): Promise<EherkenningTestbed> {
  const port = await freePort();
  const baseUrl = `http://localhost:${port}`;
  const [eherkenning, digidentity] = await Promise.all([
    startSignicatEherkenningSandbox({ personas: options.eherkenningPersonas }),
    startDigidentitySandbox({
      redirectUris: [`${baseUrl}${DIGIDENTITY_CALLBACK}`],
      personas: options.digidentityPersonas,
    }),
  ]);
  let app: TestApp;
  try {
    app = await startTestApp(
      {
        ...digidentity.backendSettings,
        ...eherkenning.backendSettings,
        OIDC_ALLOW_INSECURE_HTTP: 'true',
        OIDC_HTTP_TIMEOUT_MS: '2000',
        ...options.env,
      },
      { listen: port },
    );
  } catch (error) {
    await Promise.all([eherkenning.close(), digidentity.close()]);
    throw error;
  }
  const reachEherkenningCallback = (browser: Browser, personaId: string, returnTo = '/portal/home') =>
    reachProviderCallback(
      browser,
      `${baseUrl}/auth/signicat-eherkenning/login?returnTo=${encodeURIComponent(returnTo)}`,
      personaId,
      `${baseUrl}${EHERKENNING_CALLBACK}`,
    );
  return {
    app,
    eherkenning,
    digidentity,
    reachEherkenningCallback,
    eherkenningLogin: async (browser, personaId, returnTo) =>
      browser.request(await reachEherkenningCallback(browser, personaId, returnTo)),
    digidentityLogin: async (browser, personaId) =>
      browser.request(
        await reachProviderCallback(
          browser,
          `${baseUrl}/auth/digidentity/login?returnTo=/portal/home`,
          personaId,
          `${baseUrl}${DIGIDENTITY_CALLBACK}`,
        ),
      ),
    close: async () => {
      await app.close();
      await Promise.all([eherkenning.close(), digidentity.close()]);
    },
  };
}
