import type { Request } from 'express';
import { AppException } from '../common/problem/app-exception.js';
import { csrfTokenMatches } from './session-token.js';

export const CSRF_HEADER = 'x-csrf-token';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function isStateChanging(req: Request): boolean {
  return !SAFE_METHODS.has(req.method);
}

function originOf(value: string): string | null {
  try {
    return new URL(value).origin;
  } catch {
    return null;
  }
}

/** The origin the browser says the request comes from; undefined when it sent neither Origin nor Referer. */
function sourceOrigin(req: Request): string | null | undefined {
  const origin = req.headers.origin;
  if (origin !== undefined) return origin === 'null' ? null : originOf(origin);
  const referer = req.headers.referer;
  return referer !== undefined ? originOf(referer) : undefined;
}

/**
 * The origin check on its own, for state-changing requests that may come without a session (starting a login):
 * a browser that says the request comes from another site is refused.
 */
export function assertTrustedSource(req: Request, trustedOrigins: ReadonlySet<string>): void {
  const source = sourceOrigin(req);
  if (source !== undefined && (source === null || !trustedOrigins.has(source))) {
    throw new AppException('csrf_check_failed', 'The request did not come from a trusted origin');
  }
  if (req.headers['sec-fetch-site'] === 'cross-site') {
    throw new AppException('csrf_check_failed', 'The browser reports a cross-site request');
  }
}

/**
 * Cookie-authenticated state-changing requests must (1) not come from another site according to the browser
 * (Origin, else Referer, else Sec-Fetch-Site) and (2) carry the session's CSRF token in X-CSRF-Token, which a
 * page on another origin cannot read. SameSite=Lax on the cookie is a third, independent layer.
 */
export function assertSameOriginRequest(req: Request, sessionToken: string, trustedOrigins: ReadonlySet<string>): void {
  assertTrustedSource(req, trustedOrigins);
  const presented = req.headers[CSRF_HEADER];
  if (!csrfTokenMatches(sessionToken, typeof presented === 'string' ? presented : undefined)) {
    throw new AppException('csrf_check_failed', `Missing or wrong ${CSRF_HEADER} header`);
  }
}
