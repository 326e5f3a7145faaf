import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Browser } from '../support/browser.js';
import { errorPage, footprint } from '../support/providers-testbed.js';
import { startEherkenningTestbed, type EherkenningTestbed } from '../support/eherkenning-testbed.js';

describe('eHerkenning with SIGNICAT_EHERKENNING_AUTHENTICATION_HOSTS', () => {
  let bed: EherkenningTestbed;

  beforeAll(async () => {
    // Only a custom domain is allowed: the sandbox's own page (on the API host) is then off limits.
    bed = await startEherkenningTestbed({ env: { SIGNICAT_EHERKENNING_AUTHENTICATION_HOSTS: 'login.portal.example' } });
  });
  afterAll(async () => bed.close());

  it('never sends the browser to an authentication page outside the configured hosts', async () => {
    const before = await footprint(bed);
    const response = await new Browser().request(`${bed.app.baseUrl}/auth/signicat-eherkenning/login`);
    expect(response.location).toBe(errorPage(bed, 'provider_misconfigured'));
    expect(await footprint(bed)).toEqual(before);
  });
});
