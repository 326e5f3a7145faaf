import { describe, expect, it } from '@jest/globals';
import { FailureAuditThrottle } from './failure-audit-throttle.js';

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
});
