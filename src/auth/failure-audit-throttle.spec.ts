import { describe, expect, it } from '@jest/globals';
import { FailureAuditThrottle, MAX_TRACKED_CLIENTS } from './failure-audit-throttle.js';

describe('FailureAuditThrottle', () => {
  it('audits the first refusals of a client, marks the start of throttling, skips the rest until the minute is over', () => {
    let now = 0;
    const throttle = new FailureAuditThrottle(2, () => now);
    expect(Array.from({ length: 5 }, () => throttle.next('10.0.0.1'))).toEqual([
      'audit',
      'audit',
      'throttle-start',
      'skip',
      'skip',
    ]);
    expect(throttle.next('10.0.0.2')).toBe('audit');
    now += 60_000;
    expect(throttle.next('10.0.0.1')).toBe('audit');
  });

  it('counts the addresses of one IPv6 /64 as one client, as the login-start limits do', () => {
    const throttle = new FailureAuditThrottle(2, () => 0);
    const decisions = ['2001:db8:1:2::1', '2001:db8:1:2::ffff', '2001:db8:1:2:abcd::9'].map((ip) => throttle.next(ip));
    expect(decisions).toEqual(['audit', 'audit', 'throttle-start']);
    expect(throttle.next('2001:db8:1:3::1')).toBe('audit');
    expect(throttle.next('::ffff:10.0.0.1')).toBe('audit');
    expect(throttle.next('10.0.0.1')).toBe('audit');
    expect(throttle.next('10.0.0.1')).toBe('throttle-start');
  });

  it('follows at most MAX_TRACKED_CLIENTS at once: clients beyond them share one window', () => {
    let now = 0;
    const throttle = new FailureAuditThrottle(2, () => now);
    for (let i = 0; i < MAX_TRACKED_CLIENTS; i += 1) throttle.next(`10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`);
    expect(throttle.tracked).toBe(MAX_TRACKED_CLIENTS);
    const beyond = ['192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.4'].map((ip) => throttle.next(ip));
    expect(beyond).toEqual(['audit', 'audit', 'throttle-start', 'skip']);
    expect(throttle.tracked).toBe(MAX_TRACKED_CLIENTS + 1);
    // A client already followed keeps its own window.
    expect(throttle.next('10.0.0.0')).toBe('audit');
    // A minute on, every window has expired and is let go; the next client is followed on its own again.
    now += 60_000;
    expect(throttle.next('192.0.2.1')).toBe('audit');
    expect(throttle.tracked).toBe(1);
  });

  it('lets a window go once its minute is over, and starts the client afresh at the back of the line', () => {
    let now = 0;
    const throttle = new FailureAuditThrottle(1, () => now);
    throttle.next('10.0.0.1');
    now = 30_000;
    throttle.next('10.0.0.2');
    now = 60_000;
    expect(throttle.next('10.0.0.1')).toBe('audit');
    expect(throttle.tracked).toBe(2);
    now = 90_000;
    // 10.0.0.2's window (from 30 s) is over and goes; 10.0.0.1's (from 60 s) is not.
    expect(throttle.next('10.0.0.3')).toBe('audit');
    expect(throttle.tracked).toBe(2);
    expect(throttle.next('10.0.0.1')).toBe('throttle-start');
  });
});
