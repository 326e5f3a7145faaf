import { describe, expect, it } from '@jest/globals';
import { errorText, noticeText, withMessage } from './page-messages.js';

describe('page messages', () => {
  it('shows only texts of its own for the codes in ?notice= and ?error=, never what the query said', () => {
    expect(noticeText('linked')).toBe('The sign-in method was added to your account.');
    expect(errorText('last_login_method')).toContain('last way to sign in');
    expect(errorText('not_found')).toBe('Not found.');
    for (const made of ['__proto__', 'constructor', '<script>', 'toString', ['linked'], undefined]) {
      expect([made, noticeText(made), errorText(made)]).toEqual([made, null, null]);
    }
  });

  it('adds the message to the page path it came back to, keeping its query', () => {
    expect(withMessage('/account', 'notice', 'linked')).toBe('/account?notice=linked');
    expect(withMessage('/console/requests?status=all', 'error', 'four_eyes_required')).toBe(
      '/console/requests?status=all&error=four_eyes_required',
    );
  });
});
