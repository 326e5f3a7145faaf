import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Browser } from '../support/browser.js';
import { IOE, startDigidentityTestbed, type DigidentityTestbed } from '../support/digidentity-testbed.js';

/**
 * The request id is handed down explicitly (no async context): every record a request writes must still carry the
 * id the request came with, on the fast and the general login path, on refusals and on SERMI decisions.
 */
describe('request ids on what a request writes', () => {
  let bed: DigidentityTestbed;

  beforeAll(async () => {
    bed = await startDigidentityTestbed();
    await bed.app.dataSource.query(
      `INSERT INTO rmi_items (code, title, security_related) VALUES ('IMMO_KEY_PROGRAMMING', 'Key programming', true)`,
    );
  });
  afterAll(async () => bed.close());

  const auditRequestIds = async (type: string) =>
    (
      (await bed.app.dataSource.query(`SELECT request_id FROM audit_events WHERE type = $1 ORDER BY seq`, [
        type,
      ])) as Array<{ request_id: string | null }>
    ).map((row) => row.request_id);

  const sermiRecord = async (where: string, params: unknown[]) =>
    (
      (await bed.app.dataSource.query(`SELECT request_id FROM sermi_access_log WHERE ${where}`, params)) as Array<{
        request_id: string | null;
      }>
    ).map((row) => row.request_id);

  async function loginWithRequestId(browser: Browser, requestId: string) {
    const callback = await bed.startWebLogin(browser, IOE.id);
    const response = await browser.request(callback, { headers: { 'X-Request-Id': requestId } });
    expect(response.status).toBe(302);
    expect(response.headers.get('x-request-id')).toBe(requestId);
    const me = (await browser.request(`${bed.app.baseUrl}/api/me`)).json<{
      session: { id: string };
      csrfToken: string;
    }>();
    return me;
  }

  it('carries it from a first login (general path) and a returning login (fast path) to the audit trail and the SERMI login record', async () => {
    const first = await loginWithRequestId(new Browser(), 'trace-first-login-0001');
    expect(await auditRequestIds('account.provisioned')).toEqual(['trace-first-login-0001']);
    expect(await sermiRecord(`kind = 'login' AND session_id = $1`, [first.session.id])).toEqual([
      'trace-first-login-0001',
    ]);

    const returning = await loginWithRequestId(new Browser(), 'trace-returning-login-0002');
    expect(await auditRequestIds('auth.login_succeeded')).toEqual([
      'trace-first-login-0001',
      'trace-returning-login-0002',
    ]);
    expect(await sermiRecord(`kind = 'login' AND session_id = $1`, [returning.session.id])).toEqual([
      'trace-returning-login-0002',
    ]);
  });

  it('carries it to the security event of a refused login', async () => {
    const browser = new Browser();
    const callback = await bed.startWebLogin(browser, IOE.id);
    await browser.request(callback);
    const replay = await browser.request(callback, { headers: { 'X-Request-Id': 'trace-replayed-callback-0003' } });
    expect(replay.status).toBe(302);
    expect(await auditRequestIds('auth.login_failed')).toContain('trace-replayed-callback-0003');
  });

  it('carries it to the access record of a SERMI decision', async () => {
    const browser = new Browser();
    const me = await loginWithRequestId(browser, 'trace-decision-login-0004');
    const response = await browser.request(`${bed.app.baseUrl}/api/sermi/access`, {
      json: { vin: 'WVWZZZ1JZXW000001', item: 'IMMO_KEY_PROGRAMMING' },
      headers: { Origin: bed.app.baseUrl, 'X-CSRF-Token': me.csrfToken, 'X-Request-Id': 'trace-decision-0005' },
    });
    const { accessId } = response.json<{ accessId: string }>();
    expect(await sermiRecord(`id = $1`, [accessId])).toEqual(['trace-decision-0005']);
  });
});
