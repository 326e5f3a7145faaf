import { hash } from 'node:crypto';
import type { Request } from 'express';
import * as client from 'openid-client';
import { markProviderIdToken, markProviderReturn } from '../../auth/provider-return.js';
import {
  type ClientMeta,
  authenticationAgeParameters,
  demandsNewSignIn,
  FRESH_SIGN_IN,
  intentData,
  type LoginIntent,
  type ProviderSessionLogout,
} from '../../auth/login-starters.js';
import { signedInDuringLogin, type VerifiedLogin } from '../../auth/verified-login.js';
import type { IdentityProvider } from '../../common/identity-providers.js';
import type {
  LoginTransactionsService,
  StoredLoginTransaction,
} from '../../login-transactions/login-transactions.service.js';
import type { ProviderHttpClient } from '../../oidc/http-client.js';
import { LoginFailure } from '../../common/problem/login-failure.js';
import { OidcClient, type OidcClientSettings, type VerifiedTokens } from '../../oidc/oidc-client.js';
import type { OidcStage } from '../../oidc/oidc-errors.js';
import type { ProviderLoginKit } from './provider-login-kit.js';
import { randomToken } from '../../common/random-token.js';

/** RFC 7636 S256, with node:crypto (WebCrypto's async digest costs more than the whole hash). */
export function pkceChallenge(verifier: string): string {
  return hash('sha256', verifier, 'base64url');
}

/**
 * An error answer without `state`: the person cancelled (or the provider failed) and the provider dropped the state
 * RFC 6749 §4.1.2.1 asks it to return. Not a state problem, so not reported as one; with no state there is no
 * transaction to consume, and an error answer carries no code, so nothing can be redeemed either.
 */
function statelessError(query: Request['query']): LoginFailure | undefined {
  const { state, error, error_description: description } = query;
  if ((state !== undefined && state !== '') || typeof error !== 'string') return undefined;
  const details = {
    stage: 'code',
    stateMissing: true,
    oauthError: error.slice(0, 100),
    ...(typeof description === 'string' ? { oauthErrorDescription: description.slice(0, 200) } : {}),
  };
  if (error === 'access_denied') {
    return new LoginFailure('login_cancelled', 'the user cancelled the login (the answer carried no state)', details);
  }
  if (error === 'temporarily_unavailable') {
    return new LoginFailure('provider_unavailable', 'the provider is temporarily unavailable', details);
  }
  return new LoginFailure('provider_error', 'the provider answered an error without state', details);
}

export interface CodeFlowSettings {
  provider: IdentityProvider;
  issuer: URL;
  clientId: string;
  clientSecret?: string;
  callbackPath: string;
  idTokenAlgorithms: string[];
  /** The local sandbox: its http:// issuer is accepted without OIDC_ALLOW_INSECURE_HTTP. */
  sandbox: boolean;
  /** Send PKCE even when discovery does not advertise it (itsme can enforce it without saying so). */
  alwaysPkce?: boolean;
  /** Every login is a new authentication at the provider (`prompt=login`), never its single sign-on session. */
  alwaysFresh?: boolean;
  /** Optional hardening capabilities of the client (see OidcClientSettings). */
  clientAssertionKey?: OidcClientSettings['clientAssertionKey'];
  requestObject?: OidcClientSettings['requestObject'];
  decryptor?: OidcClientSettings['decryptor'];
}

/**
 * The authorization code flow as every OIDC provider module runs it: the login transaction (state, nonce, PKCE,
 * intent, browser binding) stored before the browser leaves; on the callback, the transaction taken once before the
 * provider is called (LoginTransactionsService.consumeByState), the code redeemed (ID token always verified); every
 * refusal audited, and a login taken without consuming its row consumed. The provider module adds its own scopes,
 * parameters and claim rules.
 */
export class OidcCodeFlow implements ProviderSessionLogout {
  readonly client: OidcClient;
  readonly http: ProviderHttpClient;

  private readonly loginMaxAgeSeconds: number;
  private readonly transactions: LoginTransactionsService;

  constructor(
    private readonly settings: CodeFlowSettings,
    private readonly kit: ProviderLoginKit,
  ) {
    const { config, transactions, logger } = kit;
    this.transactions = transactions;
    this.loginMaxAgeSeconds = config.login.maxAgeSeconds;
    this.http = kit.httpClient(settings.provider);
    this.client = new OidcClient(
      {
        provider: settings.provider,
        issuer: settings.issuer,
        clientId: settings.clientId,
        clientSecret: settings.clientSecret,
        redirectUri: new URL(settings.callbackPath, config.http.publicBaseUrl).href,
        idTokenAlgorithms: settings.idTokenAlgorithms,
        allowInsecureHttp: settings.issuer.protocol === 'http:' && (settings.sandbox || config.oidc.allowInsecureHttp),
        clientAssertionKey: settings.clientAssertionKey,
        requestObject: settings.requestObject,
        decryptor: settings.decryptor,
      },
      this.http,
      config.oidc,
      logger.child({ component: settings.provider }),
    );
  }

