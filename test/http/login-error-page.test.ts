import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { ERROR_STATUS } from '../../src/common/problem/error-codes.js';
import { Browser } from '../support/browser.js';
import { createAccount, signIn } from '../support/factories.js';
import { errorPage, loginFailures, startDigidentityTestbed } from '../support/digidentity-testbed.js';
import { startTestApp, type TestApp, type CapturedLogs } from '../support/test-app.js';

const SERVER_SIDE_CODES = Object.entries(ERROR_STATUS)
  .filter(([, status]) => status >= 500)
  .map(([code]) => code);
const BROWSER = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

const errorLines = (logs: CapturedLogs) => logs.lines.filter((line) => ['error', 'fatal'].includes(String(line.level)));

describe('the login error page (default LOGIN_ERROR_URL)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t.close());

  it('knows the 5xx codes it must explain', () => {
    expect(SERVER_SIDE_CODES).toEqual(
      expect.arrayContaining(['internal_error', 'provider_error', 'provider_unavailable', 'service_unavailable']),
    );
  });

  it('shows the session a failed login left in place, with its sign-out, and no sign-out without one', async () => {
    const session = await signIn(t, await createAccount(t.dataSource));
    const signedIn = await request(t.http)
      .get('/auth/login-error?code=login_cancelled')
      .set('Cookie', session.cookie)
      .set('Accept', BROWSER);
    expect(signedIn.status).toBe(200);
    expect(signedIn.text).toContain('action="/auth/logout"');
    expect(signedIn.text).toContain(`value="${session.writeHeaders['X-CSRF-Token']}"`);
    const anonymous = await request(t.http).get('/auth/login-error?code=login_cancelled').set('Accept', BROWSER);
    expect(anonymous.text).not.toContain('action="/auth/logout"');
  });

  it.each([...SERVER_SIDE_CODES, 'login_expired'])('answers 200 for %s, as HTML for a browser', async (code) => {
    const res = await request(t.http).get(`/auth/login-error?code=${code}`).set('Accept', BROWSER);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.text).toMatch(/^<!doctype html>\n<html lang="en">/);
    expect(res.text).toContain(`<code>${code}</code>`);
    expect(res.text).toContain(`<code>${res.headers['x-request-id']}</code>`);
    expect(res.text).toMatch(/<h1>[^<]+<\/h1>/);
    expect(res.text).not.toMatch(/<script|<style| on\w+=/i);
  });

  it.each(SERVER_SIDE_CODES)('answers 200 for %s, as JSON for an API client', async (code) => {
    const res = await request(t.http).get(`/auth/login-error?code=${code}`).set('Accept', 'application/json');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.body).toEqual({
      code,
      type: `urn:rmi-identity:problem:${code}`,
      title: expect.any(String),
      detail: expect.any(String),
      nextStep: expect.stringMatching(/\S/),
      requestId: res.headers['x-request-id'],
    });
  });

  it('gives a generic explanation, not a 400, for an unknown, repeated or missing code, and escapes nothing into the page', async () => {
    const hostile = encodeURIComponent('<script>alert(1)</script>');
    for (const query of [`?code=${hostile}`, '?code=toString', '?code=a&code=b', '']) {
      const html = await request(t.http).get(`/auth/login-error${query}`).set('Accept', BROWSER);
      expect([query, html.status]).toEqual([query, 200]);
      expect(html.text).toContain('<h1>The sign-in did not complete</h1>');
      expect(html.text).not.toMatch(/<script|alert|toString/);
      const json = await request(t.http).get(`/auth/login-error${query}`);
      expect([query, json.status, json.body.code, json.body.title]).toEqual([
        query,
        200,
        null,
        'The sign-in did not complete',
      ]);
    }
  });

  it('writes no error-level log line for any of it', async () => {
    for (const code of [...SERVER_SIDE_CODES, 'no_such_code']) {
      await request(t.http).get(`/auth/login-error?code=${code}`).set('Accept', BROWSER);
      await request(t.http).get(`/auth/login-error?code=${code}`).set('Accept', 'application/json');
    }
    expect(errorLines(t.logs)).toEqual([]);
    const pageViews = t.logs.lines.filter((line) => line.path === '/auth/login-error');
    expect(pageViews.length).toBeGreaterThan(0);
    expect(new Set(pageViews.map((line) => line.level))).toEqual(new Set(['info']));
  });
});

describe('a login that fails at the provider', () => {
  it('is logged once, where it failed, and the error page it lands on logs nothing', async () => {
    const bed = await startDigidentityTestbed();
    await bed.sandbox.close();
    try {
      const browser = new Browser();
      const response = await browser.request(`${bed.app.baseUrl}/auth/digidentity/login`, {
        headers: { 'X-Request-Id': 'provider-down-0001' },
      });
      expect(response.location).toBe(errorPage(bed, 'provider_unavailable'));
      expect((await loginFailures(bed)).at(-1)).toMatchObject({ code: 'provider_unavailable' });
      const page = await browser.request(response.location!, {
        headers: { Accept: BROWSER, 'X-Request-Id': 'provider-down-0002' },
      });
      expect(page.status).toBe(200);
      expect(page.body).toContain('<code>provider_unavailable</code>');

      const about = (requestId: string) =>
        bed.app.logs.lines.filter((line) => line.requestId === requestId && line.msg !== 'request completed');
      expect(about('provider-down-0001')).toEqual([
        expect.objectContaining({ level: 'warn', msg: 'login failed', failure: 'provider_unavailable' }),
      ]);
      expect(about('provider-down-0002')).toEqual([]);
      expect(errorLines(bed.app.logs)).toEqual([]);
    } finally {
      await bed.app.close();
    }
  });
});
