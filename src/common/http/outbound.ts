import type { IncomingHttpHeaders } from 'node:http';
import { Agent, type Dispatcher } from 'undici';

/** An answer read whole. `body` is null for a 204, a 304 and a HEAD. */
export interface OutboundAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer | null;
}

export interface OutboundCall {
  method: string;
  headers: Record<string, string>;
  body?: string | Uint8Array;
  /** One deadline from the call on: connecting, sending and reading the whole answer. */
  timeoutMs: number;
  /** An answer longer than this fails the call. */
  maxBytes: number;
  /** The caller giving up counts as a timeout. */
  signal?: AbortSignal | null;
}

export type OutboundFailureReason = 'timeout' | 'network' | 'too_large';

/**
 * Why a call got no answer: no answer in time (or the caller gave up), an answer longer than the call takes
 * (`too_large`), or anything else (refused, reset).
 */
export class OutboundFailure extends Error {
  constructor(
    readonly reason: OutboundFailureReason,
    cause?: unknown,
  ) {
    // Not `instanceof Error`: socket errors can come from another realm (Node's own, under a test runner's VM).
    const message = (cause as { message?: unknown } | undefined)?.message;
    const why = typeof message === 'string' ? `: ${message}` : '';
    super(
      `${reason === 'timeout' ? 'no answer in time' : reason === 'too_large' ? 'answer too large' : 'no answer'}${why}`,
      {
        cause,
      },
    );
    this.name = 'OutboundFailure';
  }
}

/**
 * A pool of keep-alive connections per origin for `sendWhole`, with a connect timeout: `sendWhole` stops waiting at
 * its own deadline, and a request still queued for a connection then is dropped once it gets one. An idle connection
 * is kept as long as the server's Keep-Alive header allows, at most `keepIdleMaxMs`.
 */
export const outboundAgent = (timeoutMs: number, options: { connections?: number; keepIdleMaxMs?: number } = {}) =>
  new Agent({
    connections: options.connections ?? 64,
    connect: { timeout: timeoutMs },
    ...(options.keepIdleMaxMs === undefined ? {} : { keepAliveMaxTimeout: options.keepIdleMaxMs }),
  });

/**
 * One HTTP call on undici's dispatcher, the answer read whole — about half the CPU of node:http per call and a fraction
 * of fetch's (docs/benchmark.md#costs-of-the-building-blocks). Every failure is an OutboundFailure, a request undici
 * refuses (a bad header, a closed agent) included: undici reports those through the handler too.
 */
export function sendWhole(dispatcher: Dispatcher, url: URL, call: OutboundCall): Promise<OutboundAnswer> {
  const { method, headers, body, signal } = call;
  return new Promise<OutboundAnswer>((resolve, reject) => {
    let settled = false;
    let controller: Dispatcher.DispatchController | undefined;
    let status = 0;
    let fields: IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    let size = 0;
    const settle = () => {
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', abort);
    };
    const fail = (reason: OutboundFailureReason, cause?: unknown) => {
      if (settled) return;
      settle();
      controller?.abort(cause instanceof Error ? cause : new Error(reason));
      reject(new OutboundFailure(reason, cause));
    };
    const timer = setTimeout(() => fail('timeout'), call.timeoutMs);
    const abort = () => fail('timeout', signal?.reason);
    if (signal?.aborted) return abort();
    signal?.addEventListener('abort', abort, { once: true });
    dispatcher.dispatch(
      { origin: url.origin, path: `${url.pathname}${url.search}`, method, headers, body },
      {
        onRequestStart: (started) => {
          controller = started;
          if (settled) started.abort(new Error('timeout'));
        },
        // Called again for each 1xx: the last call is the answer.
        onResponseStart: (_, statusCode, responseHeaders) => {
          status = statusCode;
          fields = responseHeaders;
        },
        onResponseData: (_, chunk) => {
          size += chunk.length;
          if (size > call.maxBytes) fail('too_large', new Error(`answer longer than ${call.maxBytes} bytes`));
          else chunks.push(chunk);
        },
        onResponseEnd: () => {
          if (settled) return;
          settle();
          const noBody = status === 204 || status === 304 || method === 'HEAD';
          resolve({ status, headers: fields, body: noBody ? null : Buffer.concat(chunks) });
        },
        onResponseError: (_, error) => {
          const timedOut = (error as { code?: unknown }).code === 'UND_ERR_CONNECT_TIMEOUT';
          fail(timedOut ? 'timeout' : 'network', error);
        },
      },
    );
  });
}
