import { describe, expect, it } from '@jest/globals';
import { CompactEncrypt, type JWK } from 'jose';
import { LoginFailure } from '../common/problem/login-failure.js';
import { ProviderResponse } from './http-client.js';
import { JweDecryptor } from './jwe-decrypt.js';
import { decryptingTokenFetch } from './nested-jwt.js';
import { generateKey } from './rp-keys.js';

const key = generateKey('enc', 'enc-1');
const SIGNED = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl';

const encrypted = (plaintext: string) =>
  new CompactEncrypt(new TextEncoder().encode(plaintext))
    .setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: key.kid })
    .encrypt({ ...key.publicJwk, alg: 'RSA-OAEP-256' } as JWK);

/** The token endpoint answering `body` (with `status`), seen through the decrypting fetch. */
function answering(body: string, status = 200) {
  const answer = new ProviderResponse(status, { 'content-type': 'application/json' }, Buffer.from(body));
  const fetch = decryptingTokenFetch(async () => answer, new JweDecryptor([key]));
  return { answer, seen: () => fetch('https://idp.example/token') };
}

describe('decryptingTokenFetch (ID tokens encrypted to us)', () => {
  it('hands on the inner JWS in place of the encrypted ID token, the rest of the answer kept', async () => {
    const { seen } = answering(JSON.stringify({ access_token: 'at', id_token: await encrypted(SIGNED) }));
    const response = await seen();
    expect([response.status, response.headers.get('content-type'), await response.json()]).toEqual([
      200,
      'application/json',
      { access_token: 'at', id_token: SIGNED },
    ]);
  });

  it('refuses an ID token that arrives unencrypted', async () => {
    const { seen } = answering(JSON.stringify({ access_token: 'at', id_token: SIGNED }));
    await expect(seen()).rejects.toMatchObject({ code: 'id_token_invalid' } satisfies Partial<LoginFailure>);
  });

  it.each([
    ['an error answer', '{"error":"invalid_grant"}', 400],
    ['an answer without an ID token', '{"access_token":"at"}', 200],
    ['JSON null', 'null', 200],
    ['no JSON at all', '<html>oops</html>', 200],
  ])('passes %s on unread, for openid-client to judge', async (_case, body, status) => {
    const { answer, seen } = answering(body, status);
    const response = await seen();
    expect(response).toBe(answer);
    expect([response.bodyUsed, await response.text()]).toEqual([false, body]);
  });
});
