import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { JWK, JWTPayload } from 'jose';
import { generateSigningKey } from '../../sandbox/common/oidc-sandbox.js';
import { Browser } from '../support/browser.js';
import {
  errorPage,
  footprint,
  IOE,
  loginFailures,
  startDigidentityTestbed,
  type DigidentityTestbed,
} from '../support/digidentity-testbed.js';
import type { ForgedToken, Hostility } from '../support/hostile-provider.js';

/**
 * The relying-party checks of docs/oidc-hardening.md (the OpenID Foundation's rp-* / oidcc-client-test
 * cases that apply to the code flow), against a real provider whose responses are rewritten and re-signed.
 * Every refusal: the login lands on the error page with a specific code, nothing is written but the audit event,
 * and user-info is never fetched after a bad ID token.
 */
describe('Digidentity login against a hostile provider', () => {
  let bed: DigidentityTestbed;
  let ps256: JWK;
  let es256: JWK;
  let rs384: JWK;

  beforeAll(async () => {
    [ps256, es256, rs384] = await Promise.all([
      generateSigningKey('PS256'),
      generateSigningKey('ES256'),
      generateSigningKey('RS384'),
    ]);
    bed = await startDigidentityTestbed({ env: { DIGIDENTITY_ID_TOKEN_ALGORITHMS: 'RS256,PS256,ES256' } });
  });
  afterEach(() => {
    bed.hostile.hostility = {};
  });
  afterAll(async () => bed.close());

  const providerKey = () => bed.sandbox.signingKeys[0];
  const publicJwks = (keys: JWK[]) => ({
    keys: keys.map(({ d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicPart }) => publicPart),
  });

  /** Runs a complete login with `hostility` active and returns where the browser ended up, plus what changed. */
  async function loginWith(hostility: Hostility) {
    const before = await footprint(bed);
    const requestsBefore = bed.hostile.requests.length;
    bed.hostile.hostility = hostility;
    const response = await bed.webLogin(new Browser(), IOE.id);
    bed.hostile.hostility = {};
    return {
      location: response.location,
      changed: JSON.stringify(await footprint(bed)) !== JSON.stringify(before),
      userinfoCalled: bed.hostile.requests.slice(requestsBefore).includes('/oauth2/user_info.json'),
      lastFailure: (await loginFailures(bed)).at(-1),
    };
  }

  async function expectRefusal(hostility: Hostility, code: string) {
    const result = await loginWith(hostility);
    expect(result.location).toBe(errorPage(bed, code));
    expect(result.changed).toBe(false);
    expect(result.lastFailure).toMatchObject({ provider: 'digidentity', code });
    return result;
  }

  it('accepts the untouched provider (control case)', async () => {
    const result = await loginWith({});
    expect(result.location).toBe(`${bed.app.baseUrl}/portal/home`);
    expect(result.userinfoCalled).toBe(true);
  });

  describe('ID token claims', () => {
    const now = () => Math.floor(Date.now() / 1000);
    it.each<[string, (claims: Record<string, unknown>) => Record<string, unknown>]>([
      ['a wrong iss', (c) => ({ ...c, iss: 'https://evil.example' })],
      ['a missing iss', ({ iss: _iss, ...c }) => c],
      ['a wrong aud', (c) => ({ ...c, aud: 'someone-else' })],
      ['a missing aud', ({ aud: _aud, ...c }) => c],
      ['an aud array with an extra untrusted audience', (c) => ({ ...c, aud: [c.aud, 'untrusted'] })],
      ['an extra audience although azp names us', (c) => ({ ...c, aud: [c.aud, 'untrusted'], azp: c.aud })],
      ['an azp naming another client (single aud)', (c) => ({ ...c, azp: 'another-client' })],
      ['a missing sub', ({ sub: _sub, ...c }) => c],
      ['a missing iat', ({ iat: _iat, ...c }) => c],
      ['an iat far in the past', (c) => ({ ...c, iat: now() - 3 * 3600, exp: now() + 600 })],
      ['an iat 10 minutes in the future', (c) => ({ ...c, iat: now() + 600, exp: now() + 1200 })],
      ['an expired exp', (c) => ({ ...c, exp: now() - 600 })],
      ['a missing exp', ({ exp: _exp, ...c }) => c],
      ['a wrong nonce', (c) => ({ ...c, nonce: 'not-the-one-sent' })],
      ['a missing nonce', ({ nonce: _nonce, ...c }) => c],
    ])('refuses %s, without fetching user-info', async (_, mutate) => {
      const result = await expectRefusal(
        { idToken: (claims, header) => ({ claims: mutate(claims), header }) },
        'id_token_invalid',
      );
      expect(result.userinfoCalled).toBe(false);
    });
  });

  it('refuses an ID token issued before the sign-in it names (auth_time after iat) as no new sign-in', async () => {
    await expectRefusal(
      { idToken: (claims, header) => ({ claims: { ...claims, auth_time: (claims.iat as number) + 3600 }, header }) },
      'authentication_not_fresh',
    );
  });

  describe('ID token signatures (verified although the token came from the token endpoint)', () => {
    it('refuses a corrupted RS256 signature, without fetching user-info', async () => {
      const result = await expectRefusal(
        { idToken: (claims, header) => ({ claims, header, corruptSignature: true }) },
        'id_token_invalid',
      );
      expect(result.userinfoCalled).toBe(false);
    });

    it.each([
      ['PS256', () => ps256],
      ['ES256', () => es256],
    ])('refuses a corrupted %s signature', async (_, key) => {
      bed.sandbox.publishedKeys.push(key());
      try {
        await expectRefusal(
          { idToken: (claims) => ({ claims, header: { kid: key().kid }, signWith: key(), corruptSignature: true }) },
          'id_token_invalid',
        );
      } finally {
        bed.sandbox.publishedKeys.pop();
      }
    });

    it('refuses alg none', async () => {
      await expectRefusal(
        { idToken: (claims, header) => ({ claims, header, signWith: { alg: 'none' } }) },
        'id_token_invalid',
      );
    });

    it('refuses HS256 keyed with the provider’s public key (algorithm confusion)', async () => {
      const publicKey = JSON.stringify(publicJwks([providerKey()]).keys[0]);
      await expectRefusal(
        { idToken: (claims, header) => ({ claims, header, signWith: { alg: 'HS256', hmacSecret: publicKey } }) },
        'id_token_invalid',
      );
    });

    it('refuses a validly signed token in an algorithm outside the allow-list', async () => {
      await expectRefusal(
        { idToken: (claims) => ({ claims, header: { kid: rs384.kid }, signWith: rs384 }) },
        'id_token_invalid',
      );
    });

    it('refuses a validly signed token in an allowed algorithm that discovery does not advertise', async () => {
      // Ours: RS256, PS256, ES256. Discovery: RS256 only (the sandbox's signing key). The PS256 key is published.
      bed.sandbox.publishedKeys.push(ps256);
      try {
        const result = await expectRefusal(
          { idToken: (claims) => ({ claims, header: { kid: ps256.kid }, signWith: ps256 }) },
          'id_token_invalid',
        );
        expect(result.userinfoCalled).toBe(false);
      } finally {
        bed.sandbox.publishedKeys.pop();
      }
    });

    it('refuses a token signed with a key the provider never published', async () => {
      const stranger = await generateSigningKey('RS256');
      await expectRefusal(
        { idToken: (claims) => ({ claims, header: { kid: stranger.kid }, signWith: stranger }) },
        'id_token_invalid',
      );
    });
  });

  describe('keys', () => {
    it('accepts a token without kid when the provider publishes a single key', async () => {
      const result = await loginWith({ idToken: (claims, { kid: _kid, ...header }) => ({ claims, header }) });
      expect(result.location).toBe(`${bed.app.baseUrl}/portal/home`);
    });

    it('refuses a token without kid when several keys could match, rather than guessing', async () => {
      const second = await generateSigningKey('RS256');
      bed.sandbox.publishedKeys.push(second);
      try {
        await expectRefusal(
          { idToken: (claims, { kid: _kid, ...header }) => ({ claims, header, signWith: second }) },
          'id_token_invalid',
        );
      } finally {
        bed.sandbox.publishedKeys.pop();
      }
    });

    it('follows a key rotation: an unknown kid re-fetches the JWKS once and then verifies', async () => {
      const rotated = await generateSigningKey('RS256');
      bed.sandbox.publishedKeys.push(rotated);
      try {
        const jwksFetches = bed.hostile.requests.filter((path) => path === '/oauth2/jwks').length;
        const result = await loginWith({
          idToken: (claims) => ({ claims, header: { kid: rotated.kid }, signWith: rotated }),
        });
        expect(result.location).toBe(`${bed.app.baseUrl}/portal/home`);
        expect(bed.hostile.requests.filter((path) => path === '/oauth2/jwks').length).toBe(jwksFetches + 1);
        // The old key keeps working until it is removed.
        expect((await loginWith({})).location).toBe(`${bed.app.baseUrl}/portal/home`);
      } finally {
        bed.sandbox.publishedKeys.pop();
      }
    });
  });

  describe('user-info', () => {
    it('refuses user-info whose sub differs from the ID token’s', async () => {
      await expectRefusal({ userinfo: (body) => ({ ...body, sub: 'someone-else' }) }, 'userinfo_invalid');
    });

    it('refuses SERMI claims that arrive without the matching sub', async () => {
      await expectRefusal({ userinfo: ({ sub: _sub, ...body }) => body }, 'userinfo_invalid');
    });

    it('refuses an answer larger than any genuine one as the provider’s error, not as an outage', async () => {
      const result = await expectRefusal(
        { userinfo: (body) => ({ ...body, padding: 'x'.repeat(2_000_000) }) },
        'provider_error',
      );
      expect(result.lastFailure).toMatchObject({ stage: 'userinfo' });
    });

    // Claims a signed user-info must carry (iss, aud) are there: only the signature is wrong, or not checked.
    const asJwt = (claims: JWTPayload) => ({
      ...claims,
      iss: bed.sandbox.issuer,
      aud: bed.app.config.digidentity!.clientId,
    });
    it.each<[string, (claims: JWTPayload, header: Record<string, unknown>) => ForgedToken]>([
      ['with a corrupted signature', (claims, header) => ({ claims: asJwt(claims), header, corruptSignature: true })],
      ['unsigned (alg none)', (claims, header) => ({ claims: asJwt(claims), header, signWith: { alg: 'none' } })],
      [
        'even validly signed (this path has no signature check of its own)',
        (c, header) => ({ claims: asJwt(c), header }),
      ],
    ])('refuses user-info sent as a JWT %s, however discovery advertises it', async (_, forgery) => {
      await expectRefusal(
        {
          discovery: (metadata) => ({ ...metadata, userinfo_signing_alg_values_supported: ['none', 'RS256'] }),
          userinfoJwt: forgery,
        },
        'userinfo_invalid',
      );
    });
  });

  describe('authorization response', () => {
    it('refuses a wrong RFC 9207 iss parameter, before calling the token endpoint', async () => {
      const tokenCalls = bed.hostile.requests.filter((path) => path === '/oauth2/token').length;
      await expectRefusal(
        {
          authorizationResponse: (url) => {
            url.searchParams.set('iss', 'https://evil.example');
            return url;
          },
        },
        'authorization_response_invalid',
      );
      expect(bed.hostile.requests.filter((path) => path === '/oauth2/token').length).toBe(tokenCalls);
    });

    it.each([
      ['server_error', 'provider_error'],
      ['invalid_scope', 'provider_error'],
      ['temporarily_unavailable', 'provider_unavailable'],
    ])('reports an authorization error=%s as %s', async (error, code) => {
      await expectRefusal(
        {
          authorizationResponse: (url) => {
            const answer = new URL(url.origin + url.pathname);
            answer.search = new URLSearchParams({
              error,
              error_description: 'the provider says no',
              state: url.searchParams.get('state')!,
              iss: url.searchParams.get('iss')!,
            }).toString();
            return answer;
          },
        },
        code,
      );
    });

    it.each([
      ['access_denied', 'login_cancelled'],
      ['server_error', 'provider_error'],
      ['temporarily_unavailable', 'provider_unavailable'],
    ])('reports error=%s without state as %s, not as a state problem, consuming nothing', async (error, code) => {
      const consumed = async () =>
        (
          await bed.app.dataSource.query(
            `SELECT count(*)::int AS n FROM login_transactions WHERE consumed_at IS NOT NULL`,
          )
        )[0].n;
      const consumedBefore = await consumed();
      const tokenCalls = bed.hostile.requests.filter((path) => path === '/oauth2/token').length;
      const result = await expectRefusal(
        {
          authorizationResponse: (url) => {
            const answer = new URL(url.origin + url.pathname);
            answer.search = new URLSearchParams({ error, iss: url.searchParams.get('iss')! }).toString();
            return answer;
          },
        },
        code,
      );
      expect(result.lastFailure).toMatchObject({ stateMissing: true, oauthError: error });
      expect(await consumed()).toBe(consumedBefore);
      expect(bed.hostile.requests.filter((path) => path === '/oauth2/token').length).toBe(tokenCalls);
    });

    it('refuses a response whose state was removed', async () => {
      await expectRefusal(
        {
          authorizationResponse: (url) => {
            url.searchParams.delete('state');
            return url;
          },
        },
        'login_state_invalid',
      );
    });
  });
});

