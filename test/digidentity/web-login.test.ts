import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Browser } from '../support/browser.js';
import { IOE, RSSE, startDigidentityTestbed, type DigidentityTestbed } from '../support/digidentity-testbed.js';
import { auditEvents } from '../support/factories.js';

describe('Digidentity web login', () => {
  let bed: DigidentityTestbed;

  beforeAll(async () => {
    bed = await startDigidentityTestbed();
  });
  afterAll(async () => bed.close());

  it('signs an IOE in and shows the SERMI UIDs on /api/me', async () => {
    const browser = new Browser();
    const callback = await bed.webLogin(browser, IOE.id, '/jobs/42?tab=keys');
    expect(callback.status).toBe(302);
    expect(callback.location).toBe(`${bed.app.baseUrl}/jobs/42?tab=keys`);
    const me = await browser.request(`${bed.app.baseUrl}/api/me`);
    expect(me.status).toBe(200);
    const body = me.json<{
      account: { displayName: string };
      links: Array<{ attributes: Record<string, string> }>;
      session: { authContext: Record<string, unknown> };
    }>();
    expect(body.links[0].attributes).toMatchObject({ actorType: 'IOE', ...IOE.claims });
    expect(body.session.authContext).toMatchObject({
      method: 'web',
      provider: 'digidentity',
      sermi: {
        actorType: 'IOE',
        actor: { uid: IOE.claims.ioeuid },
        principal: { ioeuid: IOE.claims.ioeuid, iouid: IOE.claims.iouid },
      },
    });
    const [succeeded] = (await auditEvents(bed.app.dataSource, 'auth.login_succeeded')).slice(-1);
    expect(succeeded.details).toMatchObject({ provider: 'digidentity', provisioned: true });
  });

  it('signs an RSSE in with the chain authorisation: the RSSE acts, the IOE is the principal', async () => {
    const browser = new Browser();
    expect((await bed.webLogin(browser, RSSE.id)).status).toBe(302);
    const me = (await browser.request(`${bed.app.baseUrl}/api/me`)).json<{
      session: { authContext: Record<string, unknown> };
    }>();
    expect(me.session.authContext).toMatchObject({
      sermi: {
        actorType: 'RSSE',
        actor: { sub: RSSE.id, uid: RSSE.claims.rsseuid, organisationUid: RSSE.claims.rssuid },
        principal: { ioeuid: RSSE.claims.ioeuid, iouid: RSSE.claims.iouid },
      },
    });
  });
});
