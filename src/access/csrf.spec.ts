import { describe, expect, it } from '@jest/globals';
import type { Request } from 'express';
import { AppException } from '../common/problem/app-exception.js';
import { assertSameOriginRequest, provesTrustedSource, takeFormCsrfToken } from './csrf.js';
import { csrfTokenFor, newSessionToken } from './session-token.js';

const trusted = new Set(['https://portal.example']);
const token = newSessionToken();

function attempt(headers: Record<string, string>): string | 'passed' {
  try {
    assertSameOriginRequest({ headers } as unknown as Request, token, trusted);
    return 'passed';
  } catch (error) {
    return (error as AppException).code;
  }
}

describe('assertSameOriginRequest', () => {
  const csrf = { 'x-csrf-token': csrfTokenFor(token) };

  it('passes a same-origin request with the session CSRF token', () => {
    expect(attempt({ origin: 'https://portal.example', ...csrf })).toBe('passed');
  });

  it('passes a non-browser client that sends the token but no Origin or Referer', () => {
    expect(attempt(csrf)).toBe('passed');
  });

  it.each([
    ['a foreign Origin', { origin: 'https://evil.example', ...csrf }],
    ['an opaque Origin', { origin: 'null', ...csrf }],
    ['a foreign Referer when Origin is absent', { referer: 'https://evil.example/page', ...csrf }],
    ['a browser-reported cross-site request', { 'sec-fetch-site': 'cross-site', ...csrf }],
    ['a missing token', { origin: 'https://portal.example' }],
    [
      'the token of another session',
      { origin: 'https://portal.example', 'x-csrf-token': csrfTokenFor(newSessionToken()) },
    ],
  ])('refuses %s', (_, headers) => {
    expect(attempt(headers)).toBe('csrf_check_failed');
  });
});

describe('provesTrustedSource (a sign-out without token)', () => {
  const proves = (headers: Record<string, string>) => provesTrustedSource({ headers } as unknown as Request, trusted);

  it.each([
    ['a trusted Origin', { origin: 'https://portal.example' }, true],
    ['a trusted Referer', { referer: 'https://portal.example/account' }, true],
    ['Sec-Fetch-Site same-origin alone', { 'sec-fetch-site': 'same-origin' }, true],
    ['nothing at all (a non-browser client)', {}, false],
    ['a foreign Origin', { origin: 'https://evil.example' }, false],
    [
      'a trusted Origin that the browser reports cross-site',
      { origin: 'https://portal.example', 'sec-fetch-site': 'cross-site' },
      false,
    ],
  ])('%s: %s', (_, headers, expected) => {
    expect(proves(headers)).toBe(expected);
  });
});

describe('the CSRF token of a form post', () => {
  const form = (body: Record<string, unknown>, contentType = 'application/x-www-form-urlencoded') =>
    ({
      headers: { 'content-type': contentType, origin: 'https://portal.example' },
      body,
      is: (type: string) => (contentType === type ? type : false),
    }) as unknown as Request;

  it('is taken out of a url-encoded body, so no route sees it as input, and checked like the header', () => {
    const req = form({ _csrf: csrfTokenFor(token), provider: 'itsme' });
    const presented = takeFormCsrfToken(req);
    expect(req.body).toEqual({ provider: 'itsme' });
    expect(() => assertSameOriginRequest(req, token, trusted, presented)).not.toThrow();
  });

  it('refuses a wrong or missing form token, and never reads one from a JSON body', () => {
    const wrong = form({ _csrf: csrfTokenFor(newSessionToken()) });
    expect(() => assertSameOriginRequest(wrong, token, trusted, takeFormCsrfToken(wrong))).toThrow(AppException);
    const json = form({ _csrf: csrfTokenFor(token) }, 'application/json');
    expect(takeFormCsrfToken(json)).toBeUndefined();
    expect(json.body).toEqual({ _csrf: csrfTokenFor(token) });
    expect(() => assertSameOriginRequest(json, token, trusted, takeFormCsrfToken(json))).toThrow(AppException);
  });
});
