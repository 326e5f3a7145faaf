import { describe, expect, it } from '@jest/globals';
import { maskSubject } from './account.mapper.js';

describe('maskSubject', () => {
  it('shows only the first and last four characters of a subject', () => {
    expect(maskSubject('e2x0a6mp-37l0-42ps-94ef-u69755438d3o')).toBe('e2x0…8d3o');
  });

  it('hides short subjects completely', () => {
    expect(maskSubject('12345678')).toBe('••••••••');
  });
});
