import type { OutboundRequest, ProviderResponse } from './http-client.js';
import { JweDecryptionError, JweDecryptor } from './jwe-decrypt.js';
import { LoginFailure } from '../common/problem/login-failure.js';

export type Fetch = (input: string | URL, init?: OutboundRequest) => Promise<ProviderResponse>;

/**
 * The inner JWS of a token the provider must encrypt to us (a nested JWT). A token that arrives unencrypted is a
 * downgrade and refused; an encrypted one that holds no signed token too.
 */
export async function innerJws(
  decryptor: JweDecryptor,
  token: string,
  invalidCode: 'id_token_invalid' | 'userinfo_invalid',
): Promise<string> {
  const what = invalidCode === 'id_token_invalid' ? 'ID token' : 'user-info';
  if (!JweDecryptor.isJwe(token)) {
    throw new LoginFailure(invalidCode, `the ${what} is not encrypted`, { reason: 'not_encrypted' });
  }
  try {
    return await decryptor.decrypt(token);
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

/**
 * The fetch openid-client uses when ID tokens are encrypted: an ID token in any answer (the token endpoint's) is
 * decrypted here — and refused when it is not encrypted — so openid-client validates the inner token's claims and
 * OidcClient verifies its signature, exactly as for a plain signed ID token. openid-client's own
 * `enableDecryptingResponses` keeps the JWE in `id_token` and never hands out the inner JWS, so our signature check
 * could not run on it.
 */
export function decryptingTokenFetch(fetch: Fetch, decryptor: JweDecryptor): Fetch {
  return async (input, init) => {
    const response = await fetch(input, init);
    if (!response.ok) return response;
    let json: Record<string, unknown> | null;
    try {
      // Read from a clone (the same bytes): an answer without an ID token goes on unread, for openid-client to judge.
      json = (await response.clone().json()) as Record<string, unknown> | null;
    } catch {
      return response;
    }
    if (typeof json?.id_token !== 'string') return response;
    const idToken = await innerJws(decryptor, json.id_token, 'id_token_invalid');
    return response.withBody(JSON.stringify({ ...json, id_token: idToken }));
  };
}
