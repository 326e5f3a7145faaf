import { type CanActivate, Inject, Injectable, mixin, type Type } from '@nestjs/common';
import { AuthGuard, PassportStrategy } from '@nestjs/passport';
import type { Request } from 'express';
import type { ClientMeta } from '../../auth/login-starters.js';
import { RequestStrategy } from '../../auth/request-strategy.js';
import { clientMeta } from '../../common/http/client-meta.js';
import { LoginFailure } from '../../common/problem/login-failure.js';
import { BrowserBinding } from '../../login-transactions/browser-binding.js';
import type { IdentityProvider } from '../../common/identity-providers.js';
import type { OidcProviderLogin } from './oidc-provider-login.js';

const guards = new Map<string, Type<CanActivate>>();

/**
 * The guard of a provider route that a Passport strategy verifies: it lets the strategy's LoginFailure through as
 * it is, instead of Passport's generic 401. One class per strategy name.
 */
export function LoginGuard(strategy: string): Type<CanActivate> {
  let guard = guards.get(strategy);
  if (!guard) {
    class ProviderLoginGuard extends AuthGuard(strategy) {
      override handleRequest<T>(error: unknown, result: T): T {
        if (error) throw error;
        if (!result) throw new LoginFailure('login_state_invalid', 'the login could not be verified');
        return result;
      }
    }
    guard = mixin(ProviderLoginGuard);
    guards.set(strategy, guard);
  }
  return guard;
}

/** What a strategy does with a request: the provider service's check, with the browser binding and client meta. */
export type StrategyCheck<S> = (
  service: S,
  req: Request,
  browserBinding: string | undefined,
  meta: ClientMeta,
) => Promise<unknown>;

/**
 * The Passport strategy `name`: it hands the request to the provider's login service (`check`), whose result
 * becomes `req.user` (a VerifiedLogin on a callback), and whose LoginFailure the guard passes on.
 */
export function ProviderStrategy<S>(name: string, service: Type<S>, check: StrategyCheck<S>): Type {
  @Injectable()
  class ProviderPassportStrategy extends PassportStrategy(RequestStrategy, name) {
    constructor(
      @Inject(service) private readonly logins: S,
      @Inject(BrowserBinding) private readonly binding: BrowserBinding,
    ) {
      super();
    }

    validate(req: Request): Promise<unknown> {
      return check(this.logins, req, this.binding.read(req), clientMeta(req));
    }
  }
  return ProviderPassportStrategy;
}

/** The callback strategy of an OIDC provider: its login service's second step of the web login. */
export function OidcCallbackStrategy<S extends OidcProviderLogin<IdentityProvider>>(
  name: string,
  service: Type<S>,
): Type {
  return ProviderStrategy(name, service, (logins, req, browserBinding, meta) =>
    logins.completeWebLogin(req, browserBinding, meta),
  );
}
