import { describe, expect, it } from '@jest/globals';
import { AppException } from '../problem/app-exception.js';
import { decodeCursor, encodeCursor } from './cursor.js';

const digits = (p: { seq: string }) => /^\d+$/.test(p.seq);

describe('pagination cursors', () => {
  it('round-trips a position', () => {
    expect(decodeCursor(encodeCursor({ seq: '42' }), ['seq'], digits)).toEqual({ seq: '42' });
  });

  it.each([
    ['not base64 json', '%%%'],
    ['json of the wrong shape', Buffer.from('{"seq":42}').toString('base64url')],
    ['extra keys', encodeCursor({ seq: '1', other: 'x' })],
    ['a value the validator refuses', encodeCursor({ seq: '1 OR 1=1' })],
  ])('refuses %s with invalid_cursor', (_, cursor) => {
    expect(() => decodeCursor(cursor, ['seq'], digits)).toThrow(AppException);
    try {
      decodeCursor(cursor, ['seq'], digits);
    } catch (error) {
      expect((error as AppException).code).toBe('invalid_cursor');
    }
  });
});
