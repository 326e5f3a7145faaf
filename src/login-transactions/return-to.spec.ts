import { describe, expect, it } from '@jest/globals';
import { safeReturnTo } from './return-to.js';

const base = new URL('https://portal.example');

describe('safeReturnTo', () => {
  it.each([
    ['/jobs/42?tab=keys#top', '/jobs/42?tab=keys#top'],
    ['/', '/'],
    ['/a/../b', '/b'],
  ])('keeps the same-site path %s', (input, expected) => {
    expect(safeReturnTo(input, base)).toBe(expected);
  });

  it.each([
    ['https://evil.example/'],
    ['//evil.example/'],
    ['/\\evil.example/'],
    ['\\\\evil.example'],
    ['/\t/evil.example'],
    ['/%0a/evil'.replace('%0a', '\n')],
    ['javascript:alert(1)'],
    ['/.//evil.example'],
    ['/%2e//evil.example'],
    ['/a/..//evil.example'],
    ['jobs'],
    [''],
    ['/'.padEnd(600, 'a')],
    [undefined],
    [['/a', '/b']],
  ])('falls back to / for %j', (input) => {
    expect(safeReturnTo(input, base)).toBe('/');
  });
});
