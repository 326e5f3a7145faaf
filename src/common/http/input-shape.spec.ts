import { describe, expect, it } from '@jest/globals';
import { inputShapeErrors } from './input-shape.js';

const allowed = new Set(['title', 'items']);

describe('inputShapeErrors', () => {
  it.each([
    ['a lone high surrogate', 'a\ud800'],
    ['a lone low surrogate', '\udc00b'],
    ['a high surrogate at the end', 'car \ud83d'],
  ])('refuses %s, naming the field', (_, title) => {
    expect(inputShapeErrors({ title }, allowed)).toEqual([
      expect.objectContaining({ field: 'title', rule: 'wellFormedUnicode' }),
    ]);
  });

  it('finds it deep in a list', () => {
    expect(inputShapeErrors({ items: [{ title: 'ok' }, { title: 'x\udfff' }] }, allowed)).toEqual([
      expect.objectContaining({ field: 'items.1.title', rule: 'wellFormedUnicode' }),
    ]);
  });

  it('accepts any well-formed text, pairs of surrogates (emoji) included', () => {
    expect(inputShapeErrors({ title: 'Schlüssel 🔧 ナビ', items: ['Калибровка'] }, allowed)).toEqual([]);
  });
});
