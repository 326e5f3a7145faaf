import type { Request } from 'express';
import { AppException } from '../common/problem/app-exception.js';
import { csrfTokenMatches } from './session-token.js';

export const CSRF_HEADER = 'x-csrf-token';
/** The same token as a field of an HTML form post (the backend's own pages). */
export const CSRF_FORM_FIELD = '_csrf';
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
 * Whether the browser says the request comes from a trusted origin (not merely that it does not say otherwise), and
 * nothing it sends says another site: what assertTrustedSource accepts, with the origin stated.
 */
export function provesTrustedSource(req: Request, trustedOrigins: ReadonlySet<string>): boolean {
  if (req.headers['sec-fetch-site'] === 'cross-site') return false;
  const source = sourceOrigin(req);
  if (source !== undefined) return source !== null && trustedOrigins.has(source);
  return req.headers['sec-fetch-site'] === 'same-origin';
}

/**
 * Whether the browser says this site opened the request — for reads in the admin area, audited in the admin's name,
 * which no other site may make an admin do (a link, a redirect, an embedded image). `same-site` (a sibling host)
 * counts only with a trusted Origin or Referer; a request the browser made on its own (`none`: typed, bookmarked)
 * counts, and one without the header (not a browser, or an older one) unless its Origin or Referer names another
 * origin.
 */
export function openedFromThisSite(req: Request, trustedOrigins: ReadonlySet<string>): boolean {
  const site = req.headers['sec-fetch-site'];
  if (site === 'cross-site' || site === 'same-site') return provesTrustedSource(req, trustedOrigins);
  if (site !== undefined) return true;
  // A browser without Fetch Metadata (older ones) may still say where the request came from.
  const source = sourceOrigin(req);
  return source === undefined || (source !== null && trustedOrigins.has(source));
}

/**
 * Takes the CSRF form field out of a form post's body, so that no route sees it as input, and returns it. Only
 * url-encoded form bodies carry it; a JSON body's `_csrf` is an ordinary (unknown) field.
 */
export function takeFormCsrfToken(req: Request): string | undefined {
  if (!req.is('application/x-www-form-urlencoded')) return undefined;
  const body = req.body as Record<string, unknown> | undefined;
  if (!body || typeof body !== 'object' || !Object.hasOwn(body, CSRF_FORM_FIELD)) return undefined;
  const value = body[CSRF_FORM_FIELD];
  delete body[CSRF_FORM_FIELD];
  return typeof value === 'string' ? value : undefined;
}

/**
 * Cookie-authenticated state-changing requests must (1) not come from another site according to the browser
 * (Origin, else Referer, else Sec-Fetch-Site) and (2) carry the session's CSRF token in X-CSRF-Token — or, for a
 * form post, in the `_csrf` field — which a page on another origin cannot read. SameSite=Lax on the cookie is a
 * third, independent layer.
 */
export function assertSameOriginRequest(
  req: Request,
  sessionToken: string,
  trustedOrigins: ReadonlySet<string>,
  formToken?: string,
): void {
  assertTrustedSource(req, trustedOrigins);
  const header = req.headers[CSRF_HEADER];
  const presented = typeof header === 'string' ? header : formToken;
  if (!csrfTokenMatches(sessionToken, presented)) {
    throw new AppException('csrf_check_failed', `Missing or wrong ${CSRF_HEADER} header`);
  }
}
