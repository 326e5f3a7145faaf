import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { JWK, JWTPayload } from 'jose';
import { generateSigningKey } from '../../sandbox/common/oidc-sandbox.js';
import { ITSME_PERSONAS } from '../../sandbox/itsme/personas.js';
import { generateKey, privateJwk } from '../../src/oidc/rp-keys.js';
import { Browser } from '../support/browser.js';
import { auditEvents } from '../support/factories.js';
import { forge, type ForgedToken } from '../support/hostile-provider.js';
import { errorPage, footprint, loginFailures } from '../support/providers-testbed.js';
import { startItsmeTestbed, type ItsmeHostility, type ItsmeTestbed } from '../support/itsme-testbed.js';
import { ItsmeLoginService } from '../../src/providers/itsme/itsme-login.service.js';
import { LoginFailure } from '../../src/common/problem/login-failure.js';

const [PEETERS] = ITSME_PERSONAS;

/**
 * itsme's answers rewritten on their way out — decrypted with our key (the test holds it), changed, re-signed and
 * re-encrypted — as the OpenID Foundation's relying-party tests do (docs/oidc-hardening.md#encryption-itsme and
 * docs/oidc-hardening.md#user-info). Every refusal must leave no account, link or session and write an audit event.
 */
describe('itsme: hostile encrypted responses', () => {
  let bed: ItsmeTestbed;
  let foreignSigningKey: JWK;
  const foreignEncryptionKey = generateKey('enc', 'foreign-enc');

  beforeAll(async () => {
    bed = await startItsmeTestbed({ env: { ITSME_UNKNOWN_IDENTITY_POLICY: 'provision' } });
    foreignSigningKey = await generateSigningKey('RS256', 'foreign-sig');
  });
  afterEach(() => {
    bed.hostility = {};
  });
  afterAll(async () => bed?.close());

  /** Re-signs the inner token of an encrypted answer, then encrypts it to our current key again. */
  const rewritten =
    (forgery: (claims: JWTPayload, header: Record<string, unknown>) => ForgedToken) => async (jwe: string) =>
      bed.encryptTo(
        await forge(await bed.innerOf(jwe), bed.itsme.signingKey, forgery),
        bed.keys.encryption.publicJwk as JWK,
      );

  async function expectRefusal(hostility: ItsmeHostility, code: string, options: { userinfoCalled?: boolean } = {}) {
    bed.hostility = hostility;
    const before = await footprint(bed);
    const userinfoCalls = bed.requests.filter((path) => path === '/userinfo').length;
    const auditedBefore = (await loginFailures(bed)).length;
    const browser = new Browser();
    const response = await bed.login(browser, PEETERS.id);
    expect(response.location).toBe(errorPage(bed, code));
    expect(await footprint(bed)).toEqual(before);
    expect((await browser.request(`${bed.app.baseUrl}/api/me`)).status).toBe(401);
    const failures = await loginFailures(bed);
    expect(failures.length).toBe(auditedBefore + 1);
    expect(failures.at(-1)).toMatchObject({ provider: 'itsme', code });
    if (!options.userinfoCalled) {
      expect(bed.requests.filter((path) => path === '/userinfo').length).toBe(userinfoCalls);
    }
    return failures.at(-1)!;
  }

  it('accepts an honest login (the baseline for the refusals below)', async () => {
    expect((await bed.login(new Browser(), PEETERS.id)).location).toBe(`${bed.app.baseUrl}/portal/home`);
  });

  it('decrypts with the previous encryption key during a rotation', async () => {
    bed.hostility.idToken = async (jwe) =>
      bed.encryptTo(await bed.innerOf(jwe), bed.keys.previousEncryption.publicJwk as JWK);
    expect((await bed.login(new Browser(), PEETERS.id)).location).toBe(`${bed.app.baseUrl}/portal/home`);
  });

  it('refuses an ID token encrypted to a key we do not hold (response_decryption_failed), before user-info', async () => {
    const failure = await expectRefusal(
      { idToken: async (jwe) => bed.encryptTo(await bed.innerOf(jwe), foreignEncryptionKey.publicJwk as JWK) },
      'response_decryption_failed',
    );
    expect(failure).toMatchObject({ reason: 'no_matching_key' });
  });

  it('refuses an ID token encrypted to another key under our kid', async () => {
    const failure = await expectRefusal(
      {
        idToken: async (jwe) =>
          bed.encryptTo(await bed.innerOf(jwe), {
            ...foreignEncryptionKey.publicJwk,
            kid: bed.keys.encryption.kid,
          } as JWK),
      },
      'response_decryption_failed',
    );
    expect(failure).toMatchObject({ reason: 'decryption_failed' });
  });

  it('refuses an ID token encrypted with RSA1_5 (header checked before any decryption)', async () => {
    await expectRefusal(
      {
        idToken: async (jwe) => {
          const [, ...rest] = jwe.split('.');
          const header = { alg: 'RSA1_5', enc: 'A128CBC-HS256', kid: bed.keys.encryption.kid };
          return [Buffer.from(JSON.stringify(header)).toString('base64url'), ...rest].join('.');
        },
      },
      'response_decryption_failed',
    );
  });

  it('refuses an ID token that is not encrypted at all (downgrade)', async () => {
    await expectRefusal({ idToken: async (jwe) => bed.innerOf(jwe) }, 'id_token_invalid');
  });

  it('refuses an inner ID token signed by a foreign key', async () => {
    await expectRefusal(
      {
        idToken: rewritten((claims, header) => ({
          claims,
          header: { ...header, kid: foreignSigningKey.kid },
          signWith: foreignSigningKey,
        })),
      },
      'id_token_invalid',
    );
  });

  it('refuses an unsigned inner ID token (alg: none)', async () => {
    await expectRefusal(
      { idToken: rewritten((claims) => ({ claims, signWith: { alg: 'none' } })) },
      'id_token_invalid',
    );
  });

  it('refuses an inner ID token with a corrupted signature or for another audience', async () => {
    await expectRefusal({ idToken: rewritten((claims) => ({ claims, corruptSignature: true })) }, 'id_token_invalid');
    await expectRefusal(
      { idToken: rewritten((claims) => ({ claims: { ...claims, aud: 'someone-else' } })) },
      'id_token_invalid',
    );
  });

  it('refuses a login that reports the basic level when advanced (the itsme code) was asked for', async () => {
    await expectRefusal(
      {
        idToken: rewritten((claims) => ({
          claims: { ...claims, acr: 'http://itsme.services/v2/claim/acr_basic' },
        })),
      },
      'id_token_invalid',
    );
  });

  it('refuses a login whose ID token reports no authentication level', async () => {
    await expectRefusal(
      {
        idToken: rewritten((claims) => {
          const { acr: _acr, ...withoutAcr } = claims;
          return { claims: withoutAcr };
        }),
      },
      'id_token_invalid',
    );
  });

  it('refuses user-info about another subject', async () => {
    await expectRefusal(
      { userinfo: rewritten((claims) => ({ claims: { ...claims, sub: 'itsme-sub-someone-else' } })) },
      'userinfo_invalid',
      { userinfoCalled: true },
    );
  });

  /** ID token and user-info both about `sub`: a consistent answer, only the subject is odd. */
  const withSubject = (sub: string): ItsmeHostility => ({
    idToken: rewritten((claims) => ({ claims: { ...claims, sub } })),
    userinfo: rewritten((claims) => ({ claims: { ...claims, sub } })),
  });

  it('refuses a subject longer than an identity link holds (255 characters), not a failed insert', async () => {
    const failure = await expectRefusal(withSubject('s'.repeat(256)), 'userinfo_invalid', { userinfoCalled: true });
    expect(failure).toMatchObject({ reason: 'subject_length', length: 256 });
  });

  it('refuses user-info Postgres could not store (NUL, a lone surrogate, deep nesting) as userinfo_invalid', async () => {
    let deep: unknown = 'leaf';
    for (let i = 0; i < 1000; i += 1) deep = [deep];
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ given_name: 'Jan\u0000' }, 'nul'],
      [{ family_name: 'Peeters\ud800' }, 'lone_surrogate'],
      [{ extra: deep }, 'too_deep'],
    ];
    for (const [extra, reason] of cases) {
      const userinfo = rewritten((claims) => ({ claims: { ...claims, ...extra } }));
      const failure = await expectRefusal({ userinfo }, 'userinfo_invalid', { userinfoCalled: true });
      expect(failure).toMatchObject({ reason });
    }
  });

  it('accepts a subject of 255 characters, counted as Postgres counts them', async () => {
    bed.hostility = withSubject('🔑'.repeat(255));
    expect((await bed.login(new Browser(), PEETERS.id)).location).toBe(`${bed.app.baseUrl}/portal/home`);
  });

  it('refuses signed user-info that does not name itsme as issuer and us as audience', async () => {
    const without = (name: 'iss' | 'aud') =>
      rewritten((claims) => {
        const { [name]: _dropped, ...rest } = claims;
        return { claims: rest };
      });
    const cases: Array<ItsmeHostility['userinfo']> = [
      without('iss'),
      without('aud'),
      rewritten((claims) => ({ claims: { ...claims, iss: 'https://idp.elsewhere.example' } })),
      rewritten((claims) => ({ claims: { ...claims, aud: 'another-client' } })),
    ];
    for (const userinfo of cases) await expectRefusal({ userinfo }, 'userinfo_invalid', { userinfoCalled: true });
  });

  it('refuses user-info signed by a foreign key, unsigned, unencrypted or encrypted to a foreign key', async () => {
    const cases: Array<[ItsmeHostility['userinfo'], string]> = [
      [
        rewritten((claims, header) => ({
          claims,
          header: { ...header, kid: foreignSigningKey.kid },
          signWith: foreignSigningKey,
        })),
        'userinfo_invalid',
      ],
      [rewritten((claims) => ({ claims, signWith: { alg: 'none' } })), 'userinfo_invalid'],
      [async (jwe) => bed.innerOf(jwe), 'userinfo_invalid'],
      [
        async (jwe) => bed.encryptTo(await bed.innerOf(jwe), foreignEncryptionKey.publicJwk as JWK),
        'response_decryption_failed',
      ],
    ];
    for (const [userinfo, code] of cases) await expectRefusal({ userinfo }, code, { userinfoCalled: true });
  });

  it('writes a security audit event for a refused decryption without any token in it', async () => {
    await expectRefusal(
      { idToken: async (jwe) => bed.encryptTo(await bed.innerOf(jwe), foreignEncryptionKey.publicJwk as JWK) },
      'response_decryption_failed',
    );
    const [event] = (await auditEvents(bed.app.dataSource, 'auth.login_failed')).slice(-1);
    expect(JSON.stringify(event.details)).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}/);
    expect(JSON.stringify(event.details)).not.toContain(String(privateJwk(bed.keys.encryption).d));
  });
});

