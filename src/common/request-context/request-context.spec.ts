import { describe, expect, it } from '@jest/globals';
import { acceptOrCreateRequestId } from './request-context.js';

describe('acceptOrCreateRequestId', () => {
  it('keeps a sane incoming id so traces line up across services', () => {
    expect(acceptOrCreateRequestId('lb-7f3a9c2e.trace:0001')).toBe('lb-7f3a9c2e.trace:0001');
  });

  it.each([
    ['too short', 'abc'],
    ['log injection', 'abc\ndef-ghijkl'],
    ['too long', 'a'.repeat(129)],
    ['repeated header', ['a1b2c3d4e5', 'f6']],
  ])('replaces an id that is %s with a new UUID', (_, incoming) => {
    expect(acceptOrCreateRequestId(incoming as string)).toMatch(/^[0-9a-f-]{36}$/);
  });
});
