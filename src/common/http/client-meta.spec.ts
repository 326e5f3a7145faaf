import { describe, expect, it } from '@jest/globals';
import type { Request } from 'express';
import { clientMeta } from './client-meta.js';

const requestFrom = (ip: string | undefined, userAgent?: string) =>
  ({ ip, headers: userAgent === undefined ? {} : { 'user-agent': userAgent } }) as unknown as Request;

describe('clientMeta', () => {
  it.each(['203.0.113.7', '2001:db8::1', '::ffff:127.0.0.1'])('keeps the address %s', (ip) => {
    expect(clientMeta(requestFrom(ip)).clientIp).toBe(ip);
  });

  it('leaves off an IPv6 zone, which Postgres would refuse in an inet column', () => {
    expect(clientMeta(requestFrom('fe80::1%eth0')).clientIp).toBe('fe80::1');
  });

  // With TRUST_PROXY, req.ip is whatever X-Forwarded-For said: it is written to sessions and the SERMI log.
  it.each(['not-an-ip', '203.0.113.7, 10.0.0.1', '1.2.3.4.5', '', undefined])('drops %j', (ip) => {
    expect(clientMeta(requestFrom(ip)).clientIp).toBeNull();
  });

  it('keeps at most 512 characters of the user agent', () => {
    expect(clientMeta(requestFrom('203.0.113.7', 'x'.repeat(600))).userAgent).toHaveLength(512);
  });
});

describe('clientMeta of one request', () => {
  it('is read once: later reads give the same frozen answer', () => {
    const req = requestFrom('203.0.113.7', 'agent');
    const first = clientMeta(req);
    (req as unknown as { ip: string }).ip = '198.51.100.1';
    expect(clientMeta(req)).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
  });
});
