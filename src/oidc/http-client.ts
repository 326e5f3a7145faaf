import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
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

const MAX_RESPONSE_BYTES = 1024 * 1024;

/**
 * A `fetch` for calls to identity providers, on node:http with keep-alive: Node 20's global fetch costs several
 * times the CPU per call (docs/benchmark.md#costs-of-the-building-blocks), and every login makes two or three
 * calls. A hard timeout covers connect, request and response; responses above 1 MiB are refused.
 */
export class ProviderHttpClient {
  private readonly httpAgent = new HttpAgent({ keepAlive: true, maxSockets: 64 });
  private readonly httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets: 64 });

  constructor(
    private readonly timeoutMs: number,
    /** Told every call's duration and failure (the provider's metrics). */
    private readonly observe: ProviderCallObserver = () => undefined,
  ) {}

  readonly fetch = (input: string | URL, init: OutboundRequest = {}): Promise<Response> => {
    const startedAt = performance.now();
    const url = new URL(input);
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const agent = url.protocol === 'https:' ? this.httpsAgent : this.httpAgent;
    const headers = init.headers instanceof Headers ? Object.fromEntries(init.headers) : { ...(init.headers ?? {}) };
    const body = init.body instanceof URLSearchParams ? init.body.toString() : (init.body ?? undefined);
    if (body !== undefined && init.body instanceof URLSearchParams && !hasHeader(headers, 'content-type')) {
      headers['content-type'] = 'application/x-www-form-urlencoded;charset=UTF-8';
    }
    return new Promise<Response>((resolve, reject) => {
      let settled = false;
      const fail = (error: unknown, reason: 'timeout' | 'network') => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        init.signal?.removeEventListener('abort', abort);
        req.destroy();
        this.observe((performance.now() - startedAt) / 1000, reason);
        reject(
          error instanceof ProviderUnreachableError ? error : new ProviderUnreachableError(url.href, reason, error),
        );
      };
      const timer = setTimeout(() => fail(undefined, 'timeout'), this.timeoutMs);
      const abort = () => fail(init.signal?.reason, 'timeout');
      init.signal?.addEventListener('abort', abort, { once: true });
      const req = send(url, { method: init.method ?? 'GET', headers, agent }, (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_RESPONSE_BYTES) fail(new Error('response too large'), 'network');
          else chunks.push(chunk);
        });
        res.on('error', (error) => fail(error, 'network'));
        res.on('end', () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          init.signal?.removeEventListener('abort', abort);
          const status = res.statusCode ?? 502;
          this.observe((performance.now() - startedAt) / 1000, status >= 500 ? 'status_5xx' : null);
          const responseHeaders = new Headers();
          for (const [name, value] of Object.entries(res.headers)) {
            if (Array.isArray(value)) value.forEach((v) => responseHeaders.append(name, v));
            else if (value !== undefined) responseHeaders.set(name, value);
          }
          const noBody = status === 204 || status === 304 || (init.method ?? 'GET') === 'HEAD';
          resolve(new Response(noBody ? null : Buffer.concat(chunks), { status, headers: responseHeaders }));
        });
      });
      req.on('error', (error) => fail(error, 'network'));
      req.end(body);
    });
  };

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}

function hasHeader(headers: Record<string, string>, name: string): boolean {
  return Object.keys(headers).some((key) => key.toLowerCase() === name);
}
