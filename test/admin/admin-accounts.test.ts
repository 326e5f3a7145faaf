import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { grantAdminRole } from '../../src/accounts/grant-admin.js';
import { auditEvents, createAccount, createAdmin, createLink, signIn, type SignedIn } from '../support/factories.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const cursorOf = (position: Record<string, string>) => Buffer.from(JSON.stringify(position)).toString('base64url');

describe('admin accounts API', () => {
  let t: TestApp;
  let admin: SignedIn;
  let adminId: string;

  beforeAll(async () => {
    t = await startTestApp();
    const created = await createAdmin(t, 'Root Admin');
    admin = created.session;
    adminId = created.account.id;
  });
  afterAll(async () => t.close());

  const get = (path: string, session: SignedIn = admin) => request(t.http).get(path).set('Cookie', session.cookie);
  /** An admin change with a reason (every change needs one); `reason: undefined` in `body` leaves it out. */
  const patch = (id: string, body: object, session: SignedIn = admin) =>
    request(t.http)
      .patch(`/api/admin/accounts/${id}`)
      .set('Cookie', session.cookie)
      .set(session.writeHeaders)
      .send({ reason: 'Ticket 42', ...body });
  const statusOf = async (id: string) =>
    (await t.dataSource.query(`SELECT status, roles FROM accounts WHERE id = $1`, [id]))[0];

  describe('access', () => {
    it('refuses anonymous callers with 401 and non-admins with 403 on every admin route', async () => {
      const user = await signIn(t, await createAccount(t.dataSource));
      const target = await createAccount(t.dataSource);
      const routes: Array<[string, (r: request.Agent | ReturnType<typeof request>) => request.Test]> = [
        ['GET /api/admin/accounts', (r) => (r as ReturnType<typeof request>).get('/api/admin/accounts')],
        [
          'GET /api/admin/accounts/:id',
          (r) => (r as ReturnType<typeof request>).get(`/api/admin/accounts/${target.id}`),
        ],
        [
          'PATCH /api/admin/accounts/:id',
          (r) =>
            (r as ReturnType<typeof request>)
              .patch(`/api/admin/accounts/${target.id}`)
              .send({ status: 'disabled', reason: 'Ticket 42' }),
        ],
        ['GET /api/admin/audit-events', (r) => (r as ReturnType<typeof request>).get('/api/admin/audit-events')],
      ];
      for (const [name, call] of routes) {
        const anonymous = await call(request(t.http));
        expect([name, anonymous.status, anonymous.body.code]).toEqual([name, 401, 'unauthenticated']);
        const forbidden = await call(request(t.http)).set('Cookie', user.cookie).set(user.writeHeaders);
        expect([name, forbidden.status, forbidden.body.code]).toEqual([name, 403, 'forbidden']);
      }
      expect((await statusOf(target.id)).status).toBe('active');
    });

    it('takes a demotion into account on the very next request', async () => {
      const { account, session } = await createAdmin(t, 'Soon demoted');
      expect((await get('/api/admin/accounts', session)).status).toBe(200);
      expect((await patch(account.id, { roles: [] })).status).toBe(200);
      expect((await get('/api/admin/accounts', session)).status).toBe(403);
    });
  });

  describe('search', () => {
    it('finds accounts by part of the name, by exact subject and by exact provider attribute', async () => {
      const garage = await createAccount(t.dataSource, { displayName: 'Garage Müller-Lüdenscheid' });
      await createLink(t.dataSource, garage.id, {
        subject: 'sub-unique-123',
        attributes: { ioeuid: 'NL/EXAMPLECAB/5550001111B', cabuid: 'EXA/NL/1234/1EXA2MP34LE5' },
      });
      const other = await createAccount(t.dataSource, { displayName: 'Other garage' });
      await createLink(t.dataSource, other.id, { subject: 'sub-other' });

      for (const q of ['müller', 'sub-unique-123', 'NL/EXAMPLECAB/5550001111B', garage.id]) {
        const res = await get(`/api/admin/accounts?q=${encodeURIComponent(q)}`);
        expect([q, res.status, res.body.items.map((a: { id: string }) => a.id)]).toEqual([q, 200, [garage.id]]);
      }
      const partialSubject = await get('/api/admin/accounts?q=sub-unique');
      expect(partialSubject.body.items).toEqual([]);
    });

    it('matches a UID exactly to the identity it belongs to: an IOEUID finds the IOE, not the RSSE whose chain names it', async () => {
      const ioeuid = 'NL/EXAMPLECAB/7770001111B';
      const iouid = 'EXAMPLEIO/SEARCHSTREET1/NL777000111B01';
      const ioe = await createAccount(t.dataSource, { displayName: 'Exact IOE' });
      await createLink(t.dataSource, ioe.id, {
        subject: 'sub-exact-ioe',
        attributes: { actorType: 'IOE', ioeuid, iouid },
      });
      const rsse = await createAccount(t.dataSource, { displayName: 'Exact RSSE' });
      await createLink(t.dataSource, rsse.id, {
        subject: 'sub-exact-rsse',
        attributes: { actorType: 'RSSE', ioeuid, iouid, rsseuid: 'NL/EXAMPLECAB/7779998887D' },
      });
      const ids = async (q: string) =>
        (await get(`/api/admin/accounts?q=${encodeURIComponent(q)}`)).body.items.map((a: { id: string }) => a.id);
      expect(await ids(ioeuid)).toEqual([ioe.id]);
      expect(await ids(iouid)).toEqual([ioe.id]);
      expect(await ids('NL/EXAMPLECAB/7779998887D')).toEqual([rsse.id]);
    });

    it('treats LIKE wildcards in the query literally', async () => {
      const res = await get('/api/admin/accounts?q=%25');
      expect(res.status).toBe(200);
      expect(res.body.items).toEqual([]);
    });

    it('filters by status and role', async () => {
      const disabled = await createAccount(t.dataSource, { displayName: 'Filter disabled', status: 'disabled' });
      const byStatus = await get('/api/admin/accounts?status=disabled&limit=100');
      expect(byStatus.body.items.map((a: { id: string }) => a.id)).toContain(disabled.id);
      expect(byStatus.body.items.every((a: { status: string }) => a.status === 'disabled')).toBe(true);
      const byRole = await get('/api/admin/accounts?role=admin&limit=100');
      expect(byRole.body.items.map((a: { id: string }) => a.id)).toContain(adminId);
      expect(byRole.body.items.every((a: { roles: string[] }) => a.roles.includes('admin'))).toBe(true);
    });

    it('pages through every matching account exactly once, newest first', async () => {
      const created = [];
      for (let i = 0; i < 7; i += 1) created.push(await createAccount(t.dataSource, { displayName: `Paging ${i}` }));
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const res = await get(`/api/admin/accounts?q=Paging&limit=3${cursor ? `&cursor=${cursor}` : ''}`);
        expect(res.status).toBe(200);
        seen.push(...res.body.items.map((a: { id: string }) => a.id));
        cursor = res.body.nextCursor;
        pages += 1;
      } while (cursor);
      expect(pages).toBe(3);
      expect(seen).toEqual(created.map((a) => a.id).reverse());
    });

    it.each([
      ['limit=0', 'limit'],
      ['limit=abc', 'limit'],
      ['limit=101', 'limit'],
      ['status=deleted', 'status'],
      ['role=root', 'role'],
      ['unknown=1', 'unknown'],
    ])('refuses %s with a field error', async (query, field) => {
      const res = await get(`/api/admin/accounts?${query}`);
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('validation_failed');
      expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    });

    it.each([
      ['a NUL character in q', 'q=a%00b', 'validation_failed'],
      [
        'a cursor with an impossible date',
        `cursor=${cursorOf({ createdAt: '2024-13-45T99:99:99.000000Z', id: '00000000-0000-4000-8000-000000000000' })}`,
        'invalid_cursor',
      ],
      [
        'a cursor from year 0',
        `cursor=${cursorOf({ createdAt: '0000-01-01T00:00:00.000000Z', id: '00000000-0000-4000-8000-000000000000' })}`,
        'invalid_cursor',
      ],
      ['a repeated parameter', 'limit=1&limit=2', 'validation_failed'],
      ['a constructor parameter', 'constructor=1', 'validation_failed'],
    ])('refuses %s with 400 instead of failing in the database', async (_, query, code) => {
      const res = await get(`/api/admin/accounts?${query}`);
      expect([res.status, res.body.code]).toEqual([400, code]);
    });

    it('records who searched and with which filters, and who opened which account', async () => {
      const target = await createAccount(t.dataSource, { displayName: 'Looked at' });
      await get(`/api/admin/accounts?q=${encodeURIComponent('Looked at')}`);
      await get(`/api/admin/accounts/${target.id}`);
      const searched = (await auditEvents(t.dataSource, 'account.searched')).at(-1);
      expect(searched).toMatchObject({
        actor_account_id: adminId,
        details: { query: { q: 'Looked at', limit: 25 }, results: 1 },
      });
      const viewed = (await auditEvents(t.dataSource, 'account.viewed')).filter(
        (e) => e.subject_account_id === target.id,
      );
      expect(viewed).toEqual([expect.objectContaining({ actor_account_id: adminId, subject_account_id: target.id })]);
    });

    it('refuses a forged cursor', async () => {
      const forged = Buffer.from(JSON.stringify({ createdAt: "2026-01-01' OR '1'='1", id: 'x' })).toString('base64url');
      const res = await get(`/api/admin/accounts?cursor=${forged}`);
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('invalid_cursor');
    });
  });

  describe('detail', () => {
    it('shows an account with its links (full subjects) and live session count', async () => {
      const account = await createAccount(t.dataSource, { displayName: 'Detail target' });
      const link = await createLink(t.dataSource, account.id, {
        provider: 'itsme',
        issuer: 'https://idp.e2e.itsme.services/v2',
        subject: 'itsme-subject-0001',
      });
      await signIn(t, account, link);
      await signIn(t, account, link);
      const res = await get(`/api/admin/accounts/${account.id}`);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        id: account.id,
        displayName: 'Detail target',
        activeSessions: 2,
        links: [
          {
            id: link.id,
            provider: 'itsme',
            subject: 'itsme-subject-0001',
            issuer: 'https://idp.e2e.itsme.services/v2',
          },
        ],
      });
    });

    it('answers 400 for a garbage id and 404 for an unknown one', async () => {
      const garbage = await get('/api/admin/accounts/not-a-uuid');
      expect(garbage.status).toBe(400);
      expect(garbage.body).toMatchObject({ code: 'validation_failed', errors: [{ field: 'id', rule: 'isUuid' }] });
      const unknown = await get('/api/admin/accounts/00000000-0000-4000-8000-000000000000');
      expect(unknown.status).toBe(404);
      expect(unknown.body.code).toBe('account_not_found');
    });
  });

  describe('changes', () => {
    it('disables an account, revokes its sessions and audits before and after, in one step', async () => {
      const account = await createAccount(t.dataSource, { displayName: 'To disable' });
      const victimSession = await signIn(t, account);
      const res = await patch(account.id, { status: 'disabled', reason: 'Ticket 4711: the workshop closed' });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id: account.id, status: 'disabled', roles: [] });
      expect((await request(t.http).get('/api/me').set('Cookie', victimSession.cookie)).status).toBe(401);
      const [session] = await t.dataSource.query(`SELECT revoke_reason FROM sessions WHERE id = $1`, [
        victimSession.sessionId,
      ]);
      expect(session.revoke_reason).toBe('account_disabled');
      const events = (await auditEvents(t.dataSource, 'account.updated')).filter(
        (e) => e.subject_account_id === account.id,
      );
      expect(events).toEqual([
        {
          type: 'account.updated',
          actor_account_id: adminId,
          subject_account_id: account.id,
          details: {
            before: { status: 'active', roles: [] },
            after: { status: 'disabled', roles: [] },
            reason: 'Ticket 4711: the workshop closed',
            revokedSessions: 1,
          },
          request_id: res.headers['x-request-id'],
        },
      ]);
    });

    it('grants and removes the admin role', async () => {
      const account = await createAccount(t.dataSource);
      expect((await patch(account.id, { roles: ['admin'] })).body.roles).toEqual(['admin']);
      expect((await patch(account.id, { roles: [] })).body.roles).toEqual([]);
      expect(
        (await auditEvents(t.dataSource, 'account.updated')).filter((e) => e.subject_account_id === account.id),
      ).toHaveLength(2);
    });

    it('writes no audit event for a change that changes nothing', async () => {
      const account = await createAccount(t.dataSource);
      expect((await patch(account.id, { status: 'active' })).status).toBe(200);
      expect(
        (await auditEvents(t.dataSource, 'account.updated')).filter((e) => e.subject_account_id === account.id),
      ).toEqual([]);
    });

    it.each([
      [{}, ''],
      [{ status: 'deleted' }, 'status'],
      [{ roles: ['root'] }, 'roles'],
      [{ roles: 'admin' }, 'roles'],
      [{ roles: ['admin', 'admin'] }, 'roles'],
      [{ status: 'disabled', displayName: 'Injected' }, 'displayName'],
      [{ status: 'disabled', id: '00000000-0000-4000-8000-000000000000' }, 'id'],
      [{ status: 'disabled', reason: undefined }, 'reason'],
      [{ status: 'disabled', reason: ' \n ' }, 'reason'],
      [{ status: 'disabled', reason: 'x'.repeat(1001) }, 'reason'],
      [{ roles: ['admin'], reason: 42 }, 'reason'],
      [{ status: null, roles: null }, 'status'],
      [{ roles: null }, 'roles'],
    ])('refuses %j with a field error and changes nothing', async (body, field) => {
      const account = await createAccount(t.dataSource);
      const res = await patch(account.id, body);
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('validation_failed');
      expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
      expect(await statusOf(account.id)).toEqual({ status: 'active', roles: [] });
      expect(
        (await auditEvents(t.dataSource, 'account.updated')).filter((e) => e.subject_account_id === account.id),
      ).toEqual([]);
    });

    it('refuses changes without the CSRF token or from another origin', async () => {
      const account = await createAccount(t.dataSource);
      const noToken = await request(t.http)
        .patch(`/api/admin/accounts/${account.id}`)
        .set('Cookie', admin.cookie)
        .send({ status: 'disabled' });
      expect([noToken.status, noToken.body.code]).toEqual([403, 'csrf_check_failed']);
      const foreign = await request(t.http)
        .patch(`/api/admin/accounts/${account.id}`)
        .set('Cookie', admin.cookie)
        .set({ ...admin.writeHeaders, Origin: 'https://evil.example' })
        .send({ status: 'disabled' });
      expect([foreign.status, foreign.body.code]).toEqual([403, 'csrf_check_failed']);
      expect((await statusOf(account.id)).status).toBe('active');
    });

    it('refuses an admin changing their own status or roles, however the id is spelled', async () => {
      for (const id of [adminId, adminId.toUpperCase()]) {
        const res = await patch(id, { roles: [] });
        expect([id, res.status, res.body.code]).toEqual([id, 409, 'self_modification_refused']);
      }
      expect(await statusOf(adminId)).toEqual({ status: 'active', roles: ['admin'] });
    });

    it('accepts an upper-case id as the same account', async () => {
      const account = await createAccount(t.dataSource);
      const res = await patch(account.id.toUpperCase(), { status: 'disabled' });
      expect([res.status, res.body.id]).toEqual([200, account.id]);
    });

    it.each([
      ['a NUL character', JSON.stringify({ status: 'disabled\u0000' }), 'status', 'noNulCharacter'],
      ['a constructor key', '{"status": "disabled", "constructor": 1}', 'constructor', 'whitelistValidation'],
      ['a __proto__ key', '{"__proto__": {"roles": ["admin"]}}', '__proto__', 'whitelistValidation'],
      [
        'nesting 5000 levels deep',
        `{"roles":${'['.repeat(5000)}${']'.repeat(5000)}}`,
        `roles${'.0'.repeat(16)}`,
        'maxDepth',
      ],
    ])('refuses a body with %s and changes nothing', async (_, body, field, rule) => {
      const account = await createAccount(t.dataSource);
      const res = await request(t.http)
        .patch(`/api/admin/accounts/${account.id}`)
        .set('Cookie', admin.cookie)
        .set(admin.writeHeaders)
        .set('Content-Type', 'application/json')
        .send(body);
      expect([res.status, res.body.code]).toEqual([400, 'validation_failed']);
      expect(res.body.errors).toContainEqual(expect.objectContaining({ field, rule }));
      expect(await statusOf(account.id)).toEqual({ status: 'active', roles: [] });
    });

    it('answers 404 for an unknown account', async () => {
      const res = await patch('00000000-0000-4000-8000-000000000000', { status: 'disabled' });
      expect([res.status, res.body.code]).toEqual([404, 'account_not_found']);
    });
  });
});

