import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { AuditService } from '../../src/audit/audit.service.js';
import { SermiLogSealer } from '../../src/sermi/access-log/sermi-log-sealer.js';
import { SermiLogVerifier } from '../../src/sermi/access-log/sermi-log-verifier.js';
import { SessionRetention } from '../../src/sessions/session-retention.js';
import { createAccount, signIn } from '../support/factories.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const VIN = 'WVWZZZ1JZXW000001';

describe('session retention', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ SESSION_RETENTION_DAYS: '30' });
    await t.dataSource.query(`INSERT INTO rmi_items (code, title, security_related) VALUES ('OIL', 'Oil', false)`);
  });
  afterAll(async () => t.close());

  /** Moves a session's life back in time: it was last usable `daysAgo` days ago (and revoked then, if asked). */
  const endedDaysAgo = (sessionId: string, daysAgo: number, revoked: boolean) =>
    t.dataSource.query(
      `UPDATE sessions SET created_at = now() - make_interval(days => $2 + 1),
              last_seen_at = now() - make_interval(days => $2 + 1),
              idle_expires_at = now() - make_interval(days => $2),
              absolute_expires_at = now() - make_interval(days => $2) + interval '1 hour',
              revoked_at = CASE WHEN $3 THEN now() - make_interval(days => $2) END,
              revoke_reason = CASE WHEN $3 THEN 'logout' END
        WHERE id = $1`,
      [sessionId, daysAgo, revoked],
    );
  const sessionIds = async (): Promise<string[]> =>
    (await t.dataSource.query(`SELECT id FROM sessions ORDER BY id`)).map((row: { id: string }) => row.id);

  it('deletes sessions ended longer ago than SESSION_RETENTION_DAYS, and what refers to them keeps working', async () => {
    const account = await createAccount(t.dataSource);
    const [live, revokedLongAgo, expiredLongAgo, revokedYesterday, endedWithinRetention] = await Promise.all(
      [0, 1, 2, 3, 4].map(() => signIn(t, account)),
    );
    // What a session leaves behind: an access log record, an audit event of its logout, a pending identity held
    // for it, a chain binding it made.
    const decision = await request(t.http)
      .post('/api/sermi/access')
      .set('Cookie', revokedLongAgo.cookie)
      .set(revokedLongAgo.writeHeaders)
      .send({ vin: VIN, item: 'OIL' });
    expect(decision.status).toBe(200);
    const logout = await request(t.http)
      .post('/auth/logout')
      .set('Cookie', revokedLongAgo.cookie)
      .set(revokedLongAgo.writeHeaders);
    expect(logout.status).toBe(204);
    const [pending] = await t.dataSource.query(
      `INSERT INTO pending_identities (provider, issuer, subject, reason, expires_at, held_for_session_id)
       VALUES ('itsme', 'https://idp.example', 'held-for-a-session', 'unknown_identity', now() + interval '1 day', $1)
       RETURNING id`,
      [revokedLongAgo.sessionId],
    );
    await t.dataSource.query(
      `INSERT INTO sermi_chain_bindings (rsseuid, ioeuid, authenticated_at, vin, bound_by_session_id)
       VALUES ('NL/RSSE/1', 'NL/IOE/1', now() - interval '40 days', $1, $2)`,
      [VIN, revokedLongAgo.sessionId],
    );
    await endedDaysAgo(revokedLongAgo.sessionId, 40, true);
    await endedDaysAgo(expiredLongAgo.sessionId, 31, false);
    await endedDaysAgo(revokedYesterday.sessionId, 1, true);
    await endedDaysAgo(endedWithinRetention.sessionId, 29, false);
    await t.app.get(SermiLogSealer).sealAll();

    expect(await t.app.get(SessionRetention).purge()).toEqual({ deleted: 2, skipped: false });
    expect(await sessionIds()).toEqual(
      [live, revokedYesterday, endedWithinRetention].map((session) => session.sessionId).sort(),
    );
    // The live session is untouched and still signs its holder in.
    expect((await request(t.http).get('/api/me').set('Cookie', live.cookie)).status).toBe(200);

    // The access log keeps the session id as a value, and its chain still verifies.
    const [record] = await t.dataSource.query(`SELECT session_id FROM sermi_access_log WHERE id = $1`, [
      decision.body.accessId,
    ]);
    expect(record.session_id).toBe(revokedLongAgo.sessionId);
    expect(await t.app.get(SermiLogVerifier).verify()).toMatchObject({ valid: true, unsealedRecords: 0 });
    // The pending identity stays, without its hint; the chain binding stays as it was.
    expect(
      await t.dataSource.query(`SELECT held_for_session_id FROM pending_identities WHERE id = $1`, [pending.id]),
    ).toEqual([{ held_for_session_id: null }]);
    expect(
      await t.dataSource.query(`SELECT bound_by_session_id FROM sermi_chain_bindings WHERE rsseuid = 'NL/RSSE/1'`),
    ).toEqual([{ bound_by_session_id: revokedLongAgo.sessionId }]);
    // The audit trail keeps the logout's event and records the purge; the chain verifies.
    const events: Array<{ type: string; details: Record<string, unknown> }> = await t.dataSource.query(
      `SELECT type, details FROM audit_events WHERE type IN ('session.revoked', 'session.purged') ORDER BY seq`,
    );
    expect(events).toEqual([
      expect.objectContaining({ type: 'session.revoked' }),
      { type: 'session.purged', details: { deleted: 2, retentionDays: 30 } },
    ]);
    expect(JSON.stringify(events[0].details)).toContain(revokedLongAgo.sessionId);
    expect((await t.app.get(AuditService).verifyChain()).valid).toBe(true);

    // Nothing left to do: no deletion, no event.
    expect(await t.app.get(SessionRetention).purge()).toEqual({ deleted: 0, skipped: false });
  });

  it('is shared by the instances on one database: each ended session is deleted once, in bounded batches', async () => {
    const second = await startTestApp({ SESSION_RETENTION_DAYS: '30' }, { database: t.database });
    try {
      const account = await createAccount(t.dataSource);
      const before = (await sessionIds()).length;
      const [{ seq }] = await t.dataSource.query(`SELECT coalesce(max(seq), 0)::text AS seq FROM audit_events`);
      await t.dataSource.query(
        `INSERT INTO sessions (token_hash, account_id, provider, authenticated_at, last_seen_at, idle_expires_at,
                               absolute_expires_at, created_at)
         SELECT sha256(convert_to(gen_random_uuid()::text, 'UTF8')), $1, 'digidentity', now() - interval '60 days',
                now() - interval '60 days', now() - interval '59 days', now() - interval '58 days',
                now() - interval '60 days'
           FROM generate_series(1, 2500)`,
        [account.id],
      );
      const runs = await Promise.all([t, second, t, second].map((app) => app.app.get(SessionRetention).purge()));
      expect(runs.reduce((sum, run) => sum + run.deleted, 0)).toBe(2500);
      expect((await sessionIds()).length).toBe(before);
      const [{ audited }] = await t.dataSource.query(
        `SELECT coalesce(sum((details->>'deleted')::int), 0)::int AS audited FROM audit_events
          WHERE type = 'session.purged' AND seq > $1::bigint`,
        [seq],
      );
      expect(audited).toBe(2500);
    } finally {
      await second.close();
    }
  });
});
