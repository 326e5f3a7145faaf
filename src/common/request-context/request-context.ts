import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

export interface RequestContext {
  requestId: string;
}

export const requestContext = new AsyncLocalStorage<RequestContext>();

export function currentRequestId(): string | undefined {
  return requestContext.getStore()?.requestId;
}

const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{8,128}$/;

/** An incoming X-Request-Id is kept when it looks like an id (so upstream traces line up); otherwise a new one. */
export function acceptOrCreateRequestId(incoming: string | string[] | undefined): string {
  return typeof incoming === 'string' && SANE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
}
