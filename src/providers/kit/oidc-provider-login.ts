import type { OnModuleDestroy } from '@nestjs/common';
import type { Request } from 'express';
import type { ClientMeta, LoginIntent, ProviderLoginStarter } from '../../auth/login-starters.js';
import type { VerifiedLogin } from '../../auth/verified-login.js';
import type { IdentityProvider } from '../../common/identity-providers.js';
import type { StoredLoginTransaction } from '../../login-transactions/login-transactions.service.js';
import type { OidcClient, VerifiedTokens } from '../../oidc/oidc-client.js';
import type { CodeFlowSettings, OidcCodeFlow } from './oidc-code-flow.js';
import type { ProviderLoginKit } from './provider-login-kit.js';

/**
 * The login service of an OIDC provider, all but what is the provider's own: its code flow (registered as the
 * provider's login starter, closed with the module), RP-initiated logout, and the two steps of the web login. A
 * provider adds the authorization parameters (`authorizationParameters`) and turns the verified tokens into a login
 * (`verify`: user-info and its claim rules).
 */
export abstract class OidcProviderLogin<P extends IdentityProvider> implements OnModuleDestroy, ProviderLoginStarter {
  readonly provider: P;
  readonly client: OidcClient;
  protected readonly flow: OidcCodeFlow;

  constructor(
    protected readonly kit: ProviderLoginKit,
    settings: CodeFlowSettings & { provider: P },
  ) {
    this.provider = settings.provider;
    this.flow = kit.codeFlow(this, settings);
    this.client = this.flow.client;
  }

  onModuleDestroy() {
    this.flow.close();
  }

  get providerLogout(): OidcCodeFlow {
    return this.flow;
  }

  /** Scope and the provider's own parameters of the authorization request. */
  protected abstract authorizationParameters(): Record<string, string>;

  /** The provider's checks of the verified tokens (user-info, claims), ending in the login. */
  protected abstract verify(tokens: VerifiedTokens, transaction: StoredLoginTransaction): Promise<VerifiedLogin>;

  /**
   * Step 1: the provider's login page for this intent. Nothing is stored when the provider is unreachable. Link and
   * re-authentication intents ask for a fresh authentication, never an existing single sign-on session.
   */
  startRedirect(intent: LoginIntent, meta: ClientMeta): Promise<URL> {
    return this.flow.start(intent, meta, this.authorizationParameters());
  }

  asksNewSignInIfSomeoneLeft(intent: LoginIntent): boolean {
    return this.flow.asksNewSignInIfSomeoneLeft(intent);
  }

  /** Step 2: the callback. The login transaction is taken once before the provider is called (OidcCodeFlow). */
  completeWebLogin(req: Request, browserBinding: string | undefined, meta: ClientMeta): Promise<VerifiedLogin> {
    return this.flow.complete(req, browserBinding, meta, (tokens, transaction) => this.verify(tokens, transaction));
  }
}