describe('Digidentity provider availability and metadata', () => {
  it('accepts an allowed algorithm other than RS256 when discovery advertises it', async () => {
    const [rs256, ps256] = await Promise.all([generateSigningKey('RS256'), generateSigningKey('PS256')]);
    const bed = await startDigidentityTestbed({
      signingKeys: [rs256, ps256],
      env: { DIGIDENTITY_ID_TOKEN_ALGORITHMS: 'RS256,PS256' },
    });
    try {
      bed.hostile.hostility = { idToken: (claims) => ({ claims, header: { kid: ps256.kid }, signWith: ps256 }) };
      const response = await bed.webLogin(new Browser(), IOE.id);
      expect(response.location).toBe(`${bed.app.baseUrl}/portal/home`);
    } finally {
      await bed.close();
    }
  });

  it('refuses a provider whose discovery names another issuer, loudly', async () => {
    const bed = await startDigidentityTestbed();
    try {
      bed.hostile.hostility = { discovery: (metadata) => ({ ...metadata, issuer: 'https://impostor.example' }) };
      const before = await footprint(bed);
      const response = await new Browser().request(`${bed.app.baseUrl}/auth/digidentity/login`);
      expect(response.location).toBe(errorPage(bed, 'provider_misconfigured'));
      expect(await footprint(bed)).toEqual(before);
      expect(
        bed.app.logs.lines.some(
          (line) => line.level === 'error' && String(line.msg).includes('does not match the configured issuer'),
        ),
      ).toBe(true);
    } finally {
      await bed.close();
    }
  });

  it('starts while the provider is down, answers a retryable error and writes nothing, and works once it is back', async () => {
    const bed = await startDigidentityTestbed();
    const { port } = new URL(bed.sandbox.issuer);
    await bed.sandbox.close();
    try {
      expect((await new Browser().request(`${bed.app.baseUrl}/ready`)).status).toBe(200);
      const [{ count: before }] = await bed.app.dataSource.query(
        `SELECT count(*)::int AS count FROM login_transactions`,
      );
      const response = await new Browser().request(`${bed.app.baseUrl}/auth/digidentity/login`);
      expect(response.location).toBe(errorPage(bed, 'provider_unavailable'));
      const [{ count: after }] = await bed.app.dataSource.query(
        `SELECT count(*)::int AS count FROM login_transactions`,
      );
      expect(after).toBe(before);
      expect((await loginFailures(bed)).at(-1)).toMatchObject({ code: 'provider_unavailable' });
      expect(port).toBeTruthy();
    } finally {
      await bed.app.close();
    }
  });

  it('gives up on a slow token endpoint with a retryable error, leaving no account or session', async () => {
    const bed = await startDigidentityTestbed();
    try {
      const browser = new Browser();
      const callback = await bed.startWebLogin(browser, IOE.id);
      // Far beyond the testbed's OIDC_HTTP_TIMEOUT_MS; the provider stops waiting when the app gives up.
      bed.hostile.hostility = { tokenDelayMs: 30_000 };
      const before = await footprint(bed);
      const response = await browser.request(callback);
      expect(response.location).toBe(errorPage(bed, 'provider_unavailable'));
      expect(await footprint(bed)).toEqual(before);
    } finally {
      await bed.close();
    }
  });
});
