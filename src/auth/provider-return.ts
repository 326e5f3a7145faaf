import type { Request } from 'express';
import type { IdentityProvider } from '../common/identity-providers.js';
import type { SignOutHint } from '../login-transactions/sign-out-hints.repository.js';

/** What a callback request carries once its `state` was this browser's login at a provider (markProviderReturn). */
export interface ProviderReturn {
  provider: IdentityProvider;
  /** The login's ID token, once redeemed, where the provider offers a sign-out page (markProviderIdToken). */
  idToken?: string;
  /** The token with the handles it is kept under and replaces (ProviderLogout.signOutHint). */
  hint?: SignOutHint;
}

const PROVIDER_RETURN = Symbol('providerReturn');
type Marked = Request & { [PROVIDER_RETURN]?: ProviderReturn };

/**
 * This callback belongs to a login this browser started at `provider`: its state matched a login transaction of the
 * browser's binding. From then on the person may hold a single sign-on session there, whatever the login's outcome;
 * a callback URL another site sends the browser to (a state of no login of its) marks nothing.
 */
export function markProviderReturn(req: Request, provider: IdentityProvider): void {
  (req as Marked)[PROVIDER_RETURN] = { provider };
}

/**
 * The marked login's ID token, for the provider's sign-out page (`id_token_hint`): kept whatever the login's outcome
 * from here on, since the person signed in there.
 */
export function markProviderIdToken(req: Request, idToken: string): void {
  const marked = (req as Marked)[PROVIDER_RETURN];
  if (marked) marked.idToken = idToken;
}

/** What markProviderReturn and markProviderIdToken noted on this request, if anything (ProviderLogout.noteReturn). */
export function providerReturnOf(req: Request): ProviderReturn | undefined {
  return (req as Marked)[PROVIDER_RETURN];
}
