import { sandboxRegistration } from '../common/sandbox-registration.js';
import { startSignicatEherkenningSandbox } from './signicat-eherkenning-sandbox.js';

export const SIGNICAT_EHERKENNING_SANDBOX = sandboxRegistration({
  key: 'signicatEherkenning',
  provider: 'signicat-eherkenning',
  name: 'Signicat eHerkenning',
  start: startSignicatEherkenningSandbox,
  settings: ({ baseUrl, clientId, clientSecret }) => ({ baseUrl: new URL(baseUrl), clientId, clientSecret }),
});
