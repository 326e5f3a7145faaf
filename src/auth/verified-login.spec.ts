import { describe, expect, it } from '@jest/globals';
import { authTimeOf, providerClockAheadMs } from './verified-login.js';

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

describe("authTimeOf on a provider's clock that is not ours (its iat)", () => {
  // 300 ms into a second: an iat of this second was set within the last 300 ms.
  const now = Date.UTC(2026, 11, 1, 12, 0, 0) + 300;
  const seconds = Math.floor(now / 1000);

  it.each([
    ['in step with ours', seconds, seconds - 5, now - 300 - 5000],
    ['in step, its answer slow (iat of the second before)', seconds - 1, seconds - 5, now - 300 - 5000],
    ['30 s ahead', seconds + 30, seconds + 25, now - 300 - 5000],
    ['40 s behind', seconds - 40, seconds - 45, now - 300 - 5000],
  ])('reads a sign-in 5 s ago on a clock %s as 5 s ago on ours', (_case, iat, authTime, expected) => {
    expect(authTimeOf({ auth_time: authTime, iat }, now)).toEqual(new Date(expected));
  });

  it('moves a sign-in a clock ahead of ours reports as just now into the past, not to now', () => {
    // 30 s ahead, and the sign-in 20 s before this login's start 2 s ago: without the iat it would read as now.
    expect(authTimeOf({ auth_time: seconds + 30 - 22, iat: seconds + 30 }, now)).toEqual(new Date(now - 300 - 22_000));
    expect(authTimeOf({ auth_time: seconds + 30 - 22 }, now)).toEqual(new Date(now));
  });

  it('counts clocks within a second and a half as one, and reads whole seconds beyond', () => {
    expect(providerClockAheadMs(seconds, now)).toBe(0);
    expect(providerClockAheadMs(seconds + 1, now)).toBe(0);
    expect(providerClockAheadMs(seconds - 1, now)).toBe(0);
    expect(providerClockAheadMs(seconds + 2, now)).toBe(2000);
    expect(providerClockAheadMs(seconds - 2, now)).toBe(-2000);
    expect(providerClockAheadMs(undefined, now)).toBe(0);
    expect(providerClockAheadMs('1700000000', now)).toBe(0);
  });
});
