import { describe, expect, it } from '@jest/globals';
import { CompactEncrypt, type JWK } from 'jose';
import { JweDecryptionError, JweDecryptor } from './jwe-decrypt.js';
import { generateKey, parseKeys, privateJwk } from './rp-keys.js';

const current = generateKey('enc', 'enc-new');
const previous = generateKey('enc', 'enc-old');
const retired = generateKey('enc', 'enc-retired');
const decryptor = new JweDecryptor([current, previous]);
const SIGNED = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl';

function encrypt(
  plaintext: string,
  key: typeof current,
  header: Record<string, unknown> = {},
  kid: string | undefined = key.kid,
): Promise<string> {
  return new CompactEncrypt(new TextEncoder().encode(plaintext))
    .setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256GCM', ...(kid ? { kid } : {}), ...header } as never)
    .encrypt({ ...key.publicJwk, alg: header.alg ?? 'RSA-OAEP-256' } as JWK);
}

/** A JWE whose protected header says something else (the tag no longer matches, but the header is read first). */
function withHeader(jwe: string, header: Record<string, unknown>): string {
  const [, ...rest] = jwe.split('.');
  return [Buffer.from(JSON.stringify(header)).toString('base64url'), ...rest].join('.');
}

async function reason(jwe: Promise<string> | string): Promise<string> {
  try {
    return await decryptor.decrypt(await jwe);
  } catch (error) {
    return error instanceof JweDecryptionError ? error.reason : String(error);
  }
}

describe('JweDecryptor (nested JWTs encrypted to us)', () => {
  it('decrypts to the inner JWS with the key the kid names, also with the previous key during a rotation', async () => {
    expect(await reason(encrypt(SIGNED, current))).toBe(SIGNED);
    expect(await reason(encrypt(SIGNED, previous))).toBe(SIGNED);
    expect(await reason(encrypt(SIGNED, current, { alg: 'RSA-OAEP', enc: 'A128CBC-HS256' }))).toBe(SIGNED);
  });

  it('tries every key when the JWE names none', async () => {
    expect(await reason(encrypt(SIGNED, previous, {}, undefined))).toBe(SIGNED);
  });

  it('refuses a JWE to a key we do not hold or no longer hold', async () => {
    expect(await reason(encrypt(SIGNED, retired))).toBe('no_matching_key');
    expect(await reason(encrypt(SIGNED, retired, {}, undefined))).toBe('no_matching_key');
    expect(await reason(encrypt(SIGNED, retired, {}, current.kid))).toBe('decryption_failed');
  });

  it('refuses RSA1_5, unknown content encryption, compression and crit headers before decrypting', async () => {
    const jwe = await encrypt(SIGNED, current);
    const header = { alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: current.kid };
    expect(await reason(withHeader(jwe, { ...header, alg: 'RSA1_5' }))).toBe('algorithm_not_allowed');
    expect(await reason(withHeader(jwe, { ...header, alg: 'dir' }))).toBe('algorithm_not_allowed');
    expect(await reason(withHeader(jwe, { ...header, enc: 'A128CBC-HS999' }))).toBe('algorithm_not_allowed');
    expect(await reason(withHeader(jwe, { ...header, zip: 'DEF' }))).toBe('malformed');
    expect(await reason(withHeader(jwe, { ...header, crit: ['exp'] }))).toBe('malformed');
    expect(await reason('a.b.c')).toBe('malformed');
  });

  it('refuses a JWE wrapping an unsigned token (alg none, empty signature) or something that is no JWS', async () => {
    const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.eyJzdWIiOiJ4In0.`;
    expect(await reason(encrypt(unsigned, current))).toBe('not_a_jws');
    expect(await reason(encrypt('{"sub":"x"}', current))).toBe('not_a_jws');
  });
});

describe('parseKeys (ITSME_SIGNING_KEY / ITSME_ENCRYPTION_KEYS)', () => {
  it('reads a private JWK, a list, a JWK set and PEM, keeping or deriving kids', () => {
    const jwk = privateJwk(current);
    expect(parseKeys(JSON.stringify(jwk), 'enc').map((key) => key.kid)).toEqual([current.kid]);
    expect(parseKeys(JSON.stringify({ keys: [jwk, privateJwk(previous)] }), 'enc')).toHaveLength(2);
    const pem = current.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const [fromPem] = parseKeys(pem.replace(/\n/g, '\\n'), 'sig');
    expect(fromPem).toMatchObject({ alg: 'RS256', use: 'sig' });
    expect(fromPem.kid).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(fromPem.publicJwk).not.toHaveProperty('d');
  });

  it('refuses public keys, wrong uses and algorithms, duplicate kids and garbage, without echoing the value', () => {
    const jwk = privateJwk(current);
    const { d: _d, ...publicOnly } = jwk;
    const message = (value: string, use: 'sig' | 'enc') => {
      try {
        parseKeys(value, use);
        return 'accepted';
      } catch (error) {
        return (error as Error).message;
      }
    };
    expect(message(JSON.stringify(publicOnly), 'enc')).toBe('every JWK must be a private key');
    expect(message(JSON.stringify(jwk), 'sig')).toBe('a key has use enc');
    expect(message(JSON.stringify({ ...jwk, use: undefined, alg: 'RSA1_5' }), 'enc')).toMatch(/not allowed/);
    expect(message(JSON.stringify([jwk, jwk]), 'enc')).toBe('kids must be unique');
    expect(message('not a key', 'sig')).not.toContain('not a key');
  });
});
