import type { Request } from 'express';
import { requestIdOf } from '../common/request-context/request-context.js';
import type { ClientMeta } from './login-starters.js';

export function clientMeta(req: Request): ClientMeta {
  const userAgent = req.headers['user-agent'];
  return {
    clientIp: req.ip ?? null,
    userAgent: typeof userAgent === 'string' ? userAgent.slice(0, 512) : null,
    requestId: requestIdOf(req),
  };
}
