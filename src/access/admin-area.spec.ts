import { describe, expect, it } from '@jest/globals';
import { pathInAdminArea } from './admin-area.js';

const base = new URL('https://portal.example');

describe('pathInAdminArea', () => {
  it.each([
    ['/console', true],
    ['/console/accounts/1?notice=x', true],
    ['/Console', true],
    ['/api/admin/accounts', true],
    ['/API/Admin', true],
    ['/account/../console', true],
    ['https://portal.example/console', true],
    ['/consoles', false],
    ['/api/administer', false],
    ['/account', false],
    ['/', false],
    ['https://elsewhere.example/console', false],
  ])('%s: %s', (url, expected) => {
    expect(pathInAdminArea(url, base)).toBe(expected);
  });
});
