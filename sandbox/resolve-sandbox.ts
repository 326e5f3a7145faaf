import type { Type } from '@nestjs/common';
import type { Logger } from 'pino';
import { SandboxPortalModule } from './sandbox-portal.module.js';
import type { AppConfig } from '../src/config/app.config.js';
import { DIGIDENTITY_CALLBACK_PATH } from '../src/providers/digidentity/digidentity-login.service.js';
import { startDigidentitySandbox } from './digidentity/digidentity-sandbox.js';

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
  if (!config.digidentity?.sandbox || config.env === 'production')
    return { config, modules: [], close: async () => undefined };
  const sandbox = await startDigidentitySandbox({
    port: config.digidentity.sandboxPort,
    redirectUris: [new URL(DIGIDENTITY_CALLBACK_PATH, config.http.publicBaseUrl).href],
  });
  logger.warn(
    { provider: 'digidentity', issuer: sandbox.issuer, personas: sandbox.personas.length },
    `SANDBOX — not for production: Digidentity is a local sandbox at ${sandbox.issuer}; anyone can sign in as any persona. Sign in at ${new URL('/sandbox', config.http.publicBaseUrl).href}`,
  );
  return {
    config: {
      ...config,
      digidentity: {
        ...config.digidentity,
        issuer: new URL(sandbox.issuer),
        clientId: sandbox.clientId,
        clientSecret: sandbox.clientSecret,
        productScope: sandbox.productScope,
      },
    },
    modules: [SandboxPortalModule],
    close: () => sandbox.close(),
  };
}