  close(): void {
    this.http.close();
  }

  /** See ProviderLoginStarter.asksNewSignInIfSomeoneLeft. */
  asksNewSignInIfSomeoneLeft(intent: LoginIntent): boolean {
    return !demandsNewSignIn(intent, this.settings);
  }

  /**
   * Step 1: the provider's login page for this intent. Nothing is stored when the provider's metadata cannot be read;
   * a start that fails after storing its login (the key set a request object is encrypted to, say) uses it up, so that
   * it does not count among the browser's open logins.
   */
  async start(intent: LoginIntent, meta: ClientMeta, parameters: Record<string, string>): Promise<URL> {
    let stored: string | undefined;
    try {
      await this.client.configuration();
      const pkce = this.settings.alwaysPkce || (await this.client.supportsPkce());
      const nonce = randomToken();
      const pkceVerifier = pkce ? randomToken() : null;
      const newSignIn = demandsNewSignIn(intent, this.settings);
      const transaction = await this.transactions.create({
        provider: this.settings.provider,
        purpose: intent.purpose,
        accountId: intent.accountId,
        returnTo: intent.returnTo,
        browserBinding: intent.browserBinding,
        browserBindingIsNew: intent.browserBindingIsNew,
        providerData: { ...intentData(intent), ...(newSignIn ? { [FRESH_SIGN_IN]: true } : {}) },
        nonce,
        pkceVerifier,
        startLimit: { clientIp: meta.clientIp },
        keepHere: true,
      });
      stored = transaction.id;
      return await this.client.authorizationUrl({
        ...parameters,
        state: transaction.state,
        nonce,
        ...authenticationAgeParameters(intent, { loginMaxAgeSeconds: this.loginMaxAgeSeconds, newSignIn }),
        ...(pkceVerifier ? { code_challenge: pkceChallenge(pkceVerifier), code_challenge_method: 'S256' } : {}),
      });
    } catch (error) {
      if (stored) await this.transactions.consumeById(stored).catch(() => undefined);
      throw await this.failed(error, 'discovery', meta);
    }
  }

  /** Step 2: the callback, then `verify` (user-info and the provider's rules) turns the tokens into a login. */
  async complete(
    req: Request,
    browserBinding: string | undefined,
    meta: ClientMeta,
    verify: (tokens: VerifiedTokens, transaction: StoredLoginTransaction) => Promise<VerifiedLogin>,
  ): Promise<VerifiedLogin> {
    let transaction: StoredLoginTransaction | undefined;
    try {
      const stateless = statelessError(req.query);
      if (stateless) throw stateless;
      transaction = await this.transactions.consumeByState(this.settings.provider, req.query.state, browserBinding);
      markProviderReturn(req, this.settings.provider);
      const callbackUrl = new URL(this.client.settings.redirectUri);
      callbackUrl.search = new URLSearchParams(req.query as Record<string, string>).toString();
      const tokens = await this.client.redeemCode(callbackUrl, {
        state: String(req.query.state),
        nonce: transaction.nonce ?? '',
        pkceVerifier: transaction.pkceVerifier,
      });
      const answeredAt = performance.now();
      // Kept for the browser's next sign-out, whatever the login's outcome (ProviderLogout), only where signing out
      // can end the provider's session with it.
      const signOutPage = await this.client.endSessionEndpoint();
      if (signOutPage && tokens.idToken) markProviderIdToken(req, tokens.idToken);
      return {
        ...(await verify(tokens, transaction)),
        newSignIn: signedInDuringLogin(tokens.idTokenClaims, transaction.startedAtLocal, answeredAt),
      };
    } catch (error) {
      if (transaction) await this.transactions.consumeAfterFailure(transaction);
      throw await this.failed(error, 'code', meta, transaction);
    }
  }

  /**
   * Where the browser ends the provider's single sign-on session (RP-initiated logout), or null when the provider
   * offers none: the session's ID token as `id_token_hint` when there is one (else the `client_id` openid-client
   * always adds), our post-logout page and a `state` to check there.
   */
  async endSessionUrl(idTokenHint: string | null, postLogoutRedirectUri: string, state: string): Promise<URL | null> {
    if (!(await this.client.endSessionEndpoint())) return null;
    return client.buildEndSessionUrl(await this.client.configuration(), {
      ...(idTokenHint ? { id_token_hint: idTokenHint } : {}),
      post_logout_redirect_uri: postLogoutRedirectUri,
      state,
    });
  }

  /** Audits a refused login; see ProviderLoginKit.refusal. */
  failed(error: unknown, stage: OidcStage, meta: ClientMeta, transaction?: StoredLoginTransaction): Promise<unknown> {
    const details = transaction ? { loginTransactionId: transaction.id } : {};
    return this.kit.refusal(this.settings.provider, error, stage, meta, details);
  }
}
