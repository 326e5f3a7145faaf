import { UUID_PATTERN } from '../../common/http/cursor.js';
import { LoginFailure } from '../../common/problem/login-failure.js';
import { OidcCallbackStrategy, ProviderStrategy } from '../kit/provider-passport.js';
import { DigidentityLoginService } from './digidentity-login.service.js';

/** Web login callback: verifies Digidentity's answer and yields the VerifiedLogin (Passport strategy `digidentity`). */
export const DigidentityWebStrategy = OidcCallbackStrategy('digidentity', DigidentityLoginService);

/** Passwordless poll: yields the poll outcome, a VerifiedLogin once confirmed (strategy `digidentity-passwordless`). */
export const DigidentityPasswordlessStrategy = ProviderStrategy(
  'digidentity-passwordless',
  DigidentityLoginService,
  (logins, req, browserBinding, meta) => {
    const id = req.params.id;
    if (typeof id !== 'string' || !UUID_PATTERN.test(id)) {
      throw new LoginFailure('passwordless_not_found', 'no passwordless login with this id');
    }
    return logins.pollPasswordless(id.toLowerCase(), browserBinding, meta);
  },
);
