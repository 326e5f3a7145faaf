import { type ProviderResponse, ProviderUnreachableError } from './http-client.js';
import { LoginFailure } from '../common/problem/login-failure.js';
import { JwsVerificationError, verifyCompactJws, type Jwk } from './jws-verify.js';

type Fetch = (url: string) => Promise<Pick<ProviderResponse, 'ok' | 'status' | 'json'>>;

/**
 * A provider's signing keys: fetched lazily, cached for `ttlMs`, re-fetched once when a token names a key we do not
 * have (key rotation) but at most every `refetchCooldownMs`, so forged `kid`s cannot make us hammer the provider.
 * When the provider is down the last good copy keeps verifying.
 */
export class JwksCache {
  private keys?: { set: Jwk[]; fetchedAt: number };
  private inFlight?: Promise<void>;

  constructor(
    private readonly jwksUri: () => Promise<string>,
    private readonly fetch: Fetch,
    private readonly ttlMs: number,
    private readonly refetchCooldownMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  async verify(jws: string, algorithms: string[]): Promise<{ header: Record<string, unknown>; payload: Buffer }> {
    await this.ensureFresh();
    try {
      return verifyCompactJws(jws, this.keys!.set, algorithms);
    } catch (error) {
      const unknownKey = error instanceof JwsVerificationError && error.reason === 'no_matching_key';
      if (!unknownKey || this.now() - this.keys!.fetchedAt < this.refetchCooldownMs) throw error;
      await this.refresh();
      return verifyCompactJws(jws, this.keys!.set, algorithms);
    }
  }

  /** The provider's whole key set (signing and encryption keys), e.g. to encrypt a request object to it. */
  async keySet(): Promise<readonly Jwk[]> {
    await this.ensureFresh();
    return this.keys!.set;
  }

  private async ensureFresh(): Promise<void> {
    if (this.keys && this.now() - this.keys.fetchedAt < this.ttlMs) return;
    try {
      await this.refresh();
    } catch (error) {
      if (!this.keys) throw error;
      // Stale keys beat no keys: verification still needs a valid signature from a key the provider published.
    }
  }

  private refresh(): Promise<void> {
    this.inFlight ??= this.download().finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  private async download(): Promise<void> {
    const uri = await this.jwksUri();
    const response = await this.fetch(uri);
    if (!response.ok) throw new ProviderUnreachableError(uri, 'network', new Error(`JWKS answered ${response.status}`));
    const jwks = (await response.json().catch(() => undefined)) as { keys?: unknown } | undefined;
    if (!Array.isArray(jwks?.keys) || !jwks.keys.every((key) => typeof key === 'object' && key !== null)) {
      throw new LoginFailure('provider_misconfigured', `${uri} is not a JWK set`);
    }
    this.keys = { set: jwks.keys as Jwk[], fetchedAt: this.now() };
  }
}
