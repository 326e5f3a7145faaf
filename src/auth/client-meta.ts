import type { Request } from 'express';
import type { RequestMeta } from './verified-login.js';

export function clientMeta(req: Request): Pick<RequestMeta, 'clientIp' | 'userAgent'> {
  const userAgent = req.headers['user-agent'];
  return { clientIp: req.ip ?? null, userAgent: typeof userAgent === 'string' ? userAgent.slice(0, 512) : null };
}
