import { describe, expect, it } from '@jest/globals';
import { clientKey, TooManyLoginStarts, UNKNOWN_CLIENT } from './login-start-limits.js';

describe('clientKey', () => {
  it.each([
    ['203.0.113.7', '203.0.113.7'],
    ['::ffff:203.0.113.7', '203.0.113.7'],
    ['::FFFF:127.0.0.1', '127.0.0.1'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:0DB8:0001:0002:ffff:ffff:ffff:ffff', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['2001:db8:1:2::', '2001:db8:1:2::/64'],
    ['::1', '0:0:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['64:ff9b::198.51.100.1', '64:ff9b:0:0::/64'],
  ])('keys %s as %s', (ip, key) => {
    expect(clientKey(ip)).toBe(key);
  });

  it('puts every address of one IPv6 /64 in one bucket and the next /64 in another', () => {
    expect(clientKey('2001:db8:1:2::a')).toBe(clientKey('2001:db8:1:2:ffff::b'));
    expect(clientKey('2001:db8:1:3::a')).not.toBe(clientKey('2001:db8:1:2::a'));
  });

  it.each([[null], [undefined], [''], ['not-an-ip'], ['::ffff:999.1.1.1'], ['1.2.3']])(
    'puts %j in the shared unknown bucket',
    (ip) => {
      expect(clientKey(ip)).toBe(UNKNOWN_CLIENT);
    },
  );
});

describe('TooManyLoginStarts', () => {
  it('is a 429 with a stable code that carries the seconds to wait', () => {
    const refusal = new TooManyLoginStarts('passwordless', 17);
    expect([refusal.status, refusal.code, refusal.extensions.retryAfterSeconds]).toEqual([
      429,
      'too_many_login_attempts',
      17,
    ]);
  });
});
