import { describe, expect, it } from '@jest/globals';
import { authenticationAgeParameters, demandsNewSignIn, type LoginIntent } from './login-starters.js';

const intent = (overrides: Partial<LoginIntent> = {}): LoginIntent => ({
  purpose: 'login',
  accountId: null,
  returnTo: '/',
  browserBinding: 'b'.repeat(43),
  ...overrides,
});

describe('which logins demand a new sign-in at the provider', () => {
  it.each<[string, Partial<LoginIntent>, { alwaysFresh?: boolean }]>([
    ['a link', { purpose: 'link', accountId: 'a' }, {}],
    ['a re-authentication', { purpose: 'reauthenticate', accountId: 'a' }, {}],
    ['one that attaches a held identity', { attachPendingIdentityId: 'p' }, {}],
    ['any login at a provider whose logins must all be new (the SERMI Trust Centre)', {}, { alwaysFresh: true }],
  ])('%s does', (_, overrides, policy) => {
    expect(demandsNewSignIn(intent(overrides), policy)).toBe(true);
  });

  it('a plain login elsewhere does not, even when the person asks to sign in as someone else', () => {
    expect(demandsNewSignIn(intent(), {})).toBe(false);
    expect(demandsNewSignIn(intent({ prompt: 'login' }), { alwaysFresh: false })).toBe(false);
  });

  it('asks for it with prompt=login and max_age=0; otherwise for a sign-in no older than the maximum age', () => {
    expect(authenticationAgeParameters(intent(), { loginMaxAgeSeconds: 3600, newSignIn: true })).toEqual({
      prompt: 'login',
      max_age: '0',
    });
    expect(authenticationAgeParameters(intent(), { loginMaxAgeSeconds: 3600, newSignIn: false })).toEqual({
      max_age: '3600',
    });
    expect(
      authenticationAgeParameters(intent({ prompt: 'select_account' }), { loginMaxAgeSeconds: 60, newSignIn: false }),
    ).toEqual({ prompt: 'select_account', max_age: '60' });
  });
});
