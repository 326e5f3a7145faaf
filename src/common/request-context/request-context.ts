import { randomUUID } from 'node:crypto';
import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';

/**
 * The request id travels explicitly (request → meta → audit event / SERMI log record), not through
 * AsyncLocalStorage: on Node 20 that turns on promise hooks for every promise of every request (about 5 % of the
 * CPU of a request in the benchmark).
 */
const REQUEST_ID = Symbol('requestId');
const RECEIVED_AT = Symbol('receivedAt');

type WithRequestId = Request & { [REQUEST_ID]?: string; [RECEIVED_AT]?: number };

export function setRequestId(req: Request, requestId: string, receivedAt?: number): void {
  (req as WithRequestId)[REQUEST_ID] = requestId;
  (req as WithRequestId)[RECEIVED_AT] = receivedAt;
}

/** When the request arrived (performance.now()), for timing what it finishes (e.g. a login). */
export function receivedAtOf(req: Request): number | undefined {
  return (req as WithRequestId)[RECEIVED_AT];
}

/** The id the first middleware gave this request; null only for a request that never passed it. */
export function requestIdOf(req: Request): string | null {
  return (req as WithRequestId)[REQUEST_ID] ?? null;
}

/** Controller parameter: this request's id, for the audit events and log records the call writes. */
export const RequestId = createParamDecorator((_data: unknown, context: ExecutionContext) =>
  requestIdOf(context.switchToHttp().getRequest<Request>()),
);

const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{8,128}$/;

/** An incoming X-Request-Id is kept when it looks like an id (so upstream traces line up); otherwise a new one. */
export function acceptOrCreateRequestId(incoming: string | string[] | undefined): string {
  return typeof incoming === 'string' && SANE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
}