describe('itsme unreachable', () => {
  it('answers a start with a retryable error and stores nothing (itsme is asked for PKCE without discovery)', async () => {
    const bed = await startItsmeTestbed();
    try {
      // Down before the app ever read its metadata.
      await bed.itsme.close();
      const logins = async () =>
        (
          await bed.app.dataSource.query<{ count: number }[]>(`SELECT count(*)::int AS count FROM login_transactions`)
        )[0].count;
      const before = await logins();
      const browser = new Browser();
      for (let attempt = 0; attempt < 3; attempt += 1) {
        const start = await browser.request(`${bed.app.baseUrl}/auth/itsme/login`);
        expect(start.location).toBe(errorPage(bed, 'provider_unavailable'));
      }
      expect(await logins()).toBe(before);
    } finally {
      await bed.app.close();
    }
  });

  it('uses up the login it stored when the start fails after that (the key set its request is encrypted to)', async () => {
    const bed = await startItsmeTestbed();
    const { client } = bed.app.app.get(ItsmeLoginService).providerLogout;
    const authorizationUrl = client.authorizationUrl.bind(client);
    client.authorizationUrl = () =>
      Promise.reject(new LoginFailure('provider_unavailable', 'the key set could not be read'));
    try {
      const open = async () =>
        (
          await bed.app.dataSource.query<{ count: number }[]>(
            `SELECT count(*)::int AS count FROM login_transactions WHERE provider = 'itsme' AND consumed_at IS NULL`,
          )
        )[0].count;
      const before = await open();
      const start = await new Browser().request(`${bed.app.baseUrl}/auth/itsme/login`);
      expect(start.location).toBe(errorPage(bed, 'provider_unavailable'));
      expect(await open()).toBe(before);
    } finally {
      client.authorizationUrl = authorizationUrl;
      await bed.close();
    }
  });
});
