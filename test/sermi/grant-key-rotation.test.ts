import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import request from 'supertest';
import { AccessGrantSigner, type AccessGrantClaims } from '../../src/sermi/grants/access-grant-signer.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

function p256() {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

const CLAIMS: AccessGrantClaims = {
  jti: '00000000-0000-4000-8000-000000000001',
  sub: '00000000-0000-4000-8000-000000000002',
  vin: 'WVWZZZ1JZXW000001',
  item: 'IMMO_KEY_PROGRAMMING',
  auth_time: Math.floor(Date.now() / 1000),
  sermi: {
    actorType: 'IOE',
    actor: { sub: 'ioe-sub', uid: 'NL/EXAMPLECAB/1234567890B', organisationUid: 'IO/STREET1/NL123456789B01' },
    principal: { ioeuid: 'NL/EXAMPLECAB/1234567890B', iouid: 'IO/STREET1/NL123456789B01' },
    cabuid: 'EXAMPLECAB',
  },
};

/**
 * Rotating the grant key without breaking a content system that caches the JWKS: the next key is published before
 * it signs, and the previous one stays published until the last grant it signed has expired.
 */
describe('access grant key rotation', () => {
  const previous = p256();
  const next = p256();
  let database: TestDatabase;
  let before: TestApp;
  let during: TestApp;
  let after: TestApp;

  beforeAll(async () => {
    database = await createTestDatabase();
    const run = (env: Record<string, string>) => startTestApp(env, { database });
    before = await run({
      SERMI_GRANT_SIGNING_KEY: previous.privatePem,
      SERMI_GRANT_PUBLISHED_PUBLIC_KEYS: next.publicPem,
    });
    // Environment files often hold a PEM on one line with \n escapes.
    during = await run({
      SERMI_GRANT_SIGNING_KEY: next.privatePem,
      SERMI_GRANT_PUBLISHED_PUBLIC_KEYS: previous.publicPem.replace(/\n/g, '\\n'),
    });
    // Left over from step 1: the signing key's own public half is still listed; it is published once.
    after = await run({ SERMI_GRANT_SIGNING_KEY: next.privatePem, SERMI_GRANT_PUBLISHED_PUBLIC_KEYS: next.publicPem });
  });
  afterAll(async () => {
    await Promise.all([before, during, after].map((app) => app?.close()));
    await database.drop();
  });

  const jwksOf = async (app: TestApp) => (await request(app.http).get('/.well-known/jwks.json')).body as JSONWebKeySet;
  const grantFrom = (app: TestApp) => app.app.get(AccessGrantSigner).sign(CLAIMS, new Date()).token;
  const verifies = async (token: string, app: TestApp) =>
    jwtVerify(token, createLocalJWKSet(await jwksOf(app)), { algorithms: ['ES256'] }).then(
      () => true,
      () => false,
    );

  it('publishes the signing key first and the rotation keys after it, each once', async () => {
    const keys = (await jwksOf(during)).keys;
    expect(keys).toHaveLength(2);
    expect(keys.map((key) => [key.alg, key.use, key.crv])).toEqual([
      ['ES256', 'sig', 'P-256'],
      ['ES256', 'sig', 'P-256'],
    ]);
    expect(decodeProtectedHeader(grantFrom(during)).kid).toBe(keys[0].kid);
    expect((await jwksOf(before)).keys.map((key) => key.kid)).toEqual([keys[1].kid, keys[0].kid]);
    expect((await jwksOf(after)).keys.map((key) => key.kid)).toEqual([keys[0].kid]);
  });

  it('keeps grants of the previous key verifiable during the overlap, and only then', async () => {
    const oldGrant = grantFrom(before);
    const newGrant = grantFrom(during);
    // A content system that fetched the JWKS before the switch already knows the next key.
    expect(await verifies(newGrant, before)).toBe(true);
    expect(await verifies(oldGrant, during)).toBe(true);
    expect(await verifies(oldGrant, after)).toBe(false);
    expect(await verifies(newGrant, after)).toBe(true);
  });
});
