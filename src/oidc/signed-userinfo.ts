import type * as client from 'openid-client';
import type { ProviderHttpClient, ProviderResponse } from './http-client.js';
import type { JweDecryptor } from './jwe-decrypt.js';
import type { JwksCache } from './jwks-cache.js';
import { JwsVerificationError } from './jws-verify.js';
import { LoginFailure } from '../common/problem/login-failure.js';
import { innerJws } from './nested-jwt.js';
import { toLoginFailure } from './oidc-errors.js';

export interface SignedUserinfoContext {
  metadata: client.ServerMetadata;
  http: ProviderHttpClient;
  jwks: JwksCache;
  clientId: string;
  /** The signature allow-list (the ID token's). */
  algorithms: string[];
  allowInsecureHttp: boolean;
  /** Set when the provider encrypts user-info to us: it must then arrive encrypted. */
  decryptor?: JweDecryptor;
}

/**
 * User-info as a signed JWT (decrypted first when the provider encrypts it): signature verified against the
 * provider's keys with the ID token's algorithm allow-list, bound to the ID token's subject, and — when present —
 * to the provider as issuer and to us as audience.
 */
export async function fetchSignedUserinfo(
  context: SignedUserinfoContext,
  accessToken: string,
  expectedSubject: string,
): Promise<Record<string, unknown>> {
  const { metadata } = context;
  const endpoint = metadata.userinfo_endpoint;
  if (!endpoint) throw new LoginFailure('provider_misconfigured', 'the provider publishes no userinfo_endpoint');
  if (!URL.canParse(endpoint)) throw new LoginFailure('provider_misconfigured', 'the userinfo_endpoint is not a URL');
  if (new URL(endpoint).protocol !== 'https:' && !context.allowInsecureHttp) {
    throw new LoginFailure('provider_misconfigured', 'the provider serves user-info over plain http');
  }
  let response: ProviderResponse;
  try {
    response = await context.http.fetch(endpoint, {
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
  const jws = context.decryptor ? await innerJws(context.decryptor, body, 'userinfo_invalid') : body;
  let payload: Buffer;
  try {
    ({ payload } = await context.jwks.verify(jws, context.algorithms));
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
  // A signed answer must say who signed it for whom (OIDC Core 5.3.2); without both it could be any token of theirs.
  if (claims.iss !== metadata.issuer) {
    throw new LoginFailure('userinfo_invalid', 'user-info comes from another issuer', { field: 'iss' });
  }
  const audience = claims.aud;
  if (
    audience !== context.clientId &&
    !(Array.isArray(audience) && audience.length === 1 && audience[0] === context.clientId)
  ) {
    throw new LoginFailure('userinfo_invalid', 'user-info is meant for another client', { field: 'aud' });
  }
  return claims;
}
