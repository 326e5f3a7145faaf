import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Persona } from '../../sandbox/digidentity/personas.js';
import { Browser } from '../support/browser.js';
import { IOE, startDigidentityTestbed, type DigidentityTestbed, pendingPage } from '../support/digidentity-testbed.js';
import { PendingIdentityHousekeeping } from '../../src/linking/pending-identity-housekeeping.js';
import { RebindService } from '../../src/linking/rebind.service.js';
import { auditEvents, createAccount, createAdmin, createLink, signIn } from '../support/factories.js';
import { portalWrite, useSession } from '../support/link-flow.js';

interface PendingItem {
  id: string;
  subject: string;
  reason: string;
  flags: Record<string, unknown>;
  suspectedAccount: { id: string } | null;
  rebindable: boolean;
  openRebindRequestId: string | null;
  resolvedAt: string | null;
}

let personaCount = 0;
/** A new sandbox person (own SERMI authorisation UID), so tests do not share identities. */
function newPerson(bed: DigidentityTestbed): Persona {
  personaCount += 1;
  const id = `rebind-person-${personaCount}-${Math.random().toString(36).slice(2, 8)}`;
  const uid = String(1_000_000_000 + Math.floor(Math.random() * 8_999_999_999)).slice(0, 10);
  const persona = { id, label: id, description: id, claims: { ...IOE.claims, ioeuid: `NL/EXAMPLECAB/${uid}R` } };
  bed.sandbox.personas.push(persona);
  return persona;
}

async function accountOf(bed: DigidentityTestbed, browser: Browser): Promise<{ id: string; sessionId: string }> {
  const me = (await browser.request(`${bed.app.baseUrl}/api/me`)).json<{
    account: { id: string };
    session: { id: string };
  }>();
  return { id: me.account.id, sessionId: me.session.id };
}

async function adminBrowser(bed: DigidentityTestbed, name: string): Promise<Browser> {
  const admin = await createAdmin(bed.app, name);
  const browser = new Browser();
  useSession(browser, bed.app, admin.session);
  return browser;
}

async function pendingFor(bed: DigidentityTestbed, admin: Browser, subject: string): Promise<PendingItem> {
  const page = (await admin.request(`${bed.app.baseUrl}/api/admin/pending-identities`)).json<{
    items: PendingItem[];
  }>();
  const item = page.items.find((candidate) => candidate.subject === subject);
  if (!item) throw new Error(`no pending identity for ${subject}`);
  return item;
}

/** The person signs in, deletes and re-creates their provider account, and signs in again: held for review. */
async function recreatedIdentity(bed: DigidentityTestbed) {
  const person = newPerson(bed);
  const original = new Browser();
  await bed.webLogin(original, person.id);
  const account = await accountOf(bed, original);
  const newSubject = bed.sandbox.recreateAccount(person.id);
  const again = new Browser();
  expect((await bed.webLogin(again, person.id)).location).toEqual(pendingPage(bed));
  return { person, original, account, oldSubject: person.id, newSubject };
}

const rebind = (bed: DigidentityTestbed, admin: Browser, accountId: string, body: Record<string, unknown>) =>
  portalWrite(admin, bed.app, 'POST', `/api/admin/accounts/${accountId}/rebind`, body);

