import type { ProviderHttpClient } from '../../oidc/http-client.js';
import { LoginFailure } from '../../common/problem/login-failure.js';

/** RFC 6749 2.3.1: client id and secret are form-encoded before they go into the Basic header. */
const formEncode = (value: string) => encodeURIComponent(value).replace(/%20/g, '+');

/** Renew this long before the token expires (at most a tenth of its lifetime), so no call carries a dying token. */
const RENEW_BEFORE_SECONDS = 30;

/**
 * The Signicat API token: OAuth2 client credentials (scope `signicat-api`, client_secret_basic), kept in memory until
 * shortly before `expires_in`. Concurrent logins share one request; a token the API refused is dropped with
 * `invalidate`. The token is never logged or stored.
 */
export class SignicatApiToken {
  private cached?: { token: string; renewAt: number };
  private inflight?: Promise<string>;

  constructor(
    private readonly endpoint: URL,
    private readonly clientId: string,
    private readonly clientSecret: string,
    private readonly http: ProviderHttpClient,
    private readonly now: () => number = Date.now,
  ) {}

  get(): Promise<string> {
    if (this.cached && this.now() < this.cached.renewAt) return Promise.resolve(this.cached.token);
    this.inflight ??= this.request().finally(() => (this.inflight = undefined));
    return this.inflight;
  }

  /** Drops `token` (the API answered 401): the next `get` asks for a new one. */
  invalidate(token: string): void {
    if (this.cached?.token === token) this.cached = undefined;
  }

  private async request(): Promise<string> {
    const response = await this.http.fetch(this.endpoint, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${formEncode(this.clientId)}:${formEncode(this.clientSecret)}`).toString('base64')}`,
        accept: 'application/json',
      },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'signicat-api' }),
    });
    const audit = { stage: 'api_token', httpStatus: response.status };
    if (response.status >= 500 || response.status === 429) {
      throw new LoginFailure('provider_unavailable', 'the Signicat token endpoint failed', audit);
    }
    if (response.status !== 200) {
      // 400 invalid_client / 401: our credentials are wrong, nothing a user can fix by trying again.
      throw new LoginFailure('provider_misconfigured', 'Signicat refused the API client credentials', audit);
    }
    const body = (await response.json().catch(() => null)) as Record<string, unknown> | null;
    const token = body?.access_token;
    const expiresIn = body?.expires_in;
    if (typeof token !== 'string' || token.length === 0 || typeof expiresIn !== 'number' || !(expiresIn > 0)) {
      throw new LoginFailure('provider_error', 'the Signicat token response is not usable', audit);
    }
    const margin = Math.min(RENEW_BEFORE_SECONDS, expiresIn / 10);
    this.cached = { token, renewAt: this.now() + (expiresIn - margin) * 1000 };
    return token;
  }
}
