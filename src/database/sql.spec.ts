import { describe, expect, it } from '@jest/globals';
import { jsonb, MAX_STORABLE_DEPTH, unstorable } from './sql.js';

describe('jsonb', () => {
  it('replaces NUL characters, which Postgres refuses in jsonb, at any depth', () => {
    expect(JSON.parse(jsonb({ a: 'x\u0000y', list: ['\u0000'], nested: { b: '\u0000\u0000' } }))).toEqual({
      a: 'x\ufffdy',
      list: ['\ufffd'],
      nested: { b: '\ufffd\ufffd' },
    });
  });

  it('leaves a literal backslash-u-0000 text alone', () => {
    expect(JSON.parse(jsonb({ a: '\\u0000', b: '\\\u0000' }))).toEqual({ a: '\\u0000', b: '\\\ufffd' });
  });
});

describe('jsonb and lone surrogates', () => {
  it('replaces a lone UTF-16 surrogate, which Postgres refuses in jsonb, and keeps a paired one', () => {
    expect(JSON.parse(jsonb({ lone: 'a\ud800b', low: '\udc00', pair: '😀', key: { ['\udfff']: 1 } }))).toEqual({
      lone: 'a\ufffdb',
      low: '\ufffd',
      pair: '😀',
      key: { '\ufffd': 1 },
    });
  });

  it('leaves a literal backslash-u-d800 text alone', () => {
    expect(JSON.parse(jsonb({ a: '\\ud800' }))).toEqual({ a: '\\ud800' });
  });
});

describe('unstorable', () => {
  const nested = (depth: number): unknown => {
    let value: unknown = 'leaf';
    for (let i = 0; i < depth; i += 1) value = i % 2 === 0 ? [value] : { inner: value };
    return value;
  };

  it('finds a NUL or a lone surrogate in any string or key, at any depth', () => {
    expect(unstorable({ a: [{ b: 'x\u0000' }] })).toBe('nul');
    expect(unstorable({ ['k\u0000']: 1 })).toBe('nul');
    expect(unstorable({ a: { b: ['\ud83d'] } })).toBe('lone_surrogate');
    expect(unstorable({ ['\udc00']: 'x' })).toBe('lone_surrogate');
    expect(unstorable({ name: 'Zoë 😀', n: 1, t: true, none: null })).toBeNull();
  });

  it(`refuses nesting deeper than ${MAX_STORABLE_DEPTH} levels without overflowing, however deep`, () => {
    expect(unstorable(nested(MAX_STORABLE_DEPTH))).toBeNull();
    expect(unstorable(nested(MAX_STORABLE_DEPTH + 1))).toBe('too_deep');
    expect(unstorable(nested(100_000))).toBe('too_deep');
  });
});
