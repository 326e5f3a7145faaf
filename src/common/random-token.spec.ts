import { describe, expect, it } from '@jest/globals';
import { randomToken } from './random-token.js';

describe('randomToken', () => {
  it('gives 32 random bytes as 43 base64url characters by default, and other sizes on request', () => {
    expect(randomToken()).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(randomToken(16), 'base64url')).toHaveLength(16);
    expect(Buffer.from(randomToken(24), 'base64url')).toHaveLength(24);
  });

  it('never gives the same value twice, across many refills of its pool', () => {
    const seen = new Set<string>();
    // 20,000 × 32 bytes is about 156 refills of the 4 KiB pool, with sizes that do not divide it evenly.
    for (let i = 0; i < 20_000; i++) seen.add(randomToken(i % 3 === 0 ? 24 : 32));
    expect(seen.size).toBe(20_000);
  });

  it('spreads its bits evenly (no zeroed or repeated stretch of the pool)', () => {
    const bytes = Buffer.concat(Array.from({ length: 4096 }, () => Buffer.from(randomToken(), 'base64url')));
    let ones = 0;
    for (const byte of bytes) for (let bit = 0; bit < 8; bit++) ones += (byte >> bit) & 1;
    // 1 Mi bits: a fair source lands within ±0.5 % of half (over 10 standard deviations).
    expect(Math.abs(ones / (bytes.length * 8) - 0.5)).toBeLessThan(0.005);
  });

  it('refuses a size larger than its pool', () => {
    expect(() => randomToken(5000)).toThrow(RangeError);
  });
});
