import { describe, expect, it } from '@jest/globals';
import {
  csrfTokenFor,
  csrfTokenMatches,
  hashSessionToken,
  looksLikeSessionToken,
  newSessionToken,
} from './session-token.js';

describe('session tokens', () => {
  it('are 256-bit base64url values, different every time', () => {
    const a = newSessionToken();
    const b = newSessionToken();
    expect(a).not.toEqual(b);
    expect(looksLikeSessionToken(a)).toBe(true);
    expect(Buffer.from(a, 'base64url')).toHaveLength(32);
  });

  it('are stored as a SHA-256 digest, never as themselves', () => {
    const token = newSessionToken();
    const hash = hashSessionToken(token);
    expect(hash).toHaveLength(32);
    expect(hash.toString('base64url')).not.toEqual(token);
  });

  it('reject values that cannot be a token before any lookup', () => {
    expect(looksLikeSessionToken('short')).toBe(false);
    expect(looksLikeSessionToken(`${newSessionToken()}x`)).toBe(false);
    expect(looksLikeSessionToken("' OR 1=1 --                                 ")).toBe(false);
    expect(looksLikeSessionToken(undefined)).toBe(false);
  });

  it('derive a CSRF token bound to the session that differs from the stored hash', () => {
    const token = newSessionToken();
    const csrf = csrfTokenFor(token);
    expect(csrfTokenMatches(token, csrf)).toBe(true);
    expect(csrfTokenMatches(newSessionToken(), csrf)).toBe(false);
    expect(csrfTokenMatches(token, undefined)).toBe(false);
    expect(csrfTokenMatches(token, `${csrf}x`)).toBe(false);
    expect(csrf).not.toEqual(hashSessionToken(token).toString('base64url'));
  });
});
