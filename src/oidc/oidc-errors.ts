import * as client from 'openid-client';
import { ProviderAnswerTooLargeError, ProviderUnreachableError } from './http-client.js';
import { JwsVerificationError } from './jws-verify.js';
import { LoginFailure } from '../common/problem/login-failure.js';

/** oauth4webapi error codes (openid-client passes them through on `code`). */
const OAUTH = {
  RESPONSE_IS_NOT_CONFORM: 'OAUTH_RESPONSE_IS_NOT_CONFORM',
  INVALID_RESPONSE: 'OAUTH_INVALID_RESPONSE',
  JWT_CLAIM_COMPARISON: 'OAUTH_JWT_CLAIM_COMPARISON_FAILED',
  JWT_TIMESTAMP_CHECK: 'OAUTH_JWT_TIMESTAMP_CHECK_FAILED',
} as const;

export type OidcStage = 'discovery' | 'code' | 'token' | 'id_token_signature' | 'userinfo';

function causes(error: unknown): unknown[] {
  const chain: unknown[] = [];
  for (
    let current = error;
    current !== undefined && chain.length < 8;
    current = (current as { cause?: unknown })?.cause
  ) {
    chain.push(current);
  }
  return chain;
}

/**
 * An OAuth error code as the audit trail keeps it: codes are short printable ASCII (RFC 6749 §4.1.2.1); anything else
 * — it arrives in the callback's query string, from the browser — is kept as a cut, marked excerpt.
 */
function oauthErrorCode(value: unknown): string {
  const text = String(value);
  return /^[\x21-\x7e]{1,64}$/.test(text) ? text : `(not an OAuth error code) ${text.slice(0, 64)}`;
}

/** What may go into the audit trail about a provider error: names and codes, never tokens or claim values. */
function describe(error: unknown): Record<string, unknown> {
  const e = error as {
    name?: string;
    code?: string;
    message?: string;
    error?: string;
    error_description?: string;
    status?: number;
  };
  return {
    error: e?.name,
    ...(e?.code ? { errorCode: e.code } : {}),
    ...(e?.error ? { oauthError: oauthErrorCode(e.error) } : {}),
    ...(e?.error_description ? { oauthErrorDescription: String(e.error_description).slice(0, 200) } : {}),
    ...(e?.status ? { httpStatus: e.status } : {}),
    message: String(e?.message ?? error).slice(0, 300),
  };
}

/**
 * Whether an error came from the provider, its answers, or our checks of them (as opposed to a fault of our own,
 * such as a database error, which must not be reported as the provider's).
 */
export function isProviderFailure(error: unknown): boolean {
  return causes(error).some(
    (e) =>
      e instanceof LoginFailure ||
      e instanceof ProviderUnreachableError ||
      e instanceof ProviderAnswerTooLargeError ||
      e instanceof JwsVerificationError ||
      e instanceof client.ClientError ||
      e instanceof client.ResponseBodyError ||
      e instanceof client.AuthorizationResponseError ||
      e instanceof client.WWWAuthenticateChallengeError,
  );
}

/**
 * Turns anything openid-client, jose or the transport throws into a LoginFailure with a stable code. `stage` tells
 * which step failed, since the same library error means different things at different steps.
 */
export function toLoginFailure(error: unknown, stage: OidcStage): LoginFailure {
  if (error instanceof LoginFailure) return error;
  const chain = causes(error);
  // Raised by our own fetch (decryption) inside openid-client, which wraps it.
  const ours = chain.find((e): e is LoginFailure => e instanceof LoginFailure);
  if (ours) return ours;
  const details = { stage, ...describe(error) };
  if (chain.some((e) => e instanceof ProviderAnswerTooLargeError)) {
    return new LoginFailure('provider_error', 'the provider answered with more than any genuine answer holds', details);
  }
  if (
    chain.some((e) => e instanceof ProviderUnreachableError) ||
    chain.some(
      (e) => (e as { code?: string })?.code === 'OAUTH_TIMEOUT' || (e as { code?: string })?.code === 'OAUTH_ABORT',
    )
  ) {
    return new LoginFailure('provider_unavailable', 'the identity provider did not answer in time', details, error);
  }
  if (error instanceof client.AuthorizationResponseError) {
    if (error.error === 'access_denied')
      return new LoginFailure('login_cancelled', 'the user cancelled the login', details, error);
    if (error.error === 'temporarily_unavailable')
      return new LoginFailure('provider_unavailable', 'the provider is temporarily unavailable', details, error);
    return new LoginFailure('provider_error', `the provider answered ${oauthErrorCode(error.error)}`, details, error);
  }
  if (error instanceof client.ResponseBodyError) {
    if (error.status >= 500) return new LoginFailure('provider_unavailable', 'the provider failed', details, error);
    return new LoginFailure(
      stage === 'userinfo' ? 'userinfo_invalid' : 'token_exchange_failed',
      `the provider answered ${oauthErrorCode(error.error)}`,
      details,
      error,
    );
  }
  if (error instanceof client.WWWAuthenticateChallengeError) {
    return new LoginFailure(
      stage === 'userinfo' ? 'userinfo_invalid' : 'token_exchange_failed',
      'the provider refused the request',
      details,
      error,
    );
  }
  if (chain.some((e) => e instanceof JwsVerificationError)) {
    return new LoginFailure('id_token_invalid', 'the ID token signature could not be verified', details, error);
  }
  const code = chain
    .map((e) => (e as { code?: string })?.code)
    .find((c) => typeof c === 'string' && c.startsWith('OAUTH_'));
  const status = chain
    .map((e) => (e as { status?: number }).status ?? (e as { response?: { status?: number } })?.response?.status)
    .find((s) => typeof s === 'number');
  if (code === OAUTH.RESPONSE_IS_NOT_CONFORM && (status === undefined || status >= 500)) {
    return new LoginFailure('provider_unavailable', 'the provider failed', details, error);
  }
  const messages = chain.map((e) => String((e as Error)?.message ?? '')).join(' | ');
  switch (stage) {
    case 'discovery':
      return new LoginFailure('provider_misconfigured', 'the provider metadata is not usable', details, error);
    case 'code':
      // The authorization response itself (state, RFC 9207 iss) is checked before the code is redeemed.
      if (code === OAUTH.INVALID_RESPONSE && /response parameter/.test(messages)) {
        return new LoginFailure(
          'authorization_response_invalid',
          'the authorization response failed validation',
          details,
          error,
        );
      }
      if (
        code === OAUTH.JWT_CLAIM_COMPARISON ||
        code === OAUTH.JWT_TIMESTAMP_CHECK ||
        /JWT|ID Token|id_token/.test(messages)
      ) {
        return new LoginFailure('id_token_invalid', 'the ID token failed validation', details, error);
      }
      return new LoginFailure('token_exchange_failed', 'the code exchange failed', details, error);
    case 'token':
      if (
        code === OAUTH.JWT_CLAIM_COMPARISON ||
        code === OAUTH.JWT_TIMESTAMP_CHECK ||
        /JWT|ID Token|id_token/.test(messages)
      ) {
        return new LoginFailure('id_token_invalid', 'the ID token failed validation', details, error);
      }
      return new LoginFailure('token_exchange_failed', 'the token request failed', details, error);
    case 'userinfo':
      return new LoginFailure('userinfo_invalid', 'the user information failed validation', details, error);
    case 'id_token_signature':
      return new LoginFailure('id_token_invalid', 'the ID token signature could not be verified', details, error);
  }
}
