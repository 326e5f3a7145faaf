import { generateKey } from '../../src/oidc/rp-keys.js';
import { ITSME_CALLBACK_PATH, ITSME_JWKS_PATH } from '../../src/providers/itsme/itsme-login.service.js';
import { sandboxRegistration } from '../common/sandbox-registration.js';
import { startItsmeSandbox } from './itsme-sandbox.js';

const ephemeral = (settings: { signingKeys: unknown[]; encryptionKeys: unknown[] }) =>
  settings.signingKeys.length === 0 || settings.encryptionKeys.length === 0;

/** Without our own keys (ITSME_SIGNING_KEY, ITSME_ENCRYPTION_KEYS), the backend gets ephemeral ones. */
export const ITSME_SANDBOX = sandboxRegistration({
  key: 'itsme',
  provider: 'itsme',
  name: 'itsme',
  callbackPath: ITSME_CALLBACK_PATH,
  start: (options) =>
    startItsmeSandbox({ ...options, clientJwksUri: new URL(ITSME_JWKS_PATH, options.publicBaseUrl).href }),
  settings: (sandbox, { signingKeys, encryptionKeys }) => ({
    issuer: new URL(sandbox.issuer),
    clientId: sandbox.clientId,
    serviceCode: sandbox.serviceCode,
    signingKeys: signingKeys.length ? signingKeys : [generateKey('sig', 'sandbox-sig')],
    encryptionKeys: encryptionKeys.length ? encryptionKeys : [generateKey('enc', 'sandbox-enc')],
  }),
  warning: (settings) => ({
    text: ephemeral(settings) ? 'Our itsme signing/encryption keys are ephemeral (generated now, gone at exit).' : null,
    fields: { ephemeralKeys: ephemeral(settings) },
  }),
});
