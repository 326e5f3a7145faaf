import { describe, expect, it } from '@jest/globals';
import { constants, generateKeyPairSync, sign } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { JwsVerificationError, verifyCompactJws, type Jwk } from './jws-verify.js';

async function keyPair(alg: string, kid: string) {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } as Jwk;
  const sign = (claims: Record<string, unknown> = { sub: 'x' }, header: Record<string, unknown> = { kid }) =>
    new SignJWT(claims).setProtectedHeader({ ...header, alg } as never).sign(privateKey);
  return { jwk, sign };
}

const reason = (run: () => unknown) => {
  try {
    run();
    return 'accepted';
  } catch (error) {
    return error instanceof JwsVerificationError ? error.reason : String(error);
  }
};

describe('verifyCompactJws', () => {
  it.each(['RS256', 'PS256', 'ES256', 'ES384', 'EdDSA'])(
    'verifies %s signatures and returns the payload',
    async (alg) => {
      const { jwk, sign } = await keyPair(alg, `k-${alg}`);
      const { payload } = verifyCompactJws(await sign({ sub: 'alice' }), [jwk], [alg]);
      expect(JSON.parse(payload.toString())).toEqual({ sub: 'alice' });
    },
  );

  it('refuses a signature that does not match', async () => {
    const { jwk, sign } = await keyPair('RS256', 'k1');
    const [h, , s] = (await sign()).split('.');
    const forgedPayload = Buffer.from(JSON.stringify({ sub: 'mallory' })).toString('base64url');
    expect(reason(() => verifyCompactJws(`${h}.${forgedPayload}.${s}`, [jwk], ['RS256']))).toBe('bad_signature');
  });

  it('refuses algorithms outside the allow-list, none and HMAC included', async () => {
    const { jwk, sign } = await keyPair('RS256', 'k1');
    expect(
      reason(() => verifyCompactJws(`${Buffer.from('{"alg":"none"}').toString('base64url')}.e30.`, [jwk], ['RS256'])),
    ).toBe('algorithm_not_allowed');
    const token = await sign();
    const hs = `${Buffer.from(JSON.stringify({ alg: 'HS256', kid: 'k1' })).toString('base64url')}.${token.split('.')[1]}.AAAA`;
    expect(reason(() => verifyCompactJws(hs, [jwk], ['RS256', 'HS256']))).toBe('algorithm_not_allowed');
    expect(reason(() => verifyCompactJws(token, [jwk], ['PS256']))).toBe('algorithm_not_allowed');
  });

  it('selects the key by kid, takes the only fitting key without kid, and refuses to guess between several', async () => {
    const one = await keyPair('RS256', 'one');
    const two = await keyPair('RS256', 'two');
    expect(reason(() => verifyCompactJws('', [], ['RS256']))).toBe('malformed');
    const signedByTwo = await two.sign();
    expect(reason(() => verifyCompactJws(signedByTwo, [one.jwk, two.jwk], ['RS256']))).toBe('accepted');
    const noKid = await one.sign({ sub: 'x' }, {});
    expect(reason(() => verifyCompactJws(noKid, [one.jwk], ['RS256']))).toBe('accepted');
    expect(reason(() => verifyCompactJws(noKid, [one.jwk, two.jwk], ['RS256']))).toBe('ambiguous_key');
    expect(reason(() => verifyCompactJws(signedByTwo, [one.jwk], ['RS256']))).toBe('no_matching_key');
  });

  it('ignores keys meant for encryption or for another curve', async () => {
    const signer = await keyPair('ES256', 'ec');
    const token = await signer.sign();
    expect(reason(() => verifyCompactJws(token, [{ ...signer.jwk, use: 'enc' }], ['ES256']))).toBe('no_matching_key');
    expect(reason(() => verifyCompactJws(token, [{ ...signer.jwk, crv: 'P-384' }], ['ES256']))).toBe('no_matching_key');
  });

  it('refuses critical header extensions and unencoded payloads it does not understand', async () => {
    const { jwk, sign } = await keyPair('RS256', 'k1');
    const [, payload, signature] = (await sign()).split('.');
    const header = (extra: object) =>
      Buffer.from(JSON.stringify({ alg: 'RS256', kid: 'k1', ...extra })).toString('base64url');
    expect(
      reason(() => verifyCompactJws(`${header({ crit: ['exp'], exp: 1 })}.${payload}.${signature}`, [jwk], ['RS256'])),
    ).toBe('malformed');
    expect(
      reason(() =>
        verifyCompactJws(`${header({ b64: false, crit: ['b64'] })}.${payload}.${signature}`, [jwk], ['RS256']),
      ),
    ).toBe('malformed');
    expect(reason(() => verifyCompactJws(`not-json.${payload}.${signature}`, [jwk], ['RS256']))).toBe('malformed');
  });

  it('holds RSA-PSS to its salt length and ECDSA to the JOSE signature encoding', async () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const rsaJwk = { ...(rsa.publicKey.export({ format: 'jwk' }) as Jwk), kid: 'pss' };
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const ecJwk = { ...(ec.publicKey.export({ format: 'jwk' }) as Jwk), kid: 'ec' };
    const input = (alg: string, kid: string) =>
      `${Buffer.from(JSON.stringify({ alg, kid })).toString('base64url')}.${Buffer.from('{"sub":"x"}').toString('base64url')}`;

    const pss = input('PS256', 'pss');
    const saltless = sign('sha256', Buffer.from(pss), {
      key: rsa.privateKey,
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength: 0,
    });
    expect(reason(() => verifyCompactJws(`${pss}.${saltless.toString('base64url')}`, [rsaJwk], ['PS256']))).toBe(
      'bad_signature',
    );
    const proper = sign('sha256', Buffer.from(pss), {
      key: rsa.privateKey,
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength: 32,
    });
    expect(reason(() => verifyCompactJws(`${pss}.${proper.toString('base64url')}`, [rsaJwk], ['PS256']))).toBe(
      'accepted',
    );

    const es = input('ES256', 'ec');
    const der = sign('sha256', Buffer.from(es), { key: ec.privateKey, dsaEncoding: 'der' });
    expect(reason(() => verifyCompactJws(`${es}.${der.toString('base64url')}`, [ecJwk], ['ES256']))).toBe(
      'bad_signature',
    );
  });
});
