import { describe, expect, it } from '@jest/globals';
import { jsonb } from './sql.js';

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
