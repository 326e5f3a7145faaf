import { compactDecrypt } from 'jose';
import type { RelyingPartyKey } from './rp-keys.js';

/**
 * Key management and content encryption we accept (docs/oidc-hardening.md#encryption-itsme). RSA1_5 is not on the
 * list: it is open to padding-oracle attacks and refused whatever the provider sends.
 */
export const JWE_KEY_ALGORITHMS = ['RSA-OAEP', 'RSA-OAEP-256'] as const;
export const JWE_CONTENT_ALGORITHMS = ['A128CBC-HS256', 'A256CBC-HS512', 'A128GCM', 'A256GCM'] as const;

export class JweDecryptionError extends Error {
  constructor(
    readonly reason: 'malformed' | 'algorithm_not_allowed' | 'no_matching_key' | 'decryption_failed' | 'not_a_jws',
  ) {
    super(`JWE refused: ${reason}`);
    this.name = 'JweDecryptionError';
  }
}

/**
 * Decrypts a nested JWT (signed, then encrypted to us) down to its inner compact JWS, which the caller verifies
 * like any signed token. Several keys may decrypt during a key rotation: a JWE with a `kid` is tried with that key
 * only; without one, with each key in turn. A retired key is simply no longer in the list.
 */
export class JweDecryptor {
  constructor(private readonly keys: readonly RelyingPartyKey[]) {
    if (keys.length === 0) throw new Error('JweDecryptor needs at least one key');
  }

  static isJwe(token: string): boolean {
    return token.split('.').length === 5;
  }

  async decrypt(jwe: string): Promise<string> {
    const parts = jwe.split('.');
    if (parts.length !== 5) throw new JweDecryptionError('malformed');
    let header: Record<string, unknown>;
    try {
      header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8')) as Record<string, unknown>;
    } catch {
      throw new JweDecryptionError('malformed');
    }
    if (typeof header !== 'object' || header === null || header.zip !== undefined || header.crit !== undefined) {
      throw new JweDecryptionError('malformed');
    }
    const alg = String(header.alg);
    const enc = String(header.enc);
    if (
      !(JWE_KEY_ALGORITHMS as readonly string[]).includes(alg) ||
      !(JWE_CONTENT_ALGORITHMS as readonly string[]).includes(enc)
    ) {
      throw new JweDecryptionError('algorithm_not_allowed');
    }
    const candidates = header.kid === undefined ? this.keys : this.keys.filter((key) => key.kid === header.kid);
    if (candidates.length === 0) throw new JweDecryptionError('no_matching_key');
    for (const key of candidates) {
      let plaintext: Uint8Array;
      try {
        ({ plaintext } = await compactDecrypt(jwe, key.privateKey, {
          keyManagementAlgorithms: [...JWE_KEY_ALGORITHMS],
          contentEncryptionAlgorithms: [...JWE_CONTENT_ALGORITHMS],
        }));
      } catch {
        continue;
      }
      const inner = Buffer.from(plaintext).toString('utf8');
      // Only a signed token may be inside: an unsigned one (`alg: none`, empty signature) is refused here already.
      if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(inner)) throw new JweDecryptionError('not_a_jws');
      return inner;
    }
    throw new JweDecryptionError(header.kid === undefined ? 'no_matching_key' : 'decryption_failed');
  }
}
