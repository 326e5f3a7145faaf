import { describe, expect, it } from '@jest/globals';
import { hasControlCharacters } from './control-characters.js';

describe('hasControlCharacters', () => {
  it('finds C0, DEL and C1 controls and lone surrogates anywhere in the text', () => {
    for (const text of ['a\u0000b', 'tab\there', 'line\n', 'del\u007f', 'next\u0085line', '\ud800', 'x\udc00y']) {
      expect([text, hasControlCharacters(text)]).toEqual([text, true]);
    }
  });

  it('passes names in any script, emoji as surrogate pairs, and spaces', () => {
    for (const text of ['Jan de Vries', 'Zoë Ørsted-Łukasz', 'Δημήτρης', 'garage 🔑', '']) {
      expect([text, hasControlCharacters(text)]).toEqual([text, false]);
    }
  });
});
