import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  type SignicatEherkenningSandbox,
  startSignicatEherkenningSandbox,
} from '../../sandbox/signicat-eherkenning/signicat-eherkenning-sandbox.js';
import { ProviderHttpClient } from '../../src/oidc/http-client.js';
import { SignicatApiToken } from '../../src/providers/signicat-eherkenning/signicat-api-token.js';
import { SignicatRestClient } from '../../src/providers/signicat-eherkenning/signicat-rest-client.js';

/** The API token against the sandbox's real token endpoint (client credentials, Basic auth, expiring tokens). */
describe('Signicat API token', () => {
  let sandbox: SignicatEherkenningSandbox;
  const http = new ProviderHttpClient(10_000);

  beforeAll(async () => {
    sandbox = await startSignicatEherkenningSandbox({ tokenLifetimeSeconds: 300 });
  });
  afterAll(async () => {
    http.close();
    await sandbox.close();
  });

  const tokenFor = (secret = sandbox.clientSecret, now?: () => number) =>
    new SignicatApiToken(new URL('/auth/open/connect/token', sandbox.baseUrl), sandbox.clientId, secret, http, now);

  it('shares one token request between concurrent callers and keeps the token until shortly before it expires', async () => {
    let clock = 1_000_000;
    const token = tokenFor(undefined, () => clock);
    const calls = sandbox.counters.token;
    const values = await Promise.all([token.get(), token.get(), token.get(), token.get()]);
    expect(new Set(values).size).toBe(1);
    expect(sandbox.counters.token).toBe(calls + 1);
    clock += 269_000; // 300 s lifetime, renewed 30 s early
    expect(await token.get()).toBe(values[0]);
    clock += 2_000;
    expect(await token.get()).not.toBe(values[0]);
    expect(sandbox.counters.token).toBe(calls + 2);
  });

  it('drops only the token the API refused', async () => {
    const token = tokenFor();
    const first = await token.get();
    token.invalidate('some-older-token');
    expect(await token.get()).toBe(first);
    token.invalidate(first);
    expect(await token.get()).not.toBe(first);
  });

  it('reports wrong client credentials as provider_misconfigured and a failing endpoint as provider_unavailable', async () => {
    await expect(tokenFor('wrong-secret').get()).rejects.toMatchObject({ code: 'provider_misconfigured' });
    sandbox.hostility.status = 503;
    try {
      await expect(tokenFor().get()).rejects.toMatchObject({ code: 'provider_unavailable' });
    } finally {
      delete sandbox.hostility.status;
    }
  });

  it('retries an API call once with a new token after a 401, and gives up after a second 401', async () => {
    const token = tokenFor();
    const api = new SignicatRestClient(new URL(sandbox.baseUrl), token, http);
    await token.get();
    sandbox.revokeTokens();
    const calls = sandbox.counters.token;
    expect(await api.getSession('00000000-0000-4000-8000-000000000000')).toBeNull();
    expect(sandbox.counters.token).toBe(calls + 1);

    const alwaysRevoked = {
      get: async () => 'revoked-token',
      invalidate: () => undefined,
    } as unknown as SignicatApiToken;
    const unauthorized = sandbox.counters.unauthorized;
    await expect(
      new SignicatRestClient(new URL(sandbox.baseUrl), alwaysRevoked, http).getSession(
        '00000000-0000-4000-8000-000000000000',
      ),
    ).rejects.toMatchObject({ code: 'provider_misconfigured' });
    expect(sandbox.counters.unauthorized).toBe(unauthorized + 2);
  });
});