describe('appointing and removing administrators', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t.close());

  it('never lose the last one when two admins demote each other at the same moment', async () => {
    const a = await createAdmin(t, 'Admin A');
    const b = await createAdmin(t, 'Admin B');
    const demote = (actor: SignedIn, targetId: string) =>
      request(t.http)
        .patch(`/api/admin/accounts/${targetId}`)
        .set('Cookie', actor.cookie)
        .set(actor.writeHeaders)
        .send({ roles: [], reason: 'Ticket 42' });
    const results = await Promise.all([demote(a.session, b.account.id), demote(b.session, a.account.id)]);
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 403]);
    const [{ admins }] = await t.dataSource.query(
      `SELECT count(*)::int AS admins FROM accounts WHERE status = 'active' AND 'admin' = ANY(roles)`,
    );
    expect(admins).toBe(1);
  });

  it('handles many concurrent role changes of the same account without deadlocks or lost updates', async () => {
    const admins = await Promise.all([createAdmin(t, 'Concurrent A'), createAdmin(t, 'Concurrent B')]);
    const target = await createAccount(t.dataSource, { displayName: 'Promoted and demoted' });
    const results = await Promise.all(
      Array.from({ length: 16 }, (_, i) => {
        const actor = admins[i % 2].session;
        return request(t.http)
          .patch(`/api/admin/accounts/${target.id}`)
          .set('Cookie', actor.cookie)
          .set(actor.writeHeaders)
          .send({ roles: i % 4 < 2 ? ['admin'] : [], reason: `Ticket ${i}` });
      }),
    );
    expect(results.map((r) => r.status)).toEqual(Array(16).fill(200));
    // Serialised changes form one unbroken story: each change starts where the previous one ended.
    const changes = (await auditEvents(t.dataSource, 'account.updated'))
      .filter((e) => e.subject_account_id === target.id)
      .map((e) => e.details as { before: { roles: string[] }; after: { roles: string[] } });
    expect(changes.length).toBeGreaterThan(0);
    expect(changes[0].before.roles).toEqual([]);
    changes.slice(1).forEach((change, i) => expect(change.before).toEqual(changes[i].after));
    const [{ roles }] = await t.dataSource.query(`SELECT roles FROM accounts WHERE id = $1`, [target.id]);
    expect(changes.at(-1)!.after.roles).toEqual(roles);
  });

  it('can be appointed from the command line only, audited as a system action', async () => {
    const account = await createAccount(t.dataSource, { displayName: 'First admin' });
    const link = await createLink(t.dataSource, account.id, { subject: 'first-admin-subject' });
    expect(await grantAdminRole(t.dataSource, link.subject, 'operator')).toEqual({
      outcome: 'granted',
      accountId: account.id,
    });
    expect(await grantAdminRole(t.dataSource, account.id, 'operator')).toEqual({
      outcome: 'already_admin',
      accountId: account.id,
    });
    expect(await grantAdminRole(t.dataSource, 'nobody', 'operator')).toEqual({ outcome: 'not_found' });
    const events = (await auditEvents(t.dataSource, 'account.updated')).filter(
      (e) => e.subject_account_id === account.id,
    );
    expect(events).toEqual([
      {
        type: 'account.updated',
        actor_account_id: null,
        subject_account_id: account.id,
        details: {
          before: { status: 'active', roles: [] },
          after: { status: 'active', roles: ['admin'] },
          via: 'cli',
          operator: 'operator',
        },
        request_id: null,
      },
    ]);
  });
});
