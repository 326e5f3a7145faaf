import { describe, expect, it } from '@jest/globals';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { ProviderUnreachableError } from './http-client.js';
import { JwksCache } from './jwks-cache.js';
import { JwsVerificationError } from './jws-verify.js';

async function signer(kid: string) {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  return { jwk, sign: () => new SignJWT({ sub: 'x' }).setProtectedHeader({ alg: 'RS256', kid }).sign(privateKey) };
}

/** A provider's JWKS endpoint under the test's control, and a clock the test moves. */
function provider(initial: object[]) {
  const state = { keys: initial, down: false, fetches: 0, now: 1_000_000 };
  const fetch = async () => {
    state.fetches += 1;
    if (state.down) throw new ProviderUnreachableError('https://idp.example/jwks', 'network');
    return new Response(JSON.stringify({ keys: state.keys }), { status: 200 });
  };
  const cache = new JwksCache(
    async () => 'https://idp.example/jwks',
    fetch,
    600_000,
    30_000,
    () => state.now,
  );
  return { state, cache };
}

describe('JwksCache', () => {
  it('fetches lazily once and verifies from the cache until the TTL ends', async () => {
    const a = await signer('a');
    const { state, cache } = provider([a.jwk]);
    expect(state.fetches).toBe(0);
    await cache.verify(await a.sign(), ['RS256']);
    await cache.verify(await a.sign(), ['RS256']);
    expect(state.fetches).toBe(1);
    state.now += 600_001;
    await cache.verify(await a.sign(), ['RS256']);
    expect(state.fetches).toBe(2);
  });

  it('re-fetches once for an unknown kid (key rotation), but not again within the cooldown', async () => {
    const a = await signer('a');
    const b = await signer('b');
    const { state, cache } = provider([a.jwk]);
    await cache.verify(await a.sign(), ['RS256']);
    state.now += 30_001;
    state.keys = [a.jwk, b.jwk];
    await cache.verify(await b.sign(), ['RS256']);
    expect(state.fetches).toBe(2);
    const stranger = await signer('stranger');
    await expect(cache.verify(await stranger.sign(), ['RS256'])).rejects.toBeInstanceOf(JwsVerificationError);
    await expect(cache.verify(await stranger.sign(), ['RS256'])).rejects.toBeInstanceOf(JwsVerificationError);
    expect(state.fetches).toBe(2);
  });

  it('keeps verifying with the last good keys while the provider is down', async () => {
    const a = await signer('a');
    const { state, cache } = provider([a.jwk]);
    await cache.verify(await a.sign(), ['RS256']);
    state.down = true;
    state.now += 600_001;
    await expect(cache.verify(await a.sign(), ['RS256'])).resolves.toBeDefined();
    expect(state.fetches).toBe(2);
  });

  it('fails with the transport error when there are no keys yet and the provider is down', async () => {
    const { state, cache } = provider([]);
    state.down = true;
    await expect(cache.verify('a.b.c', ['RS256'])).rejects.toBeInstanceOf(ProviderUnreachableError);
  });
});
