import * as client from 'openid-client';
import type { Logger } from 'pino';
import { FUTURE_SKEW_SECONDS } from './clock-skew.js';
import type { AppConfig } from '../app/app.config.js';
import type { IdentityProvider } from '../common/identity-providers.js';
import { ProviderHttpClient } from './http-client.js';
import type { JweDecryptor } from './jwe-decrypt.js';
import { JwksCache } from './jwks-cache.js';
import { LoginFailure } from '../common/problem/login-failure.js';
import { decryptingTokenFetch, type Fetch } from './nested-jwt.js';
import { toLoginFailure } from './oidc-errors.js';
import { privateKeyJwt } from './private-key-jwt.js';
import { buildRequestObject, type RequestObjectSettings } from './request-object.js';
import type { RelyingPartyKey } from './rp-keys.js';
import { fetchSignedUserinfo } from './signed-userinfo.js';

export interface OidcClientSettings {
  provider: IdentityProvider;
  issuer: URL;
  clientId: string;
  /** client_secret_basic; unused when `clientAssertionKey` is set. */
  clientSecret?: string;
  redirectUri: string;
  /** Allow-list for ID token signatures. Asymmetric algorithms only. */
  idTokenAlgorithms: string[];
  /** http:// is accepted only for this client (explicit development setting, or the local sandbox). */
  allowInsecureHttp: boolean;
  /** private_key_jwt client authentication with this key (RFC 7523), instead of client_secret_basic. */
  clientAssertionKey?: RelyingPartyKey;
  /** Authorization parameters sent as a signed (and optionally encrypted) request object only. */
  requestObject?: RequestObjectSettings;
  /**
   * The provider encrypts ID tokens and user-info to us (nested JWTs): they must arrive encrypted, are decrypted
   * with these keys, and the inner JWS is then verified like any other.
   */
  decryptor?: JweDecryptor;
}

export interface VerifiedTokens {
  accessToken: string;
  idToken?: string;
  idTokenClaims?: client.IDToken;
}

/** An ID token older than this is refused even if unexpired: it was minted for this code exchange, or it is replayed. */
const MAX_ID_TOKEN_AGE_SECONDS = 600;

/**
 * One relying-party client for one provider: discovery and JWKS fetched lazily and cached (the app starts while a
 * provider is down), every ID token signature verified — also from the token endpoint — against an allow-list of
 * algorithms, user-info bound to the ID token's subject, every call bounded by a timeout.
 */
export class OidcClient {
  private discovered?: { configuration: client.Configuration; metadata: client.ServerMetadata; fetchedAt: number };
  private discovering?: Promise<client.Configuration>;
  readonly jwks: JwksCache;

  constructor(
    readonly settings: OidcClientSettings,
    private readonly http: ProviderHttpClient,
    private readonly timing: AppConfig['oidc'],
    private readonly logger: Logger,
  ) {
    this.jwks = new JwksCache(
      async () => {
        const uri = (await this.metadata()).jwks_uri;
        if (!uri) throw new LoginFailure('provider_misconfigured', 'the provider publishes no jwks_uri');
        // openid-client enforces https for the calls it makes; the keys are fetched here, so enforce it here too.
        if (new URL(uri).protocol !== 'https:' && !settings.allowInsecureHttp) {
          throw new LoginFailure('provider_misconfigured', 'the provider publishes its keys over plain http');
        }
        return uri;
      },
      (url) => this.http.fetch(url, { headers: { accept: 'application/json' } }),
      timing.jwksTtlSeconds * 1000,
      timing.jwksRefetchCooldownSeconds * 1000,
    );
  }

  /** Discovery, cached for OIDC_METADATA_TTL_SECONDS; a failed refresh keeps the last good copy. */
  async configuration(): Promise<client.Configuration> {
    const fresh = this.discovered && Date.now() - this.discovered.fetchedAt < this.timing.metadataTtlSeconds * 1000;
    if (fresh) return this.discovered!.configuration;
    this.discovering ??= this.discover().finally(() => (this.discovering = undefined));
    try {
      return await this.discovering;
    } catch (error) {
      if (this.discovered) {
        this.logger.warn(
          { provider: this.settings.provider, err: error },
          'discovery refresh failed; using the cached copy',
        );
        return this.discovered.configuration;
      }
      throw error;
    }
  }

