import { constants, createPublicKey, type KeyObject, verify } from 'node:crypto';

export type Jwk = Record<string, unknown> & {
  kty?: string;
  kid?: string;
  alg?: string;
  use?: string;
  crv?: string;
  key_ops?: string[];
};

/** Why a signature was not accepted; `no_matching_key` is the one a JWKS refresh can cure. */
export class JwsVerificationError extends Error {
  constructor(
    readonly reason: 'malformed' | 'algorithm_not_allowed' | 'no_matching_key' | 'ambiguous_key' | 'bad_signature',
  ) {
    super(`JWS refused: ${reason}`);
    this.name = 'JwsVerificationError';
  }
}

interface Algorithm {
  kty: 'RSA' | 'EC' | 'OKP';
  hash: string | null;
  crv?: string;
  options?: { padding?: number; saltLength?: number; dsaEncoding?: 'ieee-p1363' };
}

/** Asymmetric JWS algorithms only (RFC 7518 §3, RFC 8037). `none` and HMAC are not even representable here. */
const ALGORITHMS: Record<string, Algorithm> = {
  RS256: { kty: 'RSA', hash: 'sha256' },
  RS384: { kty: 'RSA', hash: 'sha384' },
  RS512: { kty: 'RSA', hash: 'sha512' },
  PS256: { kty: 'RSA', hash: 'sha256', options: { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 } },
  PS384: { kty: 'RSA', hash: 'sha384', options: { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 48 } },
  PS512: { kty: 'RSA', hash: 'sha512', options: { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 64 } },
  ES256: { kty: 'EC', hash: 'sha256', crv: 'P-256', options: { dsaEncoding: 'ieee-p1363' } },
  ES384: { kty: 'EC', hash: 'sha384', crv: 'P-384', options: { dsaEncoding: 'ieee-p1363' } },
  ES512: { kty: 'EC', hash: 'sha512', crv: 'P-521', options: { dsaEncoding: 'ieee-p1363' } },
  EdDSA: { kty: 'OKP', hash: null, crv: 'Ed25519' },
};

const keyObjects = new WeakMap<Jwk, KeyObject>();

/**
 * Verifies a compact JWS against a key set with node:crypto (synchronous, several times cheaper per login than the
 * WebCrypto path). Key selection follows jose's rules: the header's `kid` when present, otherwise the only key that
 * fits the algorithm; several candidates are an error, never a guess.
 */
export function verifyCompactJws(
  jws: string,
  keys: readonly Jwk[],
  allowedAlgorithms: readonly string[],
): { header: Record<string, unknown>; payload: Buffer } {
  const parts = jws.split('.');
  if (parts.length !== 3) throw new JwsVerificationError('malformed');
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    throw new JwsVerificationError('malformed');
  }
  if (typeof header !== 'object' || header === null || header.crit !== undefined || header.b64 !== undefined) {
    throw new JwsVerificationError('malformed');
  }
  const alg = typeof header.alg === 'string' ? header.alg : '';
  const algorithm = ALGORITHMS[alg];
  if (!algorithm || !allowedAlgorithms.includes(alg)) throw new JwsVerificationError('algorithm_not_allowed');

  const candidates = keys.filter(
    (key) =>
      key.kty === algorithm.kty &&
      (header.kid === undefined || key.kid === header.kid) &&
      (key.alg === undefined || key.alg === alg) &&
      (key.use === undefined || key.use === 'sig') &&
      (key.key_ops === undefined || key.key_ops.includes('verify')) &&
      (algorithm.crv === undefined || key.crv === algorithm.crv),
  );
  if (candidates.length === 0) throw new JwsVerificationError('no_matching_key');
  if (candidates.length > 1) throw new JwsVerificationError('ambiguous_key');
  const jwk = candidates[0];
  let key = keyObjects.get(jwk);
  if (!key) {
    try {
      key = createPublicKey({ key: jwk as never, format: 'jwk' });
    } catch {
      throw new JwsVerificationError('no_matching_key');
    }
    keyObjects.set(jwk, key);
  }
  const signature = Buffer.from(parts[2], 'base64url');
  const valid = verify(
    algorithm.hash,
    Buffer.from(`${parts[0]}.${parts[1]}`),
    { key, ...algorithm.options },
    signature,
  );
  if (!valid) throw new JwsVerificationError('bad_signature');
  return { header, payload: Buffer.from(parts[1], 'base64url') };
}