describe('admin re-binding', () => {
  let bed: DigidentityTestbed;
  let admin: Browser;

  beforeAll(async () => {
    bed = await startDigidentityTestbed();
    admin = await adminBrowser(bed, 'Support desk');
  });
  afterAll(async () => bed.close());

  it('re-binds a re-created identity end to end: old subject out, new subject in, audited old → new', async () => {
    const { person, original, account, oldSubject, newSubject } = await recreatedIdentity(bed);

    const pending = await pendingFor(bed, admin, newSubject);
    expect(pending).toMatchObject({
      reason: 'probable_recreated_identity',
      suspectedAccount: { id: account.id },
      flags: { samePersonKeyAsAccount: account.id },
      rebindable: true,
    });

    const response = await rebind(bed, admin, account.id, {
      pendingIdentityId: pending.id,
      reason: 'Ticket 4711: itsme account re-created, identity checked by phone',
    });
    expect(response.status).toBe(200);
    expect(response.json()).toMatchObject({ status: 'applied', oldSubject, revokedSessions: 1 });

    // The session of the old subject ended with the re-bind.
    expect((await original.request(`${bed.app.baseUrl}/api/me`)).status).toBe(401);
    // The new subject signs in to the same account.
    const fresh = new Browser();
    await bed.webLogin(fresh, person.id);
    expect((await accountOf(bed, fresh)).id).toBe(account.id);
    // The old subject no longer does: it is just another unknown identity held for review.
    bed.sandbox.setSubject(person.id, oldSubject);
    const old = new Browser();
    expect((await bed.webLogin(old, person.id)).location).toEqual(pendingPage(bed));
    expect((await old.request(`${bed.app.baseUrl}/api/me`)).status).toBe(401);
    bed.sandbox.setSubject(person.id, newSubject);

    const [rebound] = (await auditEvents(bed.app.dataSource, 'identity.rebound')).slice(-1);
    expect(rebound.subject_account_id).toBe(account.id);
    expect(rebound.actor_account_id).not.toBeNull();
    expect(rebound.details).toMatchObject({
      via: 'admin_rebind',
      provider: 'digidentity',
      oldSubject,
      newSubject,
      pendingIdentityId: pending.id,
      reason: 'Ticket 4711: itsme account re-created, identity checked by phone',
    });
    const [resolved] = await bed.app.dataSource.query(
      `SELECT resolution, resolved_account_id FROM pending_identities WHERE id = $1`,
      [pending.id],
    );
    expect(resolved).toEqual({ resolution: 'rebound', resolved_account_id: account.id });
  });

  it('lets exactly one of two concurrent re-binds of the same pending identity succeed', async () => {
    const { account, newSubject } = await recreatedIdentity(bed);
    const pending = await pendingFor(bed, admin, newSubject);
    const second = await adminBrowser(bed, 'Second desk');
    const answers = await Promise.all([
      rebind(bed, admin, account.id, { pendingIdentityId: pending.id, reason: 'ticket 1' }),
      rebind(bed, second, account.id, { pendingIdentityId: pending.id, reason: 'ticket 2' }),
    ]);
    expect(answers.map((answer) => answer.status).sort()).toEqual([200, 409]);
    expect(answers.find((answer) => answer.status === 409)!.json().code).toBe('pending_identity_resolved');
    const events = (await auditEvents(bed.app.dataSource, 'identity.rebound')).filter(
      (event) => event.details.pendingIdentityId === pending.id,
    );
    expect(events).toHaveLength(1);
  });

  it('refuses a pending identity whose last login is too old, or that belongs to another person', async () => {
    const { account, newSubject } = await recreatedIdentity(bed);
    const pending = await pendingFor(bed, admin, newSubject);
    const other = await createAccount(bed.app.dataSource);
    await createLink(bed.app.dataSource, other.id, { provider: 'signicat-idin' });
    // Its person key is the first account's: binding it to another account would make one person two accounts.
    const elsewhere = await rebind(bed, admin, other.id, { pendingIdentityId: pending.id, reason: 'wrong account' });
    expect([elsewhere.status, elsewhere.json().code]).toEqual([409, 'identity_already_linked']);
    const [refused] = (await auditEvents(bed.app.dataSource, 'identity.link_refused')).slice(-1);
    expect(refused.details).toMatchObject({ code: 'identity_already_linked', heldByAccountId: account.id });

    await bed.app.dataSource.query(
      `UPDATE pending_identities SET last_seen_at = now() - interval '4 days' WHERE id = $1`,
      [pending.id],
    );
    const old = await rebind(bed, admin, account.id, { pendingIdentityId: pending.id, reason: 'too late' });
    expect([old.status, old.json().code]).toEqual([410, 'pending_identity_expired']);
  });

  it('validates: a reason is required, ids must exist', async () => {
    const { account, newSubject } = await recreatedIdentity(bed);
    const pending = await pendingFor(bed, admin, newSubject);
    const noReason = await rebind(bed, admin, account.id, { pendingIdentityId: pending.id });
    expect([noReason.status, noReason.json().code]).toEqual([400, 'validation_failed']);
    const blank = await rebind(bed, admin, account.id, { pendingIdentityId: pending.id, reason: '   ' });
    expect([blank.status, blank.json().code]).toEqual([400, 'validation_failed']);
    const typedIn = await rebind(bed, admin, account.id, { subject: 'typed-by-hand', reason: 'x' });
    expect([typedIn.status, typedIn.json().code]).toEqual([400, 'validation_failed']);
    const unknownPending = await rebind(bed, admin, account.id, {
      pendingIdentityId: '00000000-0000-4000-8000-000000000000',
      reason: 'x',
    });
    expect([unknownPending.status, unknownPending.json().code]).toEqual([404, 'pending_identity_not_found']);
    const unknownAccount = await rebind(bed, admin, '00000000-0000-4000-8000-000000000000', {
      pendingIdentityId: pending.id,
      reason: 'x',
    });
    expect([unknownAccount.status, unknownAccount.json().code]).toEqual([404, 'account_not_found']);
  });

  it('refuses an admin re-binding a login of their own account, however its id is spelled', async () => {
    const { newSubject } = await recreatedIdentity(bed);
    const pending = await pendingFor(bed, admin, newSubject);
    const adminId = (await accountOf(bed, admin)).id;
    for (const id of [adminId, adminId.toUpperCase()]) {
      const own = await rebind(bed, admin, id, { pendingIdentityId: pending.id, reason: 'my new itsme' });
      expect([own.status, own.json().code]).toEqual([409, 'self_modification_refused']);
    }
    expect((await pendingFor(bed, admin, newSubject)).resolvedAt).toBeNull();
  });

  it('refuses non-admins', async () => {
    const user = await createAccount(bed.app.dataSource);
    const browser = new Browser();
    useSession(browser, bed.app, await signIn(bed.app, user));
    const list = await browser.request(`${bed.app.baseUrl}/api/admin/pending-identities`);
    expect([list.status, list.json().code]).toEqual([403, 'forbidden']);
    const write = await rebind(bed, browser, user.id, {
      pendingIdentityId: '00000000-0000-4000-8000-000000000000',
      reason: 'self-help',
    });
    expect([write.status, write.json().code]).toEqual([403, 'forbidden']);
  });
});

