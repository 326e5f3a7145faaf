import { describe, expect, it } from '@jest/globals';
import { afterLoginUrl, pendingPageUrl, pendingReference, referencePrefix } from './login-outcome-pages.js';

const config = {
  login: {
    successUrl: new URL('https://portal.example/home'),
    pendingUrl: new URL('https://portal.example/held?lang=nl'),
  },
} as Parameters<typeof afterLoginUrl>[1];

describe('where a login leads', () => {
  it('returns to the page asked for, and to LOGIN_SUCCESS_URL when none was named', () => {
    expect(afterLoginUrl('/jobs/42', config)).toBe('/jobs/42');
    expect(afterLoginUrl('/', config)).toBe('https://portal.example/home');
  });

  it('sends a held identity to LOGIN_PENDING_URL with the code and a short reference the console finds it by', () => {
    const id = '7f3a9c21-0b1d-4e8e-9a77-3c2d1e0f9a88';
    expect(pendingReference(id)).toBe('7F3A-9C21');
    expect(pendingPageUrl(id, config)).toBe(
      'https://portal.example/held?lang=nl&code=identity_pending&reference=7F3A-9C21',
    );
    for (const typed of ['7F3A-9C21', '7f3a9c21', ' 7f3a-9C21 ']) expect(referencePrefix(typed)).toBe('7f3a9c21');
    for (const wrong of ['7F3A-9C2', '7F3A-9C21X', "7f3a%'", '']) expect(referencePrefix(wrong)).toBeNull();
  });
});
