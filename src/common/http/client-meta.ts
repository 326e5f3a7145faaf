import { isIP } from 'node:net';
import type { Request } from 'express';
import { receivedAtOf, requestIdOf } from '../request-context/request-context.js';
import type { ClientMeta } from '../../auth/login-starters.js';

/**
 * Who is calling, for sessions, audit events and the SERMI log. The address is Express's `req.ip`, which comes from
 * X-Forwarded-For when TRUST_PROXY trusts the hop: anything there that is not an IP address is dropped, never
 * written (a batched log insert would fail for everyone in the batch).
 */
export function clientMeta(req: Request): ClientMeta {
  const userAgent = req.headers['user-agent'];
  return {
    clientIp: req.ip && isIP(req.ip) ? req.ip : null,
    userAgent: typeof userAgent === 'string' ? userAgent.slice(0, 512) : null,
    requestId: requestIdOf(req),
    receivedAt: receivedAtOf(req),
  };
}
