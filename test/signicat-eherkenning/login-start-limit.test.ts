import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Browser } from '../support/browser.js';
import { type EherkenningTestbed, startEherkenningTestbed } from '../support/eherkenning-testbed.js';

/** eHerkenning stores its login before it creates the Signicat session: a refused start creates none. */
describe('the login-start limit on eHerkenning', () => {
  let bed: EherkenningTestbed;

  beforeAll(async () => {
    bed = await startEherkenningTestbed({ env: { TRUST_PROXY: 'loopback', LOGIN_START_LIMIT_PER_MINUTE: '2' } });
  });
  afterAll(async () => bed.close());

  const start = (browser: Browser, provider: string, client: string) =>
    browser.request(`${bed.app.baseUrl}/auth/${provider}/login`, { headers: { 'x-forwarded-for': client } });

  it('shares one budget with the other providers and refuses beyond it before Signicat is called', async () => {
    const minute = async () =>
      ((await bed.app.dataSource.query(`SELECT date_trunc('minute', now())::text AS m`)) as Array<{ m: string }>)[0].m;
    const scenario = async (client: string) => {
      const sessions = bed.eherkenning.counters.createSession;
      expect((await start(new Browser(), 'signicat-eherkenning', client)).status).toBe(302);
      expect((await start(new Browser(), 'digidentity', client)).status).toBe(302);
      const refused = await start(new Browser(), 'signicat-eherkenning', client);
      expect([refused.status, refused.headers.get('retry-after')]).toEqual([429, expect.stringMatching(/^\d+$/)]);
      expect(refused.body).toContain('too_many_login_attempts');
      expect(bed.eherkenning.counters.createSession).toBe(sessions + 1);
      expect((await start(new Browser(), 'signicat-eherkenning', `${client}1`)).status).toBe(302);
    };
    const before = await minute();
    // The limits count per minute: a run that straddled a minute boundary runs again, from other addresses.
    await scenario('203.0.113.1').catch(async (error: unknown) => {
      if ((await minute()) === before) throw error;
      await scenario('203.0.113.2');
    });
  });
});
