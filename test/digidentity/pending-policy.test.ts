import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Browser } from '../support/browser.js';
import {
  footprint,
  IOE,
  startDigidentityTestbed,
  type DigidentityTestbed,
  pendingPage,
} from '../support/digidentity-testbed.js';
import { auditEvents } from '../support/factories.js';

describe('Digidentity with DIGIDENTITY_UNKNOWN_IDENTITY_POLICY=pending', () => {
  let bed: DigidentityTestbed;

  beforeAll(async () => {
    bed = await startDigidentityTestbed({ env: { DIGIDENTITY_UNKNOWN_IDENTITY_POLICY: 'pending' } });
  });
  afterAll(async () => bed.close());

  it('holds an unknown identity as pending for this browser instead of creating an account, and says so', async () => {
    const before = await footprint(bed);
    const browser = new Browser();
    const response = await bed.webLogin(browser, IOE.id);
    expect(response.location).toEqual(pendingPage(bed));
    expect(await footprint(bed)).toEqual({ ...before, pending: before.pending + 1 });
    const [pending] = await bed.app.dataSource.query(
      `SELECT reason, suspected_account_id, person_key, attributes, raw_claims->>'sub' AS sub,
              browser_binding_hash IS NOT NULL AS bound, expires_at > now() AS live, resolved_at
         FROM pending_identities WHERE subject = $1`,
      [IOE.id],
    );
    expect(pending).toEqual({
      reason: 'unknown_identity',
      suspected_account_id: null,
      person_key: '1234567890B',
      attributes: { actorType: 'IOE', ...IOE.claims },
      sub: IOE.id,
      bound: true,
      live: true,
      resolved_at: null,
    });
    const [held] = (await auditEvents(bed.app.dataSource, 'auth.login_held')).slice(-1);
    expect(held.details).toMatchObject({ provider: 'digidentity', reason: 'unknown_identity' });
  });

  it('keeps one open pending entry per identity across repeated logins', async () => {
    await bed.webLogin(new Browser(), IOE.id);
    await bed.webLogin(new Browser(), IOE.id);
    const [{ count }] = await bed.app.dataSource.query(
      `SELECT count(*)::int AS count FROM pending_identities WHERE subject = $1 AND resolved_at IS NULL`,
      [IOE.id],
    );
    expect(count).toBe(1);
  });
});
