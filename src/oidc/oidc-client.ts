import * as client from 'openid-client';
import type { Logger } from 'pino';
import type { AppConfig } from '../config/app.config.js';
import type { IdentityProvider } from '../identity-links/providers.js';
import { ProviderHttpClient } from './http-client.js';
import { JweDecryptionError, JweDecryptor } from './jwe-decrypt.js';
import { JwksCache } from './jwks-cache.js';
import { JwsVerificationError } from './jws-verify.js';
import { LoginFailure } from './login-failure.js';
import { toLoginFailure } from './oidc-errors.js';
import { buildRequestObject, type RequestObjectSettings } from './request-object.js';
import type { RelyingPartyKey } from './rp-keys.js';

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
        await this.clientAuthentication(),
        {
          [client.customFetch]: (this.settings.decryptor
            ? this.decryptingFetch
            : this.http.fetch) as client.CustomFetch,
          timeout: Math.ceil(this.timing.httpTimeoutMs / 1000),
          execute: this.settings.allowInsecureHttp ? [client.allowInsecureRequests] : [],
        },
      );
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

  private async clientAuthentication(): Promise<client.ClientAuth> {
    const key = this.settings.clientAssertionKey;
    if (!key) return client.ClientSecretBasic(this.settings.clientSecret ?? '');
    const cryptoKey = await crypto.subtle.importKey(
      'pkcs8',
      key.privateKey.export({ type: 'pkcs8', format: 'der' }),
      key.alg === 'PS256' ? { name: 'RSA-PSS', hash: 'SHA-256' } : { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
      false,
      ['sign'],
    );
    // openid-client's assertion: iss = sub = client_id, unique jti, exp in 60 s. The audience is the token endpoint,
    // as itsme asks (seed 002, "client_assertion"); RFC 7523 accepts it as well as the issuer.
    return (as, metadata, body, headers) =>
      client.PrivateKeyJwt(
        { key: cryptoKey, kid: key.kid },
        {
          [client.modifyAssertion]: (_header, payload) => {
            payload.aud = as.token_endpoint ?? as.issuer;
          },
        },
      )(as, metadata, body, headers);
  }

  /**
   * The fetch openid-client uses when responses are encrypted: the token endpoint's ID token is decrypted here, so
   * that openid-client validates the inner token's claims and `verifiedTokens` its signature, exactly as for a
   * plain signed ID token. (openid-client's own `enableDecryptingResponses` keeps the JWE in `id_token` and never
   * hands out the inner JWS, so our signature check could not run on it.)
   */
  private readonly decryptingFetch = async (input: string | URL, init?: Parameters<ProviderHttpClient['fetch']>[1]) => {
    const response = await this.http.fetch(input, init);
    const tokenEndpoint = this.discovered?.metadata.token_endpoint;
    if (!response.ok || !tokenEndpoint || new URL(input).href !== new URL(tokenEndpoint).href) return response;
    const text = await response.text();
    const rebuilt = (body: string) => new Response(body, { status: response.status, headers: response.headers });
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return rebuilt(text);
    }
    if (typeof json.id_token !== 'string') return rebuilt(text);
    const idToken = await this.decryptNested(json.id_token, 'id_token_invalid');
    return rebuilt(JSON.stringify({ ...json, id_token: idToken }));
  };

  /** The inner JWS of an encrypted token; a token that should have been encrypted and is not is refused. */
  private async decryptNested(token: string, invalidCode: 'id_token_invalid' | 'userinfo_invalid'): Promise<string> {
    const what = invalidCode === 'id_token_invalid' ? 'ID token' : 'user-info';
    if (!JweDecryptor.isJwe(token)) {
      throw new LoginFailure(invalidCode, `the ${what} is not encrypted`, { reason: 'not_encrypted' });
    }
    try {
      return await this.settings.decryptor!.decrypt(token);
    } catch (error) {
      if (!(error instanceof JweDecryptionError)) throw error;
      if (error.reason === 'not_a_jws') {
        throw new LoginFailure(invalidCode, `the encrypted ${what} is not signed`, { reason: error.reason });
      }
      throw new LoginFailure(
        'response_decryption_failed',
        `the ${what} could not be decrypted`,
        { reason: error.reason, token: what },
        error,
      );
    }
  }

  /** The discovered server metadata (read-only). */
  async metadata(): Promise<client.ServerMetadata> {
    await this.configuration();
    return this.discovered!.metadata;
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

  /**
   * User-info as a signed JWT (decrypted first when the provider encrypts it): signature verified against the
   * provider's keys with the ID token's algorithm allow-list, bound to the ID token's subject, and — when present —
   * to the provider as issuer and to us as audience.
   */
  async signedUserinfo(accessToken: string, expectedSubject: string): Promise<Record<string, unknown>> {
    const metadata = await this.metadata();
    const endpoint = metadata.userinfo_endpoint;
    if (!endpoint) throw new LoginFailure('provider_misconfigured', 'the provider publishes no userinfo_endpoint');
    if (new URL(endpoint).protocol !== 'https:' && !this.settings.allowInsecureHttp) {
      throw new LoginFailure('provider_misconfigured', 'the provider serves user-info over plain http');
    }
    let response: Response;
    try {
      response = await this.http.fetch(endpoint, {
        headers: { authorization: `Bearer ${accessToken}`, accept: 'application/jwt' },
      });
    } catch (error) {
      throw toLoginFailure(error, 'userinfo');
    }
    const body = (await response.text()).trim();
    if (response.status >= 500) {
      throw new LoginFailure('provider_unavailable', 'the provider failed', { httpStatus: response.status });
    }
    if (response.status !== 200) {
      // A 401 names the problem in WWW-Authenticate (error="invalid_token"); never the token itself.
      const challenge = /error="([a-z_]{1,64})"/.exec(response.headers.get('www-authenticate') ?? '')?.[1];
      throw new LoginFailure('userinfo_invalid', 'the provider refused the user-info request', {
        httpStatus: response.status,
        ...(challenge ? { oauthError: challenge } : {}),
      });
    }
    if (!/^application\/jwt\b/i.test(response.headers.get('content-type') ?? '')) {
      throw new LoginFailure('userinfo_invalid', 'user-info is not a signed JWT', { reason: 'not_a_jwt' });
    }
    const jws = this.settings.decryptor ? await this.decryptNested(body, 'userinfo_invalid') : body;
    let payload: Buffer;
    try {
      ({ payload } = await this.jwks.verify(jws, this.settings.idTokenAlgorithms));
    } catch (error) {
      if (error instanceof JwsVerificationError) {
        throw new LoginFailure('userinfo_invalid', 'the user-info signature could not be verified', {
          reason: error.reason,
        });
      }
      throw toLoginFailure(error, 'userinfo');
    }
    let claims: Record<string, unknown>;
    try {
      claims = JSON.parse(payload.toString('utf8')) as Record<string, unknown>;
    } catch {
      throw new LoginFailure('userinfo_invalid', 'the user-info JWT is not JSON', { reason: 'malformed' });
    }
    if (typeof claims !== 'object' || claims === null || claims.sub !== expectedSubject) {
      throw new LoginFailure('userinfo_invalid', 'user-info is about another subject', { field: 'sub' });
    }
    if (claims.iss !== undefined && claims.iss !== metadata.issuer) {
      throw new LoginFailure('userinfo_invalid', 'user-info comes from another issuer', { field: 'iss' });
    }
    const audience = claims.aud;
    if (
      audience !== undefined &&
      audience !== this.settings.clientId &&
      !(Array.isArray(audience) && audience.length === 1 && audience[0] === this.settings.clientId)
    ) {
      throw new LoginFailure('userinfo_invalid', 'user-info is meant for another client', { field: 'aud' });
    }
    return claims;
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
      await this.jwks.verify(idToken, this.settings.idTokenAlgorithms);
    } catch (error) {
      throw toLoginFailure(error, 'id_token_signature');
    }
    const claims = tokens.claims()!;
    if (claims.iat < Date.now() / 1000 - MAX_ID_TOKEN_AGE_SECONDS) {
      throw new LoginFailure('id_token_invalid', 'the ID token was issued too long ago', { iat: claims.iat });
    }
    return { accessToken: tokens.access_token, idToken, idTokenClaims: claims };
  }
}
