import { describe, expect, it } from '@jest/globals';
import { durationInWords } from './page-renderer.js';

describe('durationInWords', () => {
  it.each([
    [3 * 24 * 3600, '3 days'],
    [2 * 24 * 3600, '2 days'],
    [36 * 3600, '36 hours'],
    [2 * 3600, '2 hours'],
    [90 * 60, '90 minutes'],
    [300, '5 minutes'],
    [60, '1 minute'],
    [59, '1 minute'],
  ])('says %i seconds as %s', (seconds, words) => {
    expect(durationInWords(seconds)).toBe(words);
  });
});
