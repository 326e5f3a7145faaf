import { isIPv4, isIPv6 } from 'node:net';
import { AppException } from '../common/problem/app-exception.js';
import { withoutZone } from '../common/http/client-meta.js';

/** What a limit counts: browser login starts (every provider, link and re-authentication included), QR starts. */
export type LoginStartKind = 'login' | 'passwordless';

/** The bucket of requests whose address is not known (no `req.ip`, or one that is not an IP address). */
export const UNKNOWN_CLIENT = 'unknown';

/**
 * Who a login start counts against: an IPv4 address, or the /64 prefix of an IPv6 address (one subscriber gets a
 * whole /64, so single IPv6 addresses would give one client billions of buckets). IPv4-mapped IPv6 addresses are
 * their IPv4 address. Requests without a usable address share one bucket: limited, never unlimited.
 */
export function clientKey(ip: string | null | undefined): string {
  if (!ip) return UNKNOWN_CLIENT;
  const address = withoutZone(ip);
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  if (mapped && isIPv4(mapped[1])) return mapped[1];
  if (isIPv4(address)) return address;
  if (!isIPv6(address)) return UNKNOWN_CLIENT;
  return `${ipv6Groups(address).slice(0, 4).join(':')}::/64`;
}

/** The eight 16-bit groups of an IPv6 address, as lower-case hex without leading zeros. */
function ipv6Groups(address: string): string[] {
  const [head, tail] = address.includes('::') ? address.split('::') : [address, undefined];
  const parse = (part: string | undefined) =>
    (part ? part.split(':') : []).flatMap((group) => {
      if (!group.includes('.')) return [parseInt(group, 16)];
      const [a, b, c, d] = group.split('.').map(Number);
      return [(a << 8) | b, (c << 8) | d];
    });
  const first = parse(head);
  const last = parse(tail);
  const groups = tail === undefined ? first : [...first, ...Array(8 - first.length - last.length).fill(0), ...last];
  return groups.map((group) => group.toString(16));
}

/** A login start over a client's limit: 429 with Retry-After (seconds), answered directly, never redirected. */
export class TooManyLoginStarts extends AppException {
  constructor(
    readonly kind: LoginStartKind,
    readonly retryAfterSeconds: number,
  ) {
    super(
      'too_many_login_attempts',
      `Too many ${kind === 'passwordless' ? 'QR logins' : 'logins'} were started from this network; try again in ${retryAfterSeconds} seconds`,
      { retryAfterSeconds },
    );
    this.name = 'TooManyLoginStarts';
  }
}