describe('admin re-binding with four-eyes (REBIND_FOUR_EYES=true)', () => {
  let bed: DigidentityTestbed;
  let requester: Browser;
  let requesterId: string;
  let approver: Browser;
  let approverId: string;

  beforeAll(async () => {
    bed = await startDigidentityTestbed({ env: { REBIND_FOUR_EYES: 'true' } });
    requester = await adminBrowser(bed, 'Requester');
    requesterId = (await accountOf(bed, requester)).id;
    approver = await adminBrowser(bed, 'Approver');
    approverId = (await accountOf(bed, approver)).id;
  });

  /** The events that say a request closed without a decision. */
  const expiries = async (requestId: string) =>
    (await auditEvents(bed.app.dataSource, 'identity.rebind_expired')).filter(
      (event) => event.details.requestId === requestId,
    );
  afterAll(async () => bed.close());

  const decide = (
    admin: Browser,
    requestId: string,
    decision: 'approve' | 'reject',
    body: Record<string, unknown> = {},
  ) => portalWrite(admin, bed.app, 'POST', `/api/admin/rebind-requests/${requestId}/${decision}`, body);

  it('leaves appointing administrators to the operator: one admin cannot make a second account of theirs one', async () => {
    const second = await createAccount(bed.app.dataSource, { displayName: 'Second account' });
    const grant = await portalWrite(requester, bed.app, 'PATCH', `/api/admin/accounts/${second.id}`, {
      roles: ['admin'],
      reason: 'Covers the night shift',
    });
    expect([grant.status, grant.json().code]).toEqual([403, 'admin_grant_needs_operator']);
    const [row] = await bed.app.dataSource.query(`SELECT roles FROM accounts WHERE id = $1`, [second.id]);
    expect(row.roles).toEqual([]);
    // On the record, like every refused admin action.
    const refusals = (await auditEvents(bed.app.dataSource, 'account.update_refused')).filter(
      (event) => event.subject_account_id === second.id,
    );
    expect(refusals).toEqual([
      expect.objectContaining({
        actor_account_id: requesterId,
        details: { code: 'admin_grant_needs_operator', roles: ['admin'], reason: 'Covers the night shift' },
      }),
    ]);
    // Taking the role away, and every other change, stays with the administrators.
    const admin = await createAccount(bed.app.dataSource, { roles: ['admin'] });
    const removed = await portalWrite(requester, bed.app, 'PATCH', `/api/admin/accounts/${admin.id}`, {
      roles: [],
      reason: 'Left the company',
    });
    expect([removed.status, removed.json().roles]).toEqual([200, []]);
    const disabled = await portalWrite(requester, bed.app, 'PATCH', `/api/admin/accounts/${second.id}`, {
      status: 'disabled',
      reason: 'Duplicate account',
    });
    expect(disabled.status).toBe(200);
  });

  it('stores the request; only a different admin can approve it, and then it is applied', async () => {
    const { person, original, account, oldSubject, newSubject } = await recreatedIdentity(bed);
    const pending = await pendingFor(bed, requester, newSubject);

    const requested = await rebind(bed, requester, account.id, { pendingIdentityId: pending.id, reason: 'Ticket 99' });
    expect(requested.status).toBe(202);
    const { requestId } = requested.json<{ status: string; requestId: string }>();
    // Nothing changed yet.
    expect((await original.request(`${bed.app.baseUrl}/api/me`)).status).toBe(200);
    expect((await pendingFor(bed, requester, newSubject)).openRebindRequestId).toBe(requestId);

    const self = await decide(requester, requestId, 'approve');
    expect([self.status, self.json().code]).toEqual([403, 'four_eyes_required']);
    const selfReject = await decide(requester, requestId, 'reject', { comment: 'my own' });
    expect([selfReject.status, selfReject.json().code]).toEqual([403, 'four_eyes_required']);
    // Both attempts are on the record: the requester tried to decide their own request.
    const refusals = (await auditEvents(bed.app.dataSource, 'identity.link_refused')).filter(
      (event) => event.details.requestId === requestId,
    );
    expect(refusals).toEqual(
      ['approve', 'reject'].map((decision) =>
        expect.objectContaining({
          actor_account_id: requesterId,
          subject_account_id: account.id,
          details: expect.objectContaining({
            code: 'four_eyes_required',
            via: 'admin_rebind',
            decision,
            requestId,
            pendingIdentityId: pending.id,
            requestedBy: requesterId,
          }),
        }),
      ),
    );

    const approved = await decide(approver, requestId, 'approve', { comment: 'checked the ticket' });
    expect(approved.status).toBe(200);
    expect(approved.json()).toMatchObject({ status: 'applied', oldSubject, requestId });
    expect((await original.request(`${bed.app.baseUrl}/api/me`)).status).toBe(401);
    const fresh = new Browser();
    await bed.webLogin(fresh, person.id);
    expect((await accountOf(bed, fresh)).id).toBe(account.id);

    const again = await decide(approver, requestId, 'approve');
    expect([again.status, again.json().code]).toEqual([409, 'rebind_request_decided']);
    const types = (await auditEvents(bed.app.dataSource))
      .filter((event) => event.details.requestId === requestId)
      .map((event) => event.type);
    expect(types).toEqual([
      'identity.rebind_requested',
      'identity.link_refused',
      'identity.link_refused',
      'identity.rebound',
      'identity.rebind_approved',
    ]);
    const [rebound] = (await auditEvents(bed.app.dataSource, 'identity.rebound')).slice(-1);
    expect(rebound.details).toMatchObject({ oldSubject, newSubject, requestId, reason: 'Ticket 99' });
  });

  it("refuses an admin approving a re-bind of their own account's login", async () => {
    const { newSubject } = await recreatedIdentity(bed);
    const pending = await pendingFor(bed, requester, newSubject);
    const requested = await rebind(bed, requester, approverId, { pendingIdentityId: pending.id, reason: 'ticket 9' });
    expect(requested.status).toBe(202);
    const own = await decide(approver, requested.json<{ requestId: string }>().requestId, 'approve');
    expect([own.status, own.json().code]).toEqual([409, 'self_modification_refused']);
    expect((await pendingFor(bed, requester, newSubject)).resolvedAt).toBeNull();
  });

  it('a rejected request changes nothing; the pending identity can be requested again', async () => {
    const { original, account, newSubject } = await recreatedIdentity(bed);
    const pending = await pendingFor(bed, requester, newSubject);
    const { requestId } = (
      await rebind(bed, requester, account.id, { pendingIdentityId: pending.id, reason: 'Ticket 100' })
    ).json<{ requestId: string }>();
    const noComment = await decide(approver, requestId, 'reject');
    expect([noComment.status, noComment.json().code]).toEqual([400, 'validation_failed']);
    const rejected = await decide(approver, requestId, 'reject', { comment: 'caller could not be verified' });
    expect(rejected.json()).toMatchObject({ status: 'rejected', decisionComment: 'caller could not be verified' });
    expect((await original.request(`${bed.app.baseUrl}/api/me`)).status).toBe(200);
    const retry = await rebind(bed, requester, account.id, { pendingIdentityId: pending.id, reason: 'Ticket 101' });
    expect(retry.status).toBe(202);
  });

  it('an unapproved request expires', async () => {
    const { original, account, newSubject } = await recreatedIdentity(bed);
    const pending = await pendingFor(bed, requester, newSubject);
    const { requestId } = (
      await rebind(bed, requester, account.id, { pendingIdentityId: pending.id, reason: 'Ticket 102' })
    ).json<{ requestId: string }>();
    // The console's "N re-bind requests waiting" stops counting it as soon as it is past its expiry.
    const openRequests = () => bed.app.app.get(RebindService).countOpenRequests();
    const openBefore = await openRequests();
    await bed.app.dataSource.query(
      `UPDATE rebind_requests SET expires_at = now() - interval '1 second' WHERE id = $1`,
      [requestId],
    );
    expect(await openRequests()).toBe(openBefore - 1);
    const late = await decide(approver, requestId, 'approve');
    expect([late.status, late.json().code]).toEqual([410, 'rebind_request_expired']);
    expect(await expiries(requestId)).toEqual([
      expect.objectContaining({
        actor_account_id: null,
        subject_account_id: account.id,
        details: {
          requestId,
          pendingIdentityId: pending.id,
          requestedBy: requesterId,
          cause: 'ttl',
          noticedBy: 'approve',
        },
      }),
    ]);
    // Noticed once: a second late decision finds it decided.
    const again = await decide(approver, requestId, 'reject', { comment: 'too late' });
    expect([again.status, again.json().code]).toEqual([409, 'rebind_request_decided']);
    expect(await expiries(requestId)).toHaveLength(1);
    const list = (await requester.request(`${bed.app.baseUrl}/api/admin/rebind-requests?status=expired`)).json<{
      items: Array<{ id: string; status: string }>;
    }>();
    expect(list.items).toContainEqual(expect.objectContaining({ id: requestId, status: 'expired' }));
    expect((await original.request(`${bed.app.baseUrl}/api/me`)).status).toBe(200);
  });

  it('puts who read the pending identities and the re-bind requests on the record, with the filters', async () => {
    const { account, newSubject } = await recreatedIdentity(bed);
    const pending = await pendingFor(bed, requester, newSubject);
    await rebind(bed, requester, account.id, { pendingIdentityId: pending.id, reason: 'Ticket 120, re-created' });

    const list = await approver.request(`${bed.app.baseUrl}/api/admin/rebind-requests?status=requested&limit=5`);
    expect(list.status).toBe(200);
    const shown = list.json<{ items: unknown[] }>().items.length;
    expect(shown).toBeGreaterThan(0);
    expect((await auditEvents(bed.app.dataSource, 'identity.rebind_requests_listed')).at(-1)).toMatchObject({
      actor_account_id: approverId,
      request_id: list.headers.get('x-request-id'),
      details: { query: { status: 'requested', limit: 5 }, results: shown },
    });
    expect((await auditEvents(bed.app.dataSource, 'identity.pending_listed')).at(-1)).toMatchObject({
      actor_account_id: requesterId,
      details: { results: expect.any(Number) },
    });
  });

  it('pages through the re-bind requests with a cursor, newest first, each request once', async () => {
    const { account, newSubject } = await recreatedIdentity(bed);
    const pending = await pendingFor(bed, requester, newSubject);
    await rebind(bed, requester, account.id, { pendingIdentityId: pending.id, reason: 'Ticket 121, re-created' });
    type Page = { items: Array<{ id: string; createdAt: string }>; nextCursor: string | null };
    const list = async (query: string) => {
      const response = await approver.request(`${bed.app.baseUrl}/api/admin/rebind-requests?${query}`);
      expect(response.status).toBe(200);
      return response.json<Page>();
    };
    const all = await list('limit=200');
    expect(all.items.length).toBeGreaterThanOrEqual(2);
    expect(all.nextCursor).toBeNull();

    const paged: string[] = [];
    let page = await list('limit=1');
    for (let pages = 1; ; pages += 1) {
      paged.push(...page.items.map((item) => item.id));
      if (page.nextCursor === null || pages > all.items.length) break;
      page = await list(`limit=1&cursor=${encodeURIComponent(page.nextCursor)}`);
    }
    expect(paged).toEqual(all.items.map((item) => item.id));

    const forged = await approver.request(`${bed.app.baseUrl}/api/admin/rebind-requests?cursor=bm90LWEtY3Vyc29y`);
    expect([forged.status, forged.json().code]).toEqual([400, 'invalid_cursor']);
  });

  it('closes a request whose pending identity can no longer be re-bound when someone tries to approve it', async () => {
    const { account, newSubject } = await recreatedIdentity(bed);
    const pending = await pendingFor(bed, requester, newSubject);
    const { requestId } = (
      await rebind(bed, requester, account.id, { pendingIdentityId: pending.id, reason: 'Ticket 103' })
    ).json<{ requestId: string }>();
    await bed.app.dataSource.query(
      `UPDATE pending_identities SET last_seen_at = now() - interval '4 days' WHERE id = $1`,
      [pending.id],
    );
    const approve = await decide(approver, requestId, 'approve');
    expect([approve.status, approve.json().code]).toEqual([410, 'pending_identity_expired']);
    const [request] = await bed.app.dataSource.query(
      `SELECT status, decision_comment FROM rebind_requests WHERE id = $1`,
      [requestId],
    );
    expect(request).toEqual({ status: 'expired', decision_comment: 'closed: pending_identity_expired' });
    expect(await expiries(requestId)).toEqual([
      expect.objectContaining({
        actor_account_id: approverId,
        subject_account_id: account.id,
        details: {
          requestId,
          pendingIdentityId: pending.id,
          requestedBy: requesterId,
          cause: 'pending_identity_expired',
          noticedBy: 'approve',
        },
      }),
    ]);
  });

  it('records a request that expired unnoticed: when a new one replaces it, and by housekeeping', async () => {
    const { account, newSubject } = await recreatedIdentity(bed);
    const pending = await pendingFor(bed, requester, newSubject);
    const first = (
      await rebind(bed, requester, account.id, { pendingIdentityId: pending.id, reason: 'Ticket 105' })
    ).json<{ requestId: string }>().requestId;
    await bed.app.dataSource.query(`UPDATE rebind_requests SET expires_at = now() WHERE id = $1`, [first]);
    const second = await rebind(bed, approver, account.id, { pendingIdentityId: pending.id, reason: 'Ticket 106' });
    expect(second.status).toBe(202);
    expect(await expiries(first)).toEqual([
      expect.objectContaining({
        actor_account_id: null,
        subject_account_id: account.id,
        details: expect.objectContaining({ cause: 'ttl', noticedBy: 'rebind', requestedBy: requesterId }),
      }),
    ]);

    const { requestId } = second.json<{ requestId: string }>();
    await bed.app.dataSource.query(`UPDATE rebind_requests SET expires_at = now() WHERE id = $1`, [requestId]);
    await bed.app.app.get(PendingIdentityHousekeeping).run();
    const [stored] = await bed.app.dataSource.query(`SELECT status FROM rebind_requests WHERE id = $1`, [requestId]);
    expect(stored.status).toBe('expired');
    expect(await expiries(requestId)).toEqual([
      expect.objectContaining({
        actor_account_id: null,
        request_id: null,
        subject_account_id: account.id,
        details: expect.objectContaining({ cause: 'ttl', noticedBy: 'housekeeping', requestedBy: approverId }),
      }),
    ]);
    await bed.app.app.get(PendingIdentityHousekeeping).run();
    expect(await expiries(requestId)).toHaveLength(1);
  });

  it('refuses to approve when the identity signed in again and its review hints changed', async () => {
    const { account, newSubject } = await recreatedIdentity(bed);
    const pending = await pendingFor(bed, requester, newSubject);
    const { requestId } = (
      await rebind(bed, requester, account.id, { pendingIdentityId: pending.id, reason: 'Ticket 104' })
    ).json<{ requestId: string }>();
    await bed.app.dataSource.query(
      `UPDATE pending_identities SET reason = 'unknown_identity', suspected_account_id = NULL WHERE id = $1`,
      [pending.id],
    );
    const approve = await decide(approver, requestId, 'approve');
    expect([approve.status, approve.json().code]).toEqual([409, 'pending_identity_changed']);
    const [request] = await bed.app.dataSource.query(`SELECT status FROM rebind_requests WHERE id = $1`, [requestId]);
    expect(request.status).toBe('expired');
  });

  it('of two concurrent requests for the same pending identity, one is stored and one is a conflict', async () => {
    const { account, newSubject } = await recreatedIdentity(bed);
    const pending = await pendingFor(bed, requester, newSubject);
    const answers = await Promise.all([
      rebind(bed, requester, account.id, { pendingIdentityId: pending.id, reason: 'a' }),
      rebind(bed, approver, account.id, { pendingIdentityId: pending.id, reason: 'b' }),
    ]);
    expect(answers.map((answer) => answer.status).sort()).toEqual([202, 409]);
    expect(answers.find((answer) => answer.status === 409)!.json().code).toBe('rebind_already_requested');
  });
});
