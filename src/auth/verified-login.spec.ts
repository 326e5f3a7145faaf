import { describe, expect, it } from '@jest/globals';
import { authTimeOf } from './verified-login.js';

describe('authTimeOf (ID token auth_time)', () => {
  const now = Date.UTC(2026, 11, 1, 12, 0, 0);
  const seconds = now / 1000;

  it.each([
    ['a time a minute ago', seconds - 60, new Date(now - 60_000)],
    ['a time slightly ahead of our clock (skew), capped at now', seconds + 30, new Date(now)],
  ])('reads %s', (_case, value, expected) => {
    expect(authTimeOf({ auth_time: value }, now)).toEqual(expected);
  });

  it.each([
    ['absent', undefined],
    ['a string', '1700000000'],
    ['zero', 0],
    ['negative', -5],
    ['far in the future', seconds + 3600],
    ['beyond any date', 1e300],
    ['not finite', Number.POSITIVE_INFINITY],
  ])('treats %s as unknown', (_case, value) => {
    expect(authTimeOf({ auth_time: value }, now)).toBeNull();
  });
});
