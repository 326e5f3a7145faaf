import { DIGIDENTITY_CALLBACK_PATH } from '../../src/providers/digidentity/digidentity-login.service.js';
import { sandboxRegistration } from '../common/sandbox-registration.js';
import { startDigidentitySandbox } from './digidentity-sandbox.js';

export const DIGIDENTITY_SANDBOX = sandboxRegistration({
  key: 'digidentity',
  provider: 'digidentity',
  name: 'Digidentity',
  callbackPath: DIGIDENTITY_CALLBACK_PATH,
  start: startDigidentitySandbox,
  settings: ({ issuer, clientId, clientSecret, productScope }) => ({
    issuer: new URL(issuer),
    clientId,
    clientSecret,
    productScope,
  }),
});