  private async discover(): Promise<client.Configuration> {
    try {
      const configuration = await client.discovery(
        this.settings.issuer,
        this.settings.clientId,
        // oauth4webapi accepts a list here: the ID token's alg must be one of them.
        { id_token_signed_response_alg: this.settings.idTokenAlgorithms as unknown as string },
        this.settings.clientAssertionKey
          ? await privateKeyJwt(this.settings.clientAssertionKey)
          : client.ClientSecretBasic(this.settings.clientSecret ?? ''),
        {
          // A ProviderResponse stands in for the Response openid-client's type names (see ProviderResponse).
          [client.customFetch]: refusingJwtAnswers(
            this.settings.decryptor ? decryptingTokenFetch(this.http.fetch, this.settings.decryptor) : this.http.fetch,
          ) as unknown as client.CustomFetch,
          timeout: Math.ceil(this.timing.httpTimeoutMs / 1000),
          execute: this.settings.allowInsecureHttp ? [client.allowInsecureRequests] : [],
        },
      );
      // ProviderHttpClient times out every call itself; openid-client's own timeout would add an AbortSignal, a
      // timer and an event listener to each call on top.
      configuration.timeout = 0;
      // serverMetadata() clones the metadata on every call; read it once per discovery.
      this.discovered = { configuration, metadata: configuration.serverMetadata(), fetchedAt: Date.now() };
      return configuration;
    } catch (error) {
      const failure = toLoginFailure(error, 'discovery');
      if (failure.code === 'provider_misconfigured') {
        this.logger.error(
          { provider: this.settings.provider, issuer: this.settings.issuer.href, err: error },
          'provider refused: discovery does not match the configured issuer',
        );
      }
      throw failure;
    }
  }

  /** The discovered server metadata (read-only). */
  async metadata(): Promise<client.ServerMetadata> {
    await this.configuration();
    return this.discovered!.metadata;
  }

  /** The provider's RP-initiated logout endpoint, if discovery lists one. */
  async endSessionEndpoint(): Promise<string | undefined> {
    return (await this.metadata()).end_session_endpoint;
  }

  async supportsPkce(): Promise<boolean> {
    const methods = (await this.metadata()).code_challenge_methods_supported;
    return Array.isArray(methods) && methods.includes('S256');
  }

  async authorizationUrl(parameters: Record<string, string>): Promise<URL> {
    const configuration = await this.configuration();
    const all: Record<string, string> = {
      redirect_uri: this.settings.redirectUri,
      response_type: 'code',
      ...parameters,
    };
    if (!this.settings.requestObject) return client.buildAuthorizationUrl(configuration, all);
    const request = await buildRequestObject(
      all,
      {
        clientId: this.settings.clientId,
        audience: this.discovered!.metadata.issuer,
        providerKeys: () => this.jwks.keySet(),
        metadata: this.discovered!.metadata as Record<string, unknown>,
      },
      this.settings.requestObject,
    );
    // Only what must stay readable outside the request object (RFC 9101 §5): client_id is added by openid-client.
    return client.buildAuthorizationUrl(configuration, { response_type: 'code', scope: all.scope, request });
  }

  /**
   * Validates the authorization response (state, RFC 9207 `iss`, errors), redeems the code (PKCE), validates the
   * ID token's claims and then its signature.
   */
  async redeemCode(
    callbackUrl: URL,
    checks: { state: string; nonce: string; pkceVerifier: string | null },
  ): Promise<VerifiedTokens> {
    const configuration = await this.configuration();
    let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
    try {
      tokens = await client.authorizationCodeGrant(configuration, callbackUrl, {
        expectedState: checks.state,
        expectedNonce: checks.nonce,
        idTokenExpected: true,
        ...(checks.pkceVerifier ? { pkceCodeVerifier: checks.pkceVerifier } : {}),
      });
    } catch (error) {
      throw toLoginFailure(error, 'code');
    }
    return this.verifiedTokens(tokens, true);
  }

  /** A grant other than the code flow's (Digidentity passwordless polling); an ID token, if any, is verified. */
  async grant(grantType: string, parameters: Record<string, string>): Promise<VerifiedTokens> {
    const configuration = await this.configuration();
    let tokens: Awaited<ReturnType<typeof client.genericGrantRequest>>;
    try {
      tokens = await client.genericGrantRequest(configuration, grantType, parameters);
    } catch (error) {
      throw toLoginFailure(error, 'token');
    }
    const verified = await this.verifiedTokens(tokens, false);
    // No nonce was sent with this grant, so an ID token that carries one was minted for something else.
    if (verified.idTokenClaims?.nonce !== undefined) {
      throw new LoginFailure('id_token_invalid', 'the ID token carries a nonce although none was sent');
    }
    return verified;
  }

