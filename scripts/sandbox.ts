import { startDigidentitySandbox } from '../sandbox/digidentity/digidentity-sandbox.js';
import { startSignicatIdinSandbox } from '../sandbox/signicat-idin/signicat-idin-sandbox.js';
import { startSignicatEherkenningSandbox } from '../sandbox/signicat-eherkenning/signicat-eherkenning-sandbox.js';
import { DIGIDENTITY_CALLBACK_PATH } from '../src/providers/digidentity/digidentity-login.service.js';
import { SIGNICAT_IDIN_CALLBACK_PATH } from '../src/providers/signicat-idin/signicat-idin-login.service.js';
import { ITSME_CALLBACK_PATH, ITSME_JWKS_PATH } from '../src/providers/itsme/itsme-login.service.js';
import { generateKey, privateJwk } from '../src/oidc/rp-keys.js';
import { startItsmeSandbox } from '../sandbox/itsme/itsme-sandbox.js';
import { loadScriptConfig, runScript } from './cli-support.js';

/**
 * `npm run sandbox`: the Digidentity, Signicat iDIN, itsme and Signicat eHerkenning sandboxes on their own, for running
 * the backend against them as if they were the real providers (e.g. in another terminal, or on another machine).
 * Prints the settings.
 */
await runScript(async () => {
  // Every sandbox runs, so every provider's settings (its SANDBOX_*_PORT) count, enabled in the backend or not.
  const config = loadScriptConfig({
    DIGIDENTITY_ENABLED: 'true',
    SIGNICAT_IDIN_ENABLED: 'true',
    ITSME_ENABLED: 'true',
    SIGNICAT_EHERKENNING_ENABLED: 'true',
  });
  const host = process.env.SANDBOX_HOST ?? '127.0.0.1';
  const digidentity = await startDigidentitySandbox({
    port: config.digidentity!.sandboxPort,
    host,
    redirectUris: [new URL(DIGIDENTITY_CALLBACK_PATH, config.http.publicBaseUrl).href],
    clientSecret: process.env.SANDBOX_DIGIDENTITY_CLIENT_SECRET,
  });
  const idin = await startSignicatIdinSandbox({
    port: config.signicatIdin!.sandboxPort,
    host,
    redirectUris: [new URL(SIGNICAT_IDIN_CALLBACK_PATH, config.http.publicBaseUrl).href],
    clientSecret: process.env.SANDBOX_SIGNICAT_IDIN_CLIENT_SECRET,
  });
  const itsme = await startItsmeSandbox({
    port: config.itsme!.sandboxPort,
    host,
    redirectUris: [new URL(ITSME_CALLBACK_PATH, config.http.publicBaseUrl).href],
    clientJwksUri: new URL(ITSME_JWKS_PATH, config.http.publicBaseUrl).href,
  });
  // Throw-away keys for the backend's side of itsme (the sandbox reads their public halves from the backend's JWKS).
  const itsmeSigningKey = JSON.stringify(privateJwk(generateKey('sig', 'sandbox-sig')));
  const itsmeEncryptionKey = JSON.stringify(privateJwk(generateKey('enc', 'sandbox-enc')));
  const eherkenning = await startSignicatEherkenningSandbox({
    port: config.signicatEherkenning!.sandboxPort,
    host,
    clientSecret: process.env.SANDBOX_SIGNICAT_EHERKENNING_CLIENT_SECRET,
  });
  const settings = {
    ...digidentity.backendSettings,
    ...idin.backendSettings,
    ...itsme.backendSettings,
    ITSME_SIGNING_KEY: `'${itsmeSigningKey}'`,
    ITSME_ENCRYPTION_KEYS: `'${itsmeEncryptionKey}'`,
    ...eherkenning.backendSettings,
    OIDC_ALLOW_INSECURE_HTTP: 'true',
  };
  console.log(
    `SANDBOX — not for production. Digidentity sandbox at ${digidentity.issuer}, iDIN sandbox at ${idin.issuer}, ` +
      `itsme sandbox at ${itsme.issuer}, eHerkenning sandbox at ${eherkenning.baseUrl}.\nBackend settings:\n` +
      Object.entries(settings)
        .map(([name, value]) => `${name}=${value}`)
        .join('\n'),
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await Promise.all([digidentity.close(), idin.close(), itsme.close(), eherkenning.close()]);
});
