import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { Jwk } from './jws-verify.js';

/** What one of our own keys is for: signing (client assertions, request objects) or receiving encrypted responses. */
export type KeyUse = 'sig' | 'enc';

export const RP_SIGNING_ALGORITHMS = ['RS256', 'PS256'] as const;
export const RP_ENCRYPTION_ALGORITHMS = ['RSA-OAEP', 'RSA-OAEP-256'] as const;

/**
 * One key of the relying party. The private half is a KeyObject only (it serialises to `{}`, so a logged config
 * never shows it); the public half is what we publish in our JWKS.
 */
export interface RelyingPartyKey {
  kid: string;
  alg: string;
  use: KeyUse;
  privateKey: KeyObject;
  publicJwk: Jwk;
}

export class KeyParseError extends Error {}

const DEFAULT_ALG: Record<KeyUse, string> = { sig: 'RS256', enc: 'RSA-OAEP-256' };
const ALLOWED_ALGS: Record<KeyUse, readonly string[]> = {
  sig: RP_SIGNING_ALGORITHMS,
  enc: RP_ENCRYPTION_ALGORITHMS,
};

/** RFC 7638 thumbprint of an RSA public key: a stable kid for keys given as PEM. */
function thumbprint(jwk: Jwk): string {
  const canonical = JSON.stringify({ e: jwk.e, kty: jwk.kty, n: jwk.n });
  return createHash('sha256').update(canonical).digest('base64url');
}

function toKey(privateKey: KeyObject, use: KeyUse, kid: string | undefined, alg: string | undefined): RelyingPartyKey {
  if (privateKey.asymmetricKeyType !== 'rsa') throw new KeyParseError('only RSA keys are supported');
  if ((privateKey.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) {
    throw new KeyParseError('RSA keys must have at least 2048 bits');
  }
  const chosenAlg = alg ?? DEFAULT_ALG[use];
  if (!ALLOWED_ALGS[use].includes(chosenAlg)) {
    throw new KeyParseError(`alg ${chosenAlg} is not allowed for use ${use} (${ALLOWED_ALGS[use].join(', ')})`);
  }
  const { n, e, kty } = createPublicKey(privateKey).export({ format: 'jwk' }) as Jwk;
  const base = { kty, n, e } as Jwk;
  const keyId = kid ?? thumbprint(base);
  return { kid: keyId, alg: chosenAlg, use, privateKey, publicJwk: { ...base, kid: keyId, use, alg: chosenAlg } };
}

/**
 * Keys from a setting: a private JWK, a JSON array or JWK set of them, or one or more PKCS#8/PKCS#1 PEM blocks.
 * PEM keys get their RFC 7638 thumbprint as kid and the default algorithm for their use.
 */
export function parseKeys(value: string, use: KeyUse): RelyingPartyKey[] {
  const text = value.trim();
  let keys: RelyingPartyKey[];
  if (text.startsWith('{') || text.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new KeyParseError('not valid JSON');
    }
    const list = Array.isArray(parsed)
      ? parsed
      : Array.isArray((parsed as { keys?: unknown }).keys)
        ? (parsed as { keys: unknown[] }).keys
        : [parsed];
    keys = list.map((jwk) => {
      const candidate = jwk as Jwk;
      if (typeof candidate !== 'object' || candidate === null || typeof candidate.d !== 'string') {
        throw new KeyParseError('every JWK must be a private key');
      }
      if (candidate.use !== undefined && candidate.use !== use)
        throw new KeyParseError(`a key has use ${candidate.use}`);
      let privateKey: KeyObject;
      try {
        privateKey = createPrivateKey({ key: candidate as never, format: 'jwk' });
      } catch {
        throw new KeyParseError('a JWK is not a usable private key');
      }
      return toKey(privateKey, use, candidate.kid, candidate.alg);
    });
  } else {
    const blocks = text
      .replace(/\\n/g, '\n')
      .match(/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]+?-----END [A-Z ]*PRIVATE KEY-----/g);
    if (!blocks) throw new KeyParseError('expected a private JWK (JSON) or a PEM private key');
    keys = blocks.map((pem) => {
      try {
        return toKey(createPrivateKey(pem), use, undefined, undefined);
      } catch (error) {
        if (error instanceof KeyParseError) throw error;
        throw new KeyParseError('a PEM block is not a usable private key');
      }
    });
  }
  if (keys.length === 0) throw new KeyParseError('no key given');
  if (new Set(keys.map((key) => key.kid)).size !== keys.length) throw new KeyParseError('kids must be unique');
  return keys;
}

/** A fresh 2048-bit RSA key (sandbox and tests; 3072 bits costs four times as much per decryption). */
export function generateKey(use: KeyUse, kidPrefix: string, alg?: string): RelyingPartyKey {
  // As DER, then a KeyObject of its own: reading the details of the key object the generation job returned can
  // deadlock Node 20 when a garbage collection finalises that job meanwhile (both take the key's mutex).
  const { privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'der' },
    publicKeyEncoding: { type: 'spki', format: 'der' },
  });
  const key = toKey(createPrivateKey({ key: privateKey, format: 'der', type: 'pkcs8' }), use, undefined, alg);
  const kid = `${kidPrefix}-${key.kid.slice(0, 16)}`;
  return { ...key, kid, publicJwk: { ...key.publicJwk, kid } };
}

/** The private JWK of a key (for tests that have to act as the provider); never for logs or responses. */
export function privateJwk(key: RelyingPartyKey): Jwk {
  return { ...(key.privateKey.export({ format: 'jwk' }) as Jwk), kid: key.kid, alg: key.alg, use: key.use };
}