  async userinfo(
    accessToken: string,
    expectedSubject: string | typeof client.skipSubjectCheck,
  ): Promise<Record<string, unknown>> {
    try {
      return (await client.fetchUserInfo(await this.configuration(), accessToken, expectedSubject)) as Record<
        string,
        unknown
      >;
    } catch (error) {
      throw toLoginFailure(error, 'userinfo');
    }
  }

  /** User-info as a signed (and, with a decryptor, encrypted) JWT, bound to the ID token's subject. */
  async signedUserinfo(accessToken: string, expectedSubject: string): Promise<Record<string, unknown>> {
    return fetchSignedUserinfo(
      {
        metadata: await this.metadata(),
        http: this.http,
        jwks: this.jwks,
        clientId: this.settings.clientId,
        algorithms: this.settings.idTokenAlgorithms,
        allowInsecureHttp: this.settings.allowInsecureHttp,
        decryptor: this.settings.decryptor,
      },
      accessToken,
      expectedSubject,
    );
  }

  /**
   * Our allow-list, narrowed to what discovery says the provider signs ID tokens with (when it says). openid-client
   * ignores the discovered list once the client names algorithms, so the narrowing happens here.
   */
  private async idTokenAlgorithms(): Promise<string[]> {
    const advertised: unknown = (await this.metadata()).id_token_signing_alg_values_supported;
    const ours = this.settings.idTokenAlgorithms;
    return Array.isArray(advertised) ? ours.filter((alg) => advertised.includes(alg)) : ours;
  }

  private async verifiedTokens(
    tokens: client.TokenEndpointResponse & client.TokenEndpointResponseHelpers,
    idTokenRequired: boolean,
  ): Promise<VerifiedTokens> {
    const idToken = tokens.id_token;
    if (!idToken) {
      if (idTokenRequired) throw new LoginFailure('id_token_invalid', 'no ID token in the token response');
      return { accessToken: tokens.access_token };
    }
    try {
      await this.jwks.verify(idToken, await this.idTokenAlgorithms());
    } catch (error) {
      throw toLoginFailure(error, 'id_token_signature');
    }
    const claims = tokens.claims()!;
    const now = Date.now() / 1000;
    if (claims.iat < now - MAX_ID_TOKEN_AGE_SECONDS) {
      throw new LoginFailure('id_token_invalid', 'the ID token was issued too long ago', { iat: claims.iat });
    }
    // openid-client checks only that iat is a number: a token "issued" ahead of time could outlive its exp check.
    if (claims.iat > now + FUTURE_SKEW_SECONDS) {
      throw new LoginFailure('id_token_invalid', 'the ID token was issued in the future', { iat: claims.iat });
    }
    // OIDC Core 3.1.3.7: a token that lists audiences besides us is refused, whatever its azp says (openid-client
    // takes it when azp names us). We trust no other audience.
    if (Array.isArray(claims.aud) && claims.aud.some((audience) => audience !== this.settings.clientId)) {
      throw new LoginFailure('id_token_invalid', 'the ID token lists audiences besides this client', {
        audiences: claims.aud.length,
      });
    }
    // openid-client checks azp only when aud lists several audiences; an azp naming another client is never ours.
    if (claims.azp !== undefined && claims.azp !== this.settings.clientId) {
      throw new LoginFailure('id_token_invalid', 'the ID token was issued to another party (azp)', {
        azp: String(claims.azp).slice(0, 64),
      });
    }
    return { accessToken: tokens.access_token, idToken, idTokenClaims: claims };
  }
}

/**
 * openid-client takes a signed (application/jwt) user-info answer without checking its signature unless its own
 * non-repudiation checks are on. Providers whose user-info is signed go through signedUserinfo(), which verifies
 * it; on every other call a JWT answer is refused instead of being believed.
 */
function refusingJwtAnswers(fetch: Fetch): Fetch {
  return async (input, init) => {
    const response = await fetch(input, init);
    if (/^application\/jwt\b/i.test(response.headers.get('content-type') ?? '')) {
      throw new LoginFailure('userinfo_invalid', 'the provider answered a signed JWT where plain JSON was expected', {
        url: new URL(input).pathname,
      });
    }
    return response;
  };
}
