import { startDigidentitySandbox } from '../sandbox/digidentity/digidentity-sandbox.js';
import { startSignicatIdinSandbox } from '../sandbox/signicat-idin/signicat-idin-sandbox.js';
import { startSignicatEherkenningSandbox } from '../sandbox/signicat-eherkenning/signicat-eherkenning-sandbox.js';
import { DIGIDENTITY_CALLBACK_PATH } from '../src/providers/digidentity/digidentity-login.service.js';
import { SIGNICAT_IDIN_CALLBACK_PATH } from '../src/providers/signicat-idin/signicat-idin-login.service.js';
import { loadScriptConfig, runScript } from './cli-support.js';

/**
 * `npm run sandbox`: the Digidentity, Signicat iDIN and Signicat eHerkenning sandboxes on their own, for running the backend against
 * them as if they were the real providers (e.g. in another terminal, or on another machine). Prints the settings.
 */
await runScript(async () => {
  const config = loadScriptConfig();
  const host = process.env.SANDBOX_HOST ?? '127.0.0.1';
  const digidentity = await startDigidentitySandbox({
    port: config.digidentity?.sandboxPort ?? 3001,
    host,
    redirectUris: [new URL(DIGIDENTITY_CALLBACK_PATH, config.http.publicBaseUrl).href],
    clientSecret: process.env.SANDBOX_DIGIDENTITY_CLIENT_SECRET,
  });
  const idin = await startSignicatIdinSandbox({
    port: config.signicatIdin?.sandboxPort ?? 3002,
    host,
    redirectUris: [new URL(SIGNICAT_IDIN_CALLBACK_PATH, config.http.publicBaseUrl).href],
    clientSecret: process.env.SANDBOX_SIGNICAT_IDIN_CLIENT_SECRET,
  });
  const eherkenning = await startSignicatEherkenningSandbox({
    port: config.signicatEherkenning?.sandboxPort ?? 3003,
    host,
    clientSecret: process.env.SANDBOX_SIGNICAT_EHERKENNING_CLIENT_SECRET,
  });
  console.log(`SANDBOX — not for production. Digidentity sandbox at ${digidentity.issuer}, iDIN sandbox at ${idin.issuer}, eHerkenning sandbox at ${eherkenning.baseUrl}.
Backend settings:
DIGIDENTITY_ISSUER=${digidentity.issuer}
DIGIDENTITY_CLIENT_ID=${digidentity.clientId}
DIGIDENTITY_CLIENT_SECRET=${digidentity.clientSecret}
DIGIDENTITY_PRODUCT_SCOPE=${digidentity.productScope}
SIGNICAT_IDIN_ENABLED=true
SIGNICAT_IDIN_ISSUER=${idin.issuer}
SIGNICAT_IDIN_CLIENT_ID=${idin.clientId}
SIGNICAT_IDIN_CLIENT_SECRET=${idin.clientSecret}
SIGNICAT_EHERKENNING_ENABLED=true
SIGNICAT_EHERKENNING_BASE_URL=${eherkenning.baseUrl}
SIGNICAT_EHERKENNING_CLIENT_ID=${eherkenning.clientId}
SIGNICAT_EHERKENNING_CLIENT_SECRET=${eherkenning.clientSecret}
OIDC_ALLOW_INSECURE_HTTP=true`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await Promise.all([digidentity.close(), idin.close(), eherkenning.close()]);
});
