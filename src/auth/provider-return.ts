import type { Request } from 'express';
import type { IdentityProvider } from '../common/identity-providers.js';

/** Set on a callback request once its `state` was this browser's login at that provider (markProviderReturn). */
const PROVIDER_RETURN = Symbol('providerReturn');

/**
 * This callback belongs to a login this browser started at `provider`: its state matched a login transaction of the
 * browser's binding. From then on the person may hold a single sign-on session there, whatever the login's outcome;
 * a callback URL another site sends the browser to (a state of no login of its) marks nothing.
 */
export function markProviderReturn(req: Request, provider: IdentityProvider): void {
  (req as Request & { [PROVIDER_RETURN]?: IdentityProvider })[PROVIDER_RETURN] = provider;
}

/** The provider markProviderReturn named on this request, if any (ProviderLogout.noteReturn). */
export function providerReturnOf(req: Request): IdentityProvider | undefined {
  return (req as Request & { [PROVIDER_RETURN]?: IdentityProvider })[PROVIDER_RETURN];
}
