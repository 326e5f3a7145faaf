import { dirname, join, resolve } from 'node:path';
import type { Type } from '@nestjs/common';
import type { Logger } from 'pino';
import { sandboxPortalModule } from './sandbox-portal.module.js';
import type { SandboxInfo } from '../src/pages/common/sandbox-info.js';
import type { AppConfig, ProviderKey } from '../src/app/app.config.js';
import type { RunningSandbox, SandboxRegistration } from './common/sandbox-registration.js';
import { DIGIDENTITY_SANDBOX } from './digidentity/digidentity-registration.js';
import { ITSME_SANDBOX } from './itsme/itsme-registration.js';
import { SIGNICAT_EHERKENNING_SANDBOX } from './signicat-eherkenning/signicat-eherkenning-registration.js';
import { SIGNICAT_IDIN_SANDBOX } from './signicat-idin/signicat-idin-registration.js';

/** Every provider's sandbox, started in this order. */
const SANDBOXES = [
  DIGIDENTITY_SANDBOX,
  SIGNICAT_IDIN_SANDBOX,
  ITSME_SANDBOX,
  SIGNICAT_EHERKENNING_SANDBOX,
] as unknown as SandboxRegistration<ProviderKey, RunningSandbox>[];

export interface RunningSandboxes {
  config: AppConfig;
  /** The stand-in portal sign-in page at /sandbox. */
  modules: Type[];
  close(): Promise<void>;
}

/**
 * Development without credentials: every enabled provider without real settings gets a local sandbox provider,
 * and the config is pointed at it. Never called in production (loadConfig refuses that configuration).
 */
export async function resolveSandboxProviders(config: AppConfig, logger: Logger): Promise<RunningSandboxes> {
  if (config.env === 'production') return { config, modules: [], close: async () => undefined };
  let resolved = config;
  const closers: Array<() => Promise<void>> = [];
  const signIn = new URL('/sandbox', config.http.publicBaseUrl).href;
  const info: SandboxInfo = { providers: [] };
  // Re-created sandbox accounts live next to the database, which keeps the subjects they were re-bound to.
  const stateFile = join(dirname(resolve(config.database.embedded.dataDir)), 'sandbox-state.json');
  try {
    for (const registration of SANDBOXES) {
      const settings = config[registration.key];
      if (!settings?.sandbox) continue;
      const { publicBaseUrl } = config.http;
      const callback = registration.callbackPath ? [new URL(registration.callbackPath, publicBaseUrl).href] : [];
      const options = {
        port: settings.sandboxPort,
        stateFile,
        portalUrl: signIn,
        redirectUris: callback,
        publicBaseUrl,
      };
      const sandbox = await registration.start(options, settings);
      closers.push(() => sandbox.close());
      const url = 'issuer' in sandbox ? sandbox.issuer : sandbox.baseUrl;
      const warning = registration.warning?.(settings);
      logger.warn(
        {
          provider: registration.provider,
          ['issuer' in sandbox ? 'issuer' : 'baseUrl']: url,
          personas: sandbox.personas.length,
          ...warning?.fields,
        },
        `SANDBOX — not for production: ${registration.name} is a local sandbox at ${url}; anyone can sign in as any persona.${
          warning?.text ? ` ${warning.text}` : ''
        } Sign in at ${signIn}`,
      );
      info.providers.push({
        provider: registration.provider,
        homeUrl: new URL('/', url).href,
        personaHints: sandbox.personas.map((p) => `${p.label}: ${p.description}`),
      });
      resolved = { ...resolved, [registration.key]: { ...settings, ...registration.settings(sandbox, settings) } };
    }
  } catch (error) {
    // One sandbox started and the next failed (e.g. its port is taken): do not leave the first one running.
    await Promise.all(closers.map((close) => close()));
    throw error;
  }
  const close = async () => {
    await Promise.all(closers.map((closeOne) => closeOne()));
  };
  return { config: resolved, modules: closers.length > 0 ? [sandboxPortalModule(info)] : [], close };
}
