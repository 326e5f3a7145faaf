import type { ProviderHttpClient, ProviderResponse } from '../../oidc/http-client.js';
import { LoginFailure } from '../../common/problem/login-failure.js';
import type { SignicatApiToken } from './signicat-api-token.js';

/** `POST /auth/rest/sessions` (docs/providers.md#eherkenning-sessions). */
export interface CreateSessionRequest {
  flow: 'redirect';
  allowedProviders: string[];
  requestedAttributes: string[];
  callbackUrls: { success: string; abort: string; error: string };
  externalReference: string;
  sessionLifetime: number;
  language: string;
  requestedLoa?: string;
}

export interface CreatedSession {
  id: string;
  authenticationUrl: string;
}

/** Signicat's session ids are UUIDs; anything else never reaches a URL path or our database. */
const SESSION_ID = /^[A-Za-z0-9-]{8,128}$/;

export const isSessionId = (value: unknown): value is string => typeof value === 'string' && SESSION_ID.test(value);

/**
 * The two calls of the Signicat Authentication REST API a login needs, with the API token; a 401 drops the token
 * and retries once with a new one (Signicat may revoke a token before it expires). Every answer that is not what
 * the API promises becomes a LoginFailure with a stable code; a transport failure stays a ProviderUnreachableError
 * (reported as provider_unavailable).
 */
export class SignicatRestClient {
  private readonly sessionsUrl: URL;

  constructor(
    baseUrl: URL,
    private readonly token: SignicatApiToken,
    private readonly http: ProviderHttpClient,
  ) {
    this.sessionsUrl = new URL('auth/rest/sessions', withSlash(baseUrl));
  }

  async createSession(request: CreateSessionRequest): Promise<CreatedSession> {
    const response = await this.call('POST', this.sessionsUrl, JSON.stringify(request));
    const body = await this.json(response, 'create_session', [200, 201]);
    if (!isSessionId(body.id) || typeof body.authenticationUrl !== 'string') {
      throw new LoginFailure('provider_error', 'Signicat created a session without a usable id or URL', {
        stage: 'create_session',
      });
    }
    return { id: body.id, authenticationUrl: body.authenticationUrl };
  }

  /** The session as Signicat has it now; null when Signicat no longer knows it (it expired and was removed). */
  async getSession(id: string): Promise<Record<string, unknown> | null> {
    if (!isSessionId(id)) throw new LoginFailure('login_state_invalid', 'not a Signicat session id');
    const response = await this.call('GET', new URL(`${this.sessionsUrl.pathname}/${id}`, this.sessionsUrl));
    if (response.status === 404 || response.status === 410) return null;
    return this.json(response, 'get_session', [200]);
  }

  private async call(method: string, url: URL, body?: string): Promise<ProviderResponse> {
    for (let attempt = 0; ; attempt += 1) {
      const token = await this.token.get();
      const response = await this.http.fetch(url, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          accept: 'application/json',
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
        body,
      });
      if (response.status !== 401 || attempt > 0) return response;
      this.token.invalidate(token);
    }
  }

  private async json(response: ProviderResponse, stage: string, ok: number[]): Promise<Record<string, unknown>> {
    const audit = { stage, httpStatus: response.status };
    if (response.status >= 500 || response.status === 429) {
      throw new LoginFailure('provider_unavailable', 'the Signicat API failed', audit);
    }
    if (response.status === 401 || response.status === 403) {
      throw new LoginFailure('provider_misconfigured', 'the Signicat API refused our API token', audit);
    }
    if (!ok.includes(response.status)) {
      throw new LoginFailure('provider_error', `the Signicat API answered ${response.status}`, audit);
    }
    const body: unknown = await response.json().catch(() => null);
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new LoginFailure('provider_error', 'the Signicat API answered without a JSON object', audit);
    }
    return body as Record<string, unknown>;
  }
}

function withSlash(url: URL): URL {
  return new URL(url.pathname.endsWith('/') ? url.href : `${url.href}/`);
}
