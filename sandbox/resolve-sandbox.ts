import { dirname, join, resolve } from 'node:path';
import type { Type } from '@nestjs/common';
import type { Logger } from 'pino';
import { sandboxPortalModule } from './sandbox-portal.module.js';
import type { SandboxInfo } from '../src/pages/common/sandbox-info.js';
import type { AppConfig } from '../src/app/app.config.js';
import { DIGIDENTITY_CALLBACK_PATH } from '../src/providers/digidentity/digidentity-login.service.js';
import { SIGNICAT_IDIN_CALLBACK_PATH } from '../src/providers/signicat-idin/signicat-idin-login.service.js';
import { startDigidentitySandbox } from './digidentity/digidentity-sandbox.js';
import { startSignicatIdinSandbox } from './signicat-idin/signicat-idin-sandbox.js';
import { ITSME_CALLBACK_PATH, ITSME_JWKS_PATH } from '../src/providers/itsme/itsme-login.service.js';
import { generateKey } from '../src/oidc/rp-keys.js';
import { startItsmeSandbox } from './itsme/itsme-sandbox.js';
import { startSignicatEherkenningSandbox } from './signicat-eherkenning/signicat-eherkenning-sandbox.js';

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
  const portalUrl = signIn;
  try {
    if (config.digidentity?.sandbox) {
      const sandbox = await startDigidentitySandbox({
        port: config.digidentity.sandboxPort,
        stateFile,
        portalUrl,
        redirectUris: [new URL(DIGIDENTITY_CALLBACK_PATH, config.http.publicBaseUrl).href],
      });
      closers.push(() => sandbox.close());
      logger.warn(
        { provider: 'digidentity', issuer: sandbox.issuer, personas: sandbox.personas.length },
        `SANDBOX — not for production: Digidentity is a local sandbox at ${sandbox.issuer}; anyone can sign in as any persona. Sign in at ${signIn}`,
      );
      info.providers.push({
        provider: 'digidentity',
        homeUrl: new URL('/', sandbox.issuer).href,
        personaHints: sandbox.personas.map((p) => `${p.label}: ${p.description}`),
      });
      resolved = {
        ...resolved,
        digidentity: {
          ...config.digidentity,
          issuer: new URL(sandbox.issuer),
          clientId: sandbox.clientId,
          clientSecret: sandbox.clientSecret,
          productScope: sandbox.productScope,
        },
      };
    }
    if (config.signicatIdin?.sandbox) {
      const sandbox = await startSignicatIdinSandbox({
        port: config.signicatIdin.sandboxPort,
        portalUrl,
        redirectUris: [new URL(SIGNICAT_IDIN_CALLBACK_PATH, config.http.publicBaseUrl).href],
      });
      closers.push(() => sandbox.close());
      logger.warn(
        { provider: 'signicat-idin', issuer: sandbox.issuer, personas: sandbox.personas.length },
        `SANDBOX — not for production: Signicat iDIN is a local sandbox at ${sandbox.issuer}; anyone can sign in as any persona. Sign in at ${signIn}`,
      );
      info.providers.push({
        provider: 'signicat-idin',
        homeUrl: new URL('/', sandbox.issuer).href,
        personaHints: sandbox.personas.map((p) => `${p.label}: ${p.description}`),
      });
      resolved = {
        ...resolved,
        signicatIdin: {
          ...config.signicatIdin,
          issuer: new URL(sandbox.issuer),
          clientId: sandbox.clientId,
          clientSecret: sandbox.clientSecret,
        },
      };
    }
    if (config.itsme?.sandbox) {
      const sandbox = await startItsmeSandbox({
        port: config.itsme.sandboxPort,
        stateFile,
        portalUrl,
        redirectUris: [new URL(ITSME_CALLBACK_PATH, config.http.publicBaseUrl).href],
        clientJwksUri: new URL(ITSME_JWKS_PATH, config.http.publicBaseUrl).href,
      });
      closers.push(() => sandbox.close());
      const ephemeral = config.itsme.signingKeys.length === 0 || config.itsme.encryptionKeys.length === 0;
      logger.warn(
        { provider: 'itsme', issuer: sandbox.issuer, personas: sandbox.personas.length, ephemeralKeys: ephemeral },
        `SANDBOX — not for production: itsme is a local sandbox at ${sandbox.issuer}; anyone can sign in as any persona.${
          ephemeral ? ' Our itsme signing/encryption keys are ephemeral (generated now, gone at exit).' : ''
        } Sign in at ${signIn}`,
      );
      info.providers.push({
        provider: 'itsme',
        homeUrl: new URL('/', sandbox.issuer).href,
        personaHints: sandbox.personas.map((p) => `${p.label}: ${p.description}`),
      });
      resolved = {
        ...resolved,
        itsme: {
          ...config.itsme,
          issuer: new URL(sandbox.issuer),
          clientId: sandbox.clientId,
          serviceCode: sandbox.serviceCode,
          signingKeys: config.itsme.signingKeys.length ? config.itsme.signingKeys : [generateKey('sig', 'sandbox-sig')],
          encryptionKeys: config.itsme.encryptionKeys.length
            ? config.itsme.encryptionKeys
            : [generateKey('enc', 'sandbox-enc')],
        },
      };
    }
    if (config.signicatEherkenning?.sandbox) {
      const sandbox = await startSignicatEherkenningSandbox({
        port: config.signicatEherkenning.sandboxPort,
        portalUrl,
      });
      closers.push(() => sandbox.close());
      logger.warn(
        { provider: 'signicat-eherkenning', baseUrl: sandbox.baseUrl, personas: sandbox.personas.length },
        `SANDBOX — not for production: Signicat eHerkenning is a local sandbox at ${sandbox.baseUrl}; anyone can sign in as any persona. Sign in at ${signIn}`,
      );
      info.providers.push({
        provider: 'signicat-eherkenning',
        homeUrl: new URL('/', sandbox.baseUrl).href,
        personaHints: sandbox.personas.map((p) => `${p.label}: ${p.description}`),
      });
      resolved = {
        ...resolved,
        signicatEherkenning: {
          ...config.signicatEherkenning,
          baseUrl: new URL(sandbox.baseUrl),
          clientId: sandbox.clientId,
          clientSecret: sandbox.clientSecret,
        },
      };
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
