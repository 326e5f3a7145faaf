import { startDigidentitySandbox } from '../sandbox/digidentity/digidentity-sandbox.js';
import { DIGIDENTITY_CALLBACK_PATH } from '../src/providers/digidentity/digidentity-login.service.js';
import { loadScriptConfig, runScript } from './cli-support.js';

/**
 * `npm run sandbox`: the Digidentity sandbox on its own, for running the backend against it as if it were the
 * real provider (e.g. in another terminal, or on another machine). Prints the settings to use.
 */
await runScript(async () => {
  const config = loadScriptConfig();
  const sandbox = await startDigidentitySandbox({
    port: config.digidentity?.sandboxPort ?? 3001,
    host: process.env.SANDBOX_HOST ?? '127.0.0.1',
    redirectUris: [new URL(DIGIDENTITY_CALLBACK_PATH, config.http.publicBaseUrl).href],
    clientSecret: process.env.SANDBOX_DIGIDENTITY_CLIENT_SECRET,
  });
  console.log(`SANDBOX — not for production. Digidentity sandbox at ${sandbox.issuer}. Backend settings:
DIGIDENTITY_ISSUER=${sandbox.issuer}
DIGIDENTITY_CLIENT_ID=${sandbox.clientId}
DIGIDENTITY_CLIENT_SECRET=${sandbox.clientSecret}
DIGIDENTITY_PRODUCT_SCOPE=${sandbox.productScope}
OIDC_ALLOW_INSECURE_HTTP=true`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await sandbox.close();
});
