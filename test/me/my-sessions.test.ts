import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import type { Account } from '../../src/accounts/account.entity.js';
import { auditEvents, createAccount, signIn, type SignedIn } from '../support/factories.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

interface SessionSummary {
  id: string;
  provider: string;
  current: boolean;
  lastSeenAt: string;
  expiresAt: string;
  clientIp: string | null;
  userAgent: string | null;
}

describe('a person’s own sessions (/api/me/sessions)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t.close());

  const listing = async (session: SignedIn) => {
    const response = await request(t.http).get('/api/me/sessions').set('Cookie', session.cookie);
    expect(response.status).toBe(200);
    return response.body as { sessions: SessionSummary[]; truncated: boolean };
  };
  const list = async (session: SignedIn) => (await listing(session)).sessions;
  const revoke = (session: SignedIn, id: string) =>
    request(t.http).delete(`/api/me/sessions/${id}`).set('Cookie', session.cookie).set(session.writeHeaders);
  const revokeOthers = (session: SignedIn) =>
    request(t.http).post('/api/me/sessions/revoke-others').set('Cookie', session.cookie).set(session.writeHeaders);
  const works = async (session: SignedIn) =>
    (await request(t.http).get('/api/me').set('Cookie', session.cookie)).status === 200;
  const revokeReason = async (id: string) =>
    (await t.dataSource.query(`SELECT revoke_reason FROM sessions WHERE id = $1`, [id]))[0].revoke_reason;

  async function personWithSessions(count: number): Promise<{ account: Account; sessions: SignedIn[] }> {
    const account = await createAccount(t.dataSource);
    const sessions: SignedIn[] = [];
    for (let i = 0; i < count; i += 1) sessions.push(await signIn(t, account));
    return { account, sessions };
  }

  it('lists the account’s live sessions, marks the current one, and leaves out others’ and ended ones', async () => {
    const { sessions } = await personWithSessions(3);
    const stranger = await signIn(t, await createAccount(t.dataSource));
    await t.dataSource.query(`UPDATE sessions SET revoked_at = now(), revoke_reason = 'logout' WHERE id = $1`, [
      sessions[2].sessionId,
    ]);
    await t.dataSource.query(
      `UPDATE sessions SET last_seen_at = now() - interval '2 hours', idle_expires_at = now() - interval '1 hour'
        WHERE id = $1`,
      [sessions[1].sessionId],
    );
    const listed = await list(sessions[0]);
    expect(listed.map((s) => s.id)).toEqual([sessions[0].sessionId]);
    expect(listed[0]).toMatchObject({
      current: true,
      provider: 'digidentity',
      clientIp: '127.0.0.1',
      userAgent: 'jest',
    });
    expect(listed.map((s) => s.id)).not.toContain(stranger.sessionId);
  });

  it('lists at most 100 and says when there are more', async () => {
    const { sessions } = await personWithSessions(101);
    const full = await listing(sessions[100]);
    expect([full.sessions.length, full.truncated]).toEqual([100, true]);
    expect(full.sessions.filter((s) => s.current)).toHaveLength(1);
    await revoke(sessions[100], sessions[0].sessionId);
    const fits = await listing(sessions[100]);
    expect([fits.sessions.length, fits.truncated]).toEqual([100, false]);
  });

  it('orders sessions by last use and says when each ends', async () => {
    const { sessions } = await personWithSessions(2);
    await t.dataSource.query(`UPDATE sessions SET last_seen_at = now() - interval '5 minutes' WHERE id = $1`, [
      sessions[0].sessionId,
    ]);
    const listed = await list(sessions[1]);
    expect(listed.map((s) => [s.id, s.current])).toEqual([
      [sessions[1].sessionId, true],
      [sessions[0].sessionId, false],
    ]);
    for (const session of listed) expect(Date.parse(session.expiresAt)).toBeGreaterThan(Date.now());
  });

  it('ends another session of the account: it stops working at once, this one keeps working, and it is audited', async () => {
    const { account, sessions } = await personWithSessions(2);
    const response = await revoke(sessions[0], sessions[1].sessionId);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ revokedSessionId: sessions[1].sessionId, signedOut: false });
    expect(await works(sessions[1])).toBe(false);
    expect(await works(sessions[0])).toBe(true);
    expect(await revokeReason(sessions[1].sessionId)).toBe('revoked_by_user');
    const events = (await auditEvents(t.dataSource, 'session.revoked')).filter(
      (e) => e.subject_account_id === account.id,
    );
    expect(events).toEqual([
      expect.objectContaining({
        actor_account_id: account.id,
        details: { sessionId: sessions[1].sessionId, bySessionId: sessions[0].sessionId, reason: 'revoked_by_user' },
      }),
    ]);
  });

  it('ending the current session signs out and clears the cookie', async () => {
    const { sessions } = await personWithSessions(1);
    const response = await revoke(sessions[0], sessions[0].sessionId);
    expect(response.body).toEqual({ revokedSessionId: sessions[0].sessionId, signedOut: true });
    const cleared = (response.headers['set-cookie'] as unknown as string[]).find((c) =>
      c.startsWith(`${t.config.session.cookieName}=;`),
    );
    // Cleared with the attributes it was set with, or a browser would keep it (a __Host- cookie needs Path=/).
    expect(cleared).toMatch(/; Path=\/;/);
    expect(cleared).toMatch(/; Expires=Thu, 01 Jan 1970/);
    expect(cleared).toMatch(/; HttpOnly/);
    expect(cleared).toMatch(/; SameSite=Lax/);
    if (t.config.session.cookieSecure) expect(cleared).toMatch(/; Secure/);
    expect(await works(sessions[0])).toBe(false);
  });

  it('answers 404 for another account’s session or an ended one, and changes nothing', async () => {
    const { sessions } = await personWithSessions(2);
    const stranger = await signIn(t, await createAccount(t.dataSource));
    const foreign = await revoke(sessions[0], stranger.sessionId);
    expect([foreign.status, foreign.body.code]).toEqual([404, 'session_not_found']);
    expect(await works(stranger)).toBe(true);
    await revoke(sessions[0], sessions[1].sessionId);
    const again = await revoke(sessions[0], sessions[1].sessionId);
    expect([again.status, again.body.code]).toEqual([404, 'session_not_found']);
  });

  it('refuses a malformed id (400), a missing CSRF token (403) and an anonymous caller (401)', async () => {
    const { sessions } = await personWithSessions(2);
    const malformed = await revoke(sessions[0], 'not-a-uuid');
    expect([malformed.status, malformed.body.code]).toEqual([400, 'validation_failed']);
    const noCsrf = await request(t.http)
      .delete(`/api/me/sessions/${sessions[1].sessionId}`)
      .set('Cookie', sessions[0].cookie);
    expect([noCsrf.status, noCsrf.body.code]).toEqual([403, 'csrf_check_failed']);
    expect(await works(sessions[1])).toBe(true);
    const foreignOrigin = await request(t.http)
      .post('/api/me/sessions/revoke-others')
      .set('Cookie', sessions[0].cookie)
      .set({ ...sessions[0].writeHeaders, Origin: 'https://evil.example' });
    expect([foreignOrigin.status, foreignOrigin.body.code]).toEqual([403, 'csrf_check_failed']);
    const noCsrfOthers = await request(t.http).post('/api/me/sessions/revoke-others').set('Cookie', sessions[0].cookie);
    expect([noCsrfOthers.status, noCsrfOthers.body.code]).toEqual([403, 'csrf_check_failed']);
    expect(await works(sessions[1])).toBe(true);
    const anonymous = await request(t.http).get('/api/me/sessions');
    expect([anonymous.status, anonymous.body.code]).toEqual([401, 'unauthenticated']);
  });

  it('signs out everywhere else in one step, audited once, and keeps this session', async () => {
    const { account, sessions } = await personWithSessions(4);
    const stranger = await signIn(t, await createAccount(t.dataSource));
    const response = await revokeOthers(sessions[0]);
    expect([response.status, response.body]).toEqual([200, { revokedSessions: 3 }]);
    for (const other of sessions.slice(1)) expect(await works(other)).toBe(false);
    expect(await works(sessions[0])).toBe(true);
    expect(await works(stranger)).toBe(true);
    expect((await list(sessions[0])).map((s) => s.id)).toEqual([sessions[0].sessionId]);
    const events = async () =>
      (await auditEvents(t.dataSource, 'session.revoked_for_account')).filter(
        (e) => e.subject_account_id === account.id,
      );
    const [event, ...more] = await events();
    expect(more).toEqual([]);
    expect(event.details).toEqual({
      sessionIds: expect.arrayContaining(sessions.slice(1).map((s) => s.sessionId)),
      keptSessionId: sessions[0].sessionId,
      reason: 'revoked_by_user',
    });
    expect(await revokeOthers(sessions[0]).then((r) => r.body)).toEqual({ revokedSessions: 0 });
    expect(await events()).toHaveLength(1);
  });

  it('needs a recent login of this session to end another one, so an old or stolen session cannot sign its owner out', async () => {
    const { sessions } = await personWithSessions(2);
    await t.dataSource.query(`UPDATE sessions SET authenticated_at = now() - interval '1 hour' WHERE id = $1`, [
      sessions[0].sessionId,
    ]);
    for (const refused of [await revoke(sessions[0], sessions[1].sessionId), await revokeOthers(sessions[0])]) {
      expect([refused.status, refused.body.code]).toEqual([403, 'reauthentication_required']);
      expect(refused.body.reauthenticateUrl).toMatch(/\/auth\/reauthenticate\?returnTo=%2F/);
    }
    expect(await works(sessions[1])).toBe(true);
    // The newer session may end the old one, and the old one may always end itself (a sign-out).
    expect((await revoke(sessions[1], sessions[0].sessionId)).status).toBe(200);
    const { sessions: mine } = await personWithSessions(1);
    await t.dataSource.query(`UPDATE sessions SET authenticated_at = now() - interval '1 hour' WHERE id = $1`, [
      mine[0].sessionId,
    ]);
    expect((await revoke(mine[0], mine[0].sessionId)).body).toEqual({
      revokedSessionId: mine[0].sessionId,
      signedOut: true,
    });
  });
});
