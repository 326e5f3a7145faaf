import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
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

const jwksOf = async (app: TestApp) => (await request(app.http).get('/.well-known/jwks.json')).body as JSONWebKeySet;
const kidsOf = async (app: TestApp) => (await jwksOf(app)).keys.map((key) => key.kid);
const grantFrom = async (app: TestApp) => (await app.app.get(AccessGrantSigner).sign(CLAIMS, new Date())).token;
const kidOf = (token: string) => decodeProtectedHeader(token).kid!;
const verifies = async (token: string, app: TestApp) =>
  jwtVerify(token, createLocalJWKSet(await jwksOf(app)), { algorithms: ['ES256'] }).then(
    () => true,
    () => false,
  );
/** What happens once every grant of a key has expired and nobody signs with it any more. */
const publicationEnds = (app: TestApp, kid: string) =>
  app.dataSource.query(`UPDATE sermi_grant_keys SET published_until = now() - interval '1 second' WHERE kid = $1`, [
    kid,
  ]);
const publishedUntil = async (app: TestApp, kid: string) =>
  (
    (await app.dataSource.query(`SELECT published_until FROM sermi_grant_keys WHERE kid = $1`, [kid]))[0] as {
      published_until: Date;
    }
  ).published_until;

/**
 * Rotating the grant key without breaking a content system that caches the JWKS: the next key can be announced
 * before it signs, and the previous one stays published — by every instance, without anyone listing it — until the
 * last grant it signed has expired.
 */
describe('access grant key rotation', () => {
  const previous = p256();
  const next = p256();
  let database: TestDatabase;
  let before: TestApp;
  let after: TestApp;

  beforeAll(async () => {
    database = await createTestDatabase();
    const run = (env: Record<string, string>) => startTestApp(env, { database });
    // Step 1 of a rotation: the next key announced (environment files often hold a PEM on one line with \n).
    before = await run({
      SERMI_GRANT_SIGNING_KEY: previous.privatePem,
      SERMI_GRANT_PUBLISHED_PUBLIC_KEYS: next.publicPem.replace(/\n/g, '\\n'),
    });
    // Step 2: the next key signs; the previous one is not listed by hand.
    after = await run({ SERMI_GRANT_SIGNING_KEY: next.privatePem });
  });
  afterAll(async () => {
    await Promise.all([before, after].map((app) => app?.close()));
    await database.drop();
  });

  it('publishes the signing key first, then the announced and previous keys, each once', async () => {
    const oldKid = kidOf(await grantFrom(before));
    const newKid = kidOf(await grantFrom(after));
    expect(await kidsOf(before)).toEqual([oldKid, newKid]);
    expect(await kidsOf(after)).toEqual([newKid, oldKid]);
    expect((await jwksOf(after)).keys.map((key) => [key.alg, key.use, key.crv, key.d])).toEqual([
      ['ES256', 'sig', 'P-256', undefined],
      ['ES256', 'sig', 'P-256', undefined],
    ]);
  });

  it('keeps a grant of the previous key verifiable after the switch, until every grant it signed has expired', async () => {
    const oldGrant = await grantFrom(before);
    const newGrant = await grantFrom(after);
    // A content system that fetched the JWKS before the switch already knows the next key.
    expect(await verifies(newGrant, before)).toBe(true);
    expect(await verifies(oldGrant, after)).toBe(true);
    // Published at least until the grant expires (and a margin for the next refresh).
    const { exp } = decodeJwt(oldGrant);
    expect((await publishedUntil(after, kidOf(oldGrant))).getTime()).toBeGreaterThan(exp! * 1000);

    await publicationEnds(after, kidOf(oldGrant));
    expect(await kidsOf(after)).toEqual([kidOf(newGrant)]);
    expect(await verifies(oldGrant, after)).toBe(false);
    expect(await verifies(newGrant, after)).toBe(true);
  });
});

describe('access grant keys across instances', () => {
  const keyA = p256();
  const keyB = p256();
  let database: TestDatabase;
  let deployment1: TestApp;
  let deployment2: TestApp;
  let ephemeral1: TestApp;
  let ephemeral2: TestApp;

  beforeAll(async () => {
    database = await createTestDatabase();
    const run = (env: Record<string, string>) => startTestApp(env, { database });
    deployment1 = await run({ SERMI_GRANT_SIGNING_KEY: keyA.privatePem });
    deployment2 = await run({ SERMI_GRANT_SIGNING_KEY: keyB.privatePem });
    // Development: no key configured, each instance generates its own.
    ephemeral1 = await run({});
    ephemeral2 = await run({});
  });
  afterAll(async () => {
    await Promise.all([deployment1, deployment2, ephemeral1, ephemeral2].map((app) => app?.close()));
    await database.drop();
  });

  it("publishes a key on another instance's JWKS from start, and a grant it signed verifies there", async () => {
    const grantA = await grantFrom(deployment1);
    const kidB = kidOf(await grantFrom(deployment2));
    expect(await kidsOf(deployment2)).toEqual(expect.arrayContaining([kidB, kidOf(grantA)]));
    expect((await kidsOf(deployment2))[0]).toBe(kidB);
    expect(await verifies(grantA, deployment2)).toBe(true);

    await publicationEnds(deployment2, kidOf(grantA));
    expect(await kidsOf(deployment2)).not.toContain(kidOf(grantA));
    expect(await verifies(grantA, deployment2)).toBe(false);
  });

  it('lets grants of ephemeral development keys verify on every instance', async () => {
    const grant1 = await grantFrom(ephemeral1);
    const grant2 = await grantFrom(ephemeral2);
    expect(kidOf(grant1)).not.toBe(kidOf(grant2));
    expect(await verifies(grant1, ephemeral2)).toBe(true);
    expect(await verifies(grant2, ephemeral1)).toBe(true);
  });

  it('does not write per grant, and moves the publication forward while the key keeps signing', async () => {
    const kidB = kidOf(await grantFrom(deployment2));
    const until = await publishedUntil(deployment2, kidB);
    for (let i = 0; i < 5; i += 1) await grantFrom(deployment2);
    expect(await publishedUntil(deployment2, kidB)).toEqual(until);

    // Later (the instance's clock moved past its refresh interval): the next grant refreshes the row first.
    const clock = jest.spyOn(Date, 'now').mockReturnValue(Date.now() + 10 * 60 * 1000);
    try {
      await grantFrom(deployment2);
    } finally {
      clock.mockRestore();
    }
    expect((await publishedUntil(deployment2, kidB)).getTime()).toBeGreaterThan(until.getTime());
  });
});
