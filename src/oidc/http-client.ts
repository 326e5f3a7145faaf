import type { IncomingHttpHeaders } from 'node:http';
import type { Agent } from 'undici';
import { type OutboundFailure, outboundAgent, sendWhole } from '../common/http/outbound.js';
import type { ProviderCallObserver } from '../operations/metrics.js';

export interface OutboundRequest {
  method?: string;
  headers?: Record<string, string> | Headers;
  body?: string | URLSearchParams | Uint8Array | null;
  signal?: AbortSignal | null;
}

/** Raised for every transport failure (refused, reset, DNS, timeout): the provider is unreachable, retry later. */
export class ProviderUnreachableError extends Error {
  constructor(
    readonly url: string,
    readonly reason: 'timeout' | 'network',
    cause?: unknown,
  ) {
    super(`${reason === 'timeout' ? 'timed out' : 'could not reach'} ${new URL(url).origin}`, { cause });
    this.name = 'ProviderUnreachableError';
  }
}

/** A provider answered with more than any genuine answer holds (MAX_RESPONSE_BYTES): broken, not unreachable. */
export class ProviderAnswerTooLargeError extends Error {
  constructor(readonly url: string) {
    super(`${new URL(url).origin} answered with more than ${MAX_RESPONSE_BYTES} bytes`);
    this.name = 'ProviderAnswerTooLargeError';
  }
}

const MAX_RESPONSE_BYTES = 1024 * 1024;

const utf8 = new TextDecoder();

/**
 * A provider's answer headers: what `Headers` offers for reading, over the names Node already lower-cased. The
 * fields are private, so that an answer logged as an error's cause shows none of them.
 */
export class ProviderResponseHeaders {
  readonly #fields: IncomingHttpHeaders;

  constructor(fields: IncomingHttpHeaders) {
    this.#fields = fields;
  }

  get(name: string): string | null {
    const value = this.#fields[name.toLowerCase()];
    if (value === undefined) return null;
    return Array.isArray(value) ? value.join(', ') : value;
  }

  has(name: string): boolean {
    return this.#fields[name.toLowerCase()] !== undefined;
  }

  /** In name order, each Set-Cookie on its own, as `Headers` iterates. */
  *[Symbol.iterator](): IterableIterator<[string, string]> {
    for (const name of Object.keys(this.#fields).sort()) {
      const value = this.#fields[name];
      if (name === 'set-cookie' && Array.isArray(value)) for (const cookie of value) yield [name, cookie];
      else if (value !== undefined) yield [name, this.get(name)!];
    }
  }
}

/**
 * A provider's answer, read whole before it is handed on: the part of the fetch `Response` that openid-client,
 * oauth4webapi and the provider modules read (status, headers, the body once as text or JSON, a clone), without
 * undici's Response and Headers, whose body stream and WebIDL checks cost about ten times the CPU per call
 * (docs/benchmark.md#costs-of-the-building-blocks). oauth4webapi takes it for a Response by its toStringTag, as it
 * does a Response from another realm; http-client.spec.ts holds it to the real one. The body is private: oauth4webapi
 * makes an unexpected answer the `cause` of its error, and a log of that error must not carry the body.
 */
export class ProviderResponse {
  readonly headers: ProviderResponseHeaders;
  readonly #bytes: Buffer | null;
  #used = false;

  constructor(
    readonly status: number,
    headers: IncomingHttpHeaders | ProviderResponseHeaders,
    bytes: Buffer | null,
  ) {
    this.#bytes = bytes;
    this.headers = headers instanceof ProviderResponseHeaders ? headers : new ProviderResponseHeaders(headers);
  }

  get ok(): boolean {
    return this.status >= 200 && this.status <= 299;
  }

  get bodyUsed(): boolean {
    return this.#used;
  }

  /** Only `cancel()` is ever called on it (a body not read). */
  get body(): { cancel(): Promise<void> } | null {
    if (this.#bytes === null) return null;
    return { cancel: async () => void (this.#used = true) };
  }

  async text(): Promise<string> {
    if (this.#bytes === null) return '';
    if (this.#used) throw new TypeError('Body is unusable: Body has already been read');
    this.#used = true;
    // Decoded as fetch decodes a body: UTF-8, a leading byte order mark dropped.
    return utf8.decode(this.#bytes);
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text()) as unknown;
  }

  /** The same answer with another body (an ID token decrypted in it). */
  withBody(body: string): ProviderResponse {
    return new ProviderResponse(this.status, this.headers, Buffer.from(body, 'utf8'));
  }

  clone(): ProviderResponse {
    if (this.#used) throw new TypeError('Response.clone: Body has already been consumed.');
    return new ProviderResponse(this.status, this.headers, this.#bytes);
  }

  get [Symbol.toStringTag](): string {
    return 'Response';
  }
}

/**
 * A `fetch` for calls to identity providers, on undici's connection pools with keep-alive (`sendWhole`), handing the
 * answer on read whole: Node 20's global fetch costs several times the CPU per call
 * (docs/benchmark.md#costs-of-the-building-blocks), and every login makes two or three calls. A hard timeout covers
 * connect, request and response; responses above 1 MiB are refused.
 */
export class ProviderHttpClient {
  private readonly agent: Agent;

  constructor(
    private readonly timeoutMs: number,
    /** Told every call's duration and failure (the provider's metrics). */
    private readonly observe: ProviderCallObserver = () => undefined,
  ) {
    this.agent = outboundAgent(timeoutMs);
  }

  readonly fetch = async (input: string | URL, init: OutboundRequest = {}): Promise<ProviderResponse> => {
    const startedAt = performance.now();
    const url = new URL(input);
    const method = init.method ?? 'GET';
    const headers = init.headers instanceof Headers ? Object.fromEntries(init.headers) : { ...(init.headers ?? {}) };
    const body = init.body instanceof URLSearchParams ? init.body.toString() : (init.body ?? undefined);
    if (body !== undefined && init.body instanceof URLSearchParams && !hasHeader(headers, 'content-type')) {
      headers['content-type'] = 'application/x-www-form-urlencoded;charset=UTF-8';
    }
    try {
      const answer = await sendWhole(this.agent, url, {
        method,
        headers,
        body,
        timeoutMs: this.timeoutMs,
        maxBytes: MAX_RESPONSE_BYTES,
        signal: init.signal,
      });
      this.observe((performance.now() - startedAt) / 1000, answer.status >= 500 ? 'status_5xx' : null);
      return new ProviderResponse(answer.status, answer.headers, answer.body);
    } catch (error) {
      const { reason, cause } = error as OutboundFailure;
      this.observe((performance.now() - startedAt) / 1000, reason);
      if (reason === 'too_large') throw new ProviderAnswerTooLargeError(url.href);
      throw new ProviderUnreachableError(url.href, reason, cause);
    }
  };

  close(): void {
    void this.agent.destroy().catch(() => undefined);
  }
}

function hasHeader(headers: Record<string, string>, name: string): boolean {
  return Object.keys(headers).some((key) => key.toLowerCase() === name);
}
