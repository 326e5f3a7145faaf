import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import express from 'express';
import request from 'supertest';
import { SessionCookie } from '../../src/sessions/session-cookie.js';
import { hashSessionToken } from '../../src/access/session-token.js';
import { auditEvents, createAccount, createLink, signIn, type SignedIn } from '../support/factories.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

describe('sessions', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ SESSION_IDLE_TIMEOUT_SECONDS: '600', SESSION_ABSOLUTE_TIMEOUT_SECONDS: '3600' });
  });
  afterAll(async () => t.close());

  const me = (session: SignedIn | { cookie: string }) => request(t.http).get('/api/me').set('Cookie', session.cookie);
  const expectSignedOut = (res: request.Response) => {
    expect(res.status).toBe(401);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body.code).toBe('unauthenticated');
  };

  it('answers concurrent requests each with its own session, also when their lookups share one statement', async () => {
    const accounts = await Promise.all(Array.from({ length: 8 }, () => createAccount(t.dataSource)));
    const sessions = await Promise.all(accounts.map((account) => signIn(t, account)));
    const revoked = await signIn(t, await createAccount(t.dataSource));
    await t.dataSource.query(`UPDATE sessions SET revoked_at = now() WHERE id = $1`, [revoked.sessionId]);
    const callers = [...sessions, ...sessions, revoked, { cookie: `${t.config.session.cookieName}=${'A'.repeat(43)}` }];
    const responses = await Promise.all(callers.map((caller) => me(caller)));
    responses.slice(0, 16).forEach((res, i) => {
      expect(res.status).toBe(200);
      expect(res.body.account.id).toBe(accounts[i % 8].id);
    });
    responses.slice(16).forEach(expectSignedOut);
  });

  it('shows the signed-in account, its links with masked subjects, and how the session was authenticated', async () => {
    const account = await createAccount(t.dataSource, { displayName: 'Jane Workshop' });
    const link = await createLink(t.dataSource, account.id, {
      subject: 'e2x0a6mp-37l0-42ps-94ef-u69755438d3o',
      attributes: { ioeuid: 'NL/EXAMPLECAB/1234567890B' },
    });
    const session = await signIn(t, account, link);
    const res = await me(session);
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toEqual({
      account: {
        id: account.id,
        displayName: 'Jane Workshop',
        status: 'active',
        roles: [],
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
      },
      links: [
        {
          id: link.id,
          provider: 'digidentity',
          issuer: link.issuer,
          subject: 'e2x0…8d3o',
          attributes: { ioeuid: 'NL/EXAMPLECAB/1234567890B' },
          firstLoginAt: expect.any(String),
          lastLoginAt: expect.any(String),
        },
      ],
      session: {
        id: session.sessionId,
        provider: 'digidentity',
        identityLinkId: link.id,
        authenticatedAt: expect.any(String),
        authContext: { method: 'test', newSignIn: true },
        createdAt: expect.any(String),
        idleExpiresAt: expect.any(String),
        absoluteExpiresAt: expect.any(String),
      },
      csrfToken: session.csrfToken,
    });
  });

  it('stores only a hash of the session token', async () => {
    const session = await signIn(t, await createAccount(t.dataSource));
    const [row] = await t.dataSource.query(`SELECT token_hash FROM sessions WHERE id = $1`, [session.sessionId]);
    expect(row.token_hash).toEqual(hashSessionToken(session.token));
    expect(row.token_hash.equals(Buffer.from(session.token, 'base64url'))).toBe(false);
  });

  it('answers 401 without a cookie, with an unknown token, and with garbage', async () => {
    expectSignedOut(await request(t.http).get('/api/me'));
    expectSignedOut(await me({ cookie: `${t.config.session.cookieName}=${'A'.repeat(43)}` }));
    expectSignedOut(await me({ cookie: `${t.config.session.cookieName}=%27%20OR%201%3D1` }));
  });

  it('refuses a session past its absolute lifetime and clears the cookie', async () => {
    const session = await signIn(t, await createAccount(t.dataSource));
    await t.dataSource.query(
      `UPDATE sessions SET created_at = now() - interval '2 hours', absolute_expires_at = now() - interval '1 second',
              idle_expires_at = now() - interval '1 second' WHERE id = $1`,
      [session.sessionId],
    );
    const res = await me(session);
    expectSignedOut(res);
    expect(String(res.headers['set-cookie'])).toMatch(
      new RegExp(`${t.config.session.cookieName}=;.*Expires=Thu, 01 Jan 1970`),
    );
  });

  it('refuses a session that was idle too long even though its absolute lifetime remains', async () => {
    const session = await signIn(t, await createAccount(t.dataSource));
    await t.dataSource.query(
      `UPDATE sessions SET last_seen_at = now() - interval '11 minutes', idle_expires_at = now() - interval '1 minute' WHERE id = $1`,
      [session.sessionId],
    );
    expectSignedOut(await me(session));
  });

  it('extends the idle expiry on use, never beyond the absolute expiry', async () => {
    const session = await signIn(t, await createAccount(t.dataSource));
    await t.dataSource.query(
      `UPDATE sessions SET last_seen_at = now() - interval '5 minutes', idle_expires_at = now() + interval '5 minutes',
              absolute_expires_at = now() + interval '7 minutes' WHERE id = $1`,
      [session.sessionId],
    );
    expect((await me(session)).status).toBe(200);
    const [row] = await t.dataSource.query(
      `SELECT last_seen_at > now() - interval '5 seconds' AS touched, idle_expires_at = absolute_expires_at AS capped FROM sessions WHERE id = $1`,
      [session.sessionId],
    );
    expect(row).toEqual({ touched: true, capped: true });
  });

  it('answers without waiting while another transaction holds the session row, and touches it on a later request', async () => {
    const session = await signIn(t, await createAccount(t.dataSource));
    await t.dataSource.query(`UPDATE sessions SET last_seen_at = now() - interval '5 minutes' WHERE id = $1`, [
      session.sessionId,
    ]);
    const lastSeenRecently = async () =>
      (
        await t.dataSource.query(
          `SELECT last_seen_at > now() - interval '1 minute' AS recent FROM sessions WHERE id = $1`,
          [session.sessionId],
        )
      )[0].recent as boolean;
    // Another instance touching the same session right now: its row lock is held until we commit. Were the request
    // to wait for it, it would never be answered inside this transaction.
    const holder = t.dataSource.createQueryRunner();
    await holder.connect();
    await holder.startTransaction();
    try {
      await holder.query(`SELECT 1 FROM sessions WHERE id = $1 FOR NO KEY UPDATE`, [session.sessionId]);
      expect((await me(session)).status).toBe(200);
      expect((await me(session)).status).toBe(200);
    } finally {
      await holder.rollbackTransaction();
      await holder.release();
    }
    expect(await lastSeenRecently()).toBe(false);
    expect((await me(session)).status).toBe(200);
    expect(await lastSeenRecently()).toBe(true);
  });

  it('refuses a revoked session', async () => {
    const session = await signIn(t, await createAccount(t.dataSource));
    await t.dataSource.query(`UPDATE sessions SET revoked_at = now(), revoke_reason = 'test' WHERE id = $1`, [
      session.sessionId,
    ]);
    expectSignedOut(await me(session));
  });

  it('refuses the session of a disabled account', async () => {
    const account = await createAccount(t.dataSource);
    const session = await signIn(t, account);
    await t.dataSource.query(`UPDATE accounts SET status = 'disabled' WHERE id = $1`, [account.id]);
    expectSignedOut(await me(session));
  });

  describe('logout', () => {
    it('revokes the session server-side, clears the cookie and audits it', async () => {
      const account = await createAccount(t.dataSource);
      const session = await signIn(t, account);
      const res = await request(t.http).post('/auth/logout').set('Cookie', session.cookie).set(session.writeHeaders);
      expect(res.status).toBe(204);
      expect(String(res.headers['set-cookie'])).toMatch(/Expires=Thu, 01 Jan 1970/);
      expectSignedOut(await me(session));
      const [row] = await t.dataSource.query(
        `SELECT revoked_at IS NOT NULL AS revoked, revoke_reason FROM sessions WHERE id = $1`,
        [session.sessionId],
      );
      expect(row).toEqual({ revoked: true, revoke_reason: 'logout' });
      const events = (await auditEvents(t.dataSource, 'session.revoked')).filter(
        (e) => e.details.sessionId === session.sessionId,
      );
      expect(events).toEqual([
        {
          type: 'session.revoked',
          details: { sessionId: session.sessionId, reason: 'logout' },
          actor_account_id: account.id,
          subject_account_id: account.id,
          request_id: res.headers['x-request-id'],
        },
      ]);
    });

    it('signs out without the CSRF token only when the browser proves the request same-origin (a stale page)', async () => {
      const unproven = await signIn(t, await createAccount(t.dataSource));
      for (const headers of [
        {},
        { 'Sec-Fetch-Site': 'same-site' },
        { 'X-CSRF-Token': 'from-an-older-page' },
        // A trusted origin does not outweigh the browser saying the request is cross-site.
        { Origin: t.config.http.publicBaseUrl.origin, 'Sec-Fetch-Site': 'cross-site' },
      ]) {
        const res = await request(t.http).post('/auth/logout').set('Cookie', unproven.cookie).set(headers);
        expect([res.status, res.body.code]).toEqual([403, 'csrf_check_failed']);
      }
      expect((await me(unproven)).status).toBe(200);

      for (const proof of [
        { Origin: t.config.http.publicBaseUrl.origin },
        { Referer: `${t.config.http.publicBaseUrl.origin}/account` },
        { 'Sec-Fetch-Site': 'same-origin' },
      ]) {
        const session = await signIn(t, await createAccount(t.dataSource));
        const res = await request(t.http)
          .post('/auth/logout')
          .set('Cookie', session.cookie)
          .set({ ...proof, 'X-CSRF-Token': 'from-an-older-page' });
        expect(res.status).toBe(204);
        expectSignedOut(await me(session));
      }
    });

    it('keeps the token check on every other write from the same origin', async () => {
      const session = await signIn(t, await createAccount(t.dataSource));
      const res = await request(t.http)
        .post('/api/me/sessions/revoke-others')
        .set('Cookie', session.cookie)
        .set('Origin', t.config.http.publicBaseUrl.origin);
      expect([res.status, res.body.code]).toEqual([403, 'csrf_check_failed']);
    });

    it('refuses a cross-site logout', async () => {
      const session = await signIn(t, await createAccount(t.dataSource));
      const res = await request(t.http)
        .post('/auth/logout')
        .set('Cookie', session.cookie)
        .set({ ...session.writeHeaders, Origin: 'https://evil.example' });
      expect(res.status).toBe(403);
      expect((await me(session)).status).toBe(200);
    });

    it('clears the cookie of a browser whose session is already gone', async () => {
      const res = await request(t.http)
        .post('/auth/logout')
        .set('Cookie', `${t.config.session.cookieName}=${'B'.repeat(43)}`);
      expect(res.status).toBe(204);
      expect(String(res.headers['set-cookie'])).toMatch(/Expires=Thu, 01 Jan 1970/);
    });
  });

  describe('cookie', () => {
    it('is HttpOnly, Secure, SameSite=Lax, host-only and ends with the browser (no Max-Age, no Expires)', async () => {
      const cookie = t.app.get(SessionCookie);
      const server = express().get('/', (_req, res) => {
        cookie.set(res, 'token-value');
        res.end();
      });
      const [header] = (await request(server).get('/')).headers['set-cookie'] as unknown as string[];
      expect(header).toBe('__Host-rmi_session=token-value; Path=/; HttpOnly; Secure; SameSite=Lax');
    });
  });
});
