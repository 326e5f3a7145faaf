import { isIP } from 'node:net';
import type { Request } from 'express';
import { receivedAtOf, requestIdOf } from '../request-context/request-context.js';
import type { ClientMeta } from '../../auth/login-starters.js';

/**
 * Who is calling, for sessions, audit events and the SERMI log. The address is Express's `req.ip`, which comes from
 * X-Forwarded-For when TRUST_PROXY trusts the hop: anything there that is not an IP address is dropped, never
 * written (a batched log insert would fail for everyone in the batch), and an IPv6 zone is left off.
 */
export function clientMeta(req: Request): Readonly<ClientMeta> {
  let meta = seen.get(req);
  if (!meta) {
    const userAgent = req.headers['user-agent'];
    const ip = req.ip === undefined ? undefined : withoutZone(req.ip);
    meta = Object.freeze({
      clientIp: ip && isIP(ip) ? ip : null,
      userAgent: typeof userAgent === 'string' ? userAgent.slice(0, 512) : null,
      requestId: requestIdOf(req),
      receivedAt: receivedAtOf(req),
    });
    seen.set(req, meta);
  }
  return meta;
}

/**
 * An address without its IPv6 zone (`fe80::1%eth0`, a link-local peer): the zone names this host's interface, and
 * Postgres's inet refuses it.
 */
export const withoutZone = (ip: string) => ip.replace(/%.*$/, '');

/** Read once per request: a login callback asks in the Passport strategy and again where the login completes. */
const seen = new WeakMap<Request, Readonly<ClientMeta>>();
