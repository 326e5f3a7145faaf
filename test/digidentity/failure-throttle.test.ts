import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Browser } from '../support/browser.js';
import { errorPage, startDigidentityTestbed, type DigidentityTestbed } from '../support/digidentity-testbed.js';
import { auditEvents } from '../support/factories.js';

describe('audit of refused logins under a flood', () => {
  let bed: DigidentityTestbed;

  beforeAll(async () => {
    bed = await startDigidentityTestbed({ env: { LOGIN_FAILURE_AUDIT_LIMIT_PER_MINUTE: '3' } });
  });
  afterAll(async () => bed.close());

  it('audits the first refusals of a client one by one, then only that it is being throttled, and keeps refusing', async () => {
    const browser = new Browser();
    for (let i = 0; i < 6; i += 1) {
      const response = await browser.request(`${bed.app.baseUrl}/auth/digidentity/callback?code=x&state=forged-${i}`);
      expect(response.location).toBe(errorPage(bed, 'login_state_invalid'));
    }
    expect(await auditEvents(bed.app.dataSource, 'auth.login_failed')).toHaveLength(3);
    const throttled = await auditEvents(bed.app.dataSource, 'auth.login_failures_throttled');
    expect(throttled).toEqual([
      expect.objectContaining({ details: expect.objectContaining({ provider: 'digidentity', limitPerMinute: 3 }) }),
    ]);
  });
});
