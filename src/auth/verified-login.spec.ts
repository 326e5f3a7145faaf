import { describe, expect, it } from '@jest/globals';
import { authTimeAsStamped, authTimeOf, signedInDuringLogin } from './verified-login.js';

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

describe('authTimeAsStamped (the sign-in an ID token names)', () => {
  const now = Date.UTC(2026, 11, 1, 12, 0, 0);
  const seconds = now / 1000;

  it('keeps the value as stamped, also slightly ahead of our clock, where authTimeOf caps it', () => {
    expect(authTimeAsStamped({ auth_time: seconds + 30 }, now)).toEqual(new Date(now + 30_000));
    expect(authTimeAsStamped({ auth_time: seconds - 60 }, now)).toEqual(new Date(now - 60_000));
    // Two callbacks of one sign-in, a second apart on this clock, name the same sign-in.
    expect(authTimeAsStamped({ auth_time: seconds + 30 }, now + 1000)).toEqual(
      authTimeAsStamped({ auth_time: seconds + 30 }, now),
    );
  });

  it.each([
    ['absent', undefined],
    ['far in the future', seconds + 3600],
    ['zero', 0],
  ])('treats %s as unknown', (_case, value) => {
    expect(authTimeAsStamped({ auth_time: value }, now)).toBeNull();
  });
});

describe('signedInDuringLogin (durations, no two clocks compared)', () => {
  // The login started 10 s before the token arrived, by the database's count and then this process's.
  const startedAtLocal = 50_000;
  const answeredAt = 60_000;
  const seen = (ageAtIssue: number, providerClock: number) =>
    signedInDuringLogin({ iat: providerClock, auth_time: providerClock - ageAtIssue }, startedAtLocal, answeredAt);

  it.each([
    ['3 s after the start', 7],
    ['at the start, its second cut short', 10],
  ])('takes a sign-in %s for a new one, on any provider clock', (_case, ageAtIssue) => {
    for (const providerClock of [1_700_000_000, 1_700_003_600, 1_699_996_400]) {
      expect(seen(ageAtIssue, providerClock)).toBe(true);
    }
  });

  it.each([
    ['two seconds before the start', 12],
    ['a minute before', 70],
  ])('takes a sign-in %s for an earlier one, on any provider clock', (_case, ageAtIssue) => {
    for (const providerClock of [1_700_000_000, 1_700_003_600, 1_699_996_400]) {
      expect(seen(ageAtIssue, providerClock)).toBe(false);
    }
  });

  it('counts a token issued before the sign-in it names as no new one', () => {
    expect(signedInDuringLogin({ iat: 1_700_000_000, auth_time: 1_700_003_600 }, startedAtLocal, answeredAt)).toBe(
      false,
    );
    expect(signedInDuringLogin({ iat: 1_700_000_000, auth_time: 1_700_000_002 }, startedAtLocal, answeredAt)).toBe(
      false,
    );
    // The same second, or the fraction of it iat dropped: a sign-in just before the token, as it should be.
    for (const authTime of [1_700_000_000, 1_700_000_000.6, 1_700_000_001]) {
      expect(signedInDuringLogin({ iat: 1_700_000_000, auth_time: authTime }, startedAtLocal, answeredAt)).toBe(true);
    }
  });

  it('counts a token that says nothing of the sign-in as no new one', () => {
    expect(signedInDuringLogin({ iat: 1_700_000_000 }, startedAtLocal, answeredAt)).toBe(false);
    expect(signedInDuringLogin({ auth_time: 1_700_000_000 }, startedAtLocal, answeredAt)).toBe(false);
    expect(signedInDuringLogin(undefined, startedAtLocal, answeredAt)).toBe(false);
  });
});
