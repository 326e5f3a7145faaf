import { SIGNICAT_IDIN_CALLBACK_PATH } from '../../src/providers/signicat-idin/signicat-idin-login.service.js';
import { sandboxRegistration } from '../common/sandbox-registration.js';
import { startSignicatIdinSandbox } from './signicat-idin-sandbox.js';

export const SIGNICAT_IDIN_SANDBOX = sandboxRegistration({
  key: 'signicatIdin',
  provider: 'signicat-idin',
  name: 'Signicat iDIN',
  callbackPath: SIGNICAT_IDIN_CALLBACK_PATH,
  start: startSignicatIdinSandbox,
  settings: ({ issuer, clientId, clientSecret }) => ({ issuer: new URL(issuer), clientId, clientSecret }),
});
