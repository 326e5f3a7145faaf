import * as client from 'openid-client';
import type { RelyingPartyKey } from './rp-keys.js';

/**
 * private_key_jwt client authentication (RFC 7523) with one of our keys: openid-client's assertion (iss = sub =
 * client_id, unique jti, exp in 60 s) with the token endpoint as audience, as itsme asks
 * (docs/providers.md#itsme-client-authentication-and-pkce); RFC 7523 accepts it as well as the issuer.
 */
export async function privateKeyJwt(key: RelyingPartyKey): Promise<client.ClientAuth> {
  const cryptoKey = await crypto.subtle.importKey(
    'pkcs8',
    key.privateKey.export({ type: 'pkcs8', format: 'der' }),
    key.alg === 'PS256' ? { name: 'RSA-PSS', hash: 'SHA-256' } : { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
    false,
    ['sign'],
  );
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
