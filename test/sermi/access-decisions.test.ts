import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Controller, Get, Module } from '@nestjs/common';
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { requestPool } from '../../src/database/sql.js';
import { type AccessResult } from '../../src/sermi/sermi-access.service.js';
import { RequiresSermi, SermiAccess } from '../../src/sermi/requires-sermi.guard.js';
import { SermiModule } from '../../src/sermi/sermi.module.js';
import { Browser } from '../support/browser.js';
import { IOE, RSSE, startDigidentityTestbed, type DigidentityTestbed } from '../support/digidentity-testbed.js';
import { createAccount, signIn } from '../support/factories.js';

const VIN_A = 'WVWZZZ1JZXW000001';
const VIN_B = 'WVWZZZ1JZXW000002';

@Controller('test/vehicles')
class GuardedController {
  @Get(':vin/immobiliser')
  @RequiresSermi({ item: 'IMMO_KEY_PROGRAMMING' })
  immobiliser(@SermiAccess() access: AccessResult) {
    return { accessId: access.accessId, grant: access.grant?.token ?? null };
  }
}

@Controller('test/keys')
@RequiresSermi({ item: 'IMMO_KEY_PROGRAMMING' })
class GuardedByClassController {
  @Get(':vin')
  key(@SermiAccess() access: AccessResult) {
    return { accessId: access.accessId };
  }
}

@Module({ imports: [SermiModule], controllers: [GuardedController, GuardedByClassController] })
class GuardedRoutesModule {}

interface Decision {
  accessId: string;
  decision: 'granted' | 'denied';
  reason: string;
  vin: string;
  sermiRequired: boolean;
  item: { code: string; title: string; securityRelated: boolean };
  actor: { type: string; sub: string; uid: string; organisationUid: string } | null;
  principal: { ioeuid: string; iouid: string } | null;
  grant: { token: string; expiresAt: string } | null;
  reauthenticateUrl: string | null;
}

interface LogRow {
  id: string;
  kind: string;
  login_method: string | null;
  session_id: string | null;
  actor_type: string | null;
  sub: string | null;
  ioeuid: string | null;
  iouid: string | null;
  rssuid: string | null;
  rsseuid: string | null;
  cabuid: string | null;
  vin: string | null;
  item_code: string | null;
  item_security_related: boolean | null;
  decision: string;
  reason: string;
  client_ip: string | null;
  user_agent: string | null;
  request_id: string | null;
}

describe('SERMI access decisions', () => {
  let bed: DigidentityTestbed;
  let base: string;

  beforeAll(async () => {
    bed = await startDigidentityTestbed({ extraModules: [GuardedRoutesModule] });
    base = bed.app.baseUrl;
    await bed.app.dataSource.query(
      `INSERT INTO rmi_items (code, title, security_related) VALUES
         ('IMMO_KEY_PROGRAMMING', 'Key programming', true), ('SERVICE_SCHEDULE', 'Service schedule', false)`,
    );
  });
  afterAll(async () => bed.close());
  // A binding belongs to a Trust Centre authentication (its auth_time, in whole seconds): two tests' logins of the
  // same RSSE in one second would share it, as no two real authentications of one person do.
  beforeEach(async () => bed.app.dataSource.query(`DELETE FROM sermi_chain_bindings`));

  async function ask(signedIn: { browser: Browser; headers: Record<string, string> }, body: unknown) {
    return signedIn.browser.request(`${base}/api/sermi/access`, { json: body, headers: signedIn.headers });
  }

  const logRow = async (id: string) =>
    (await bed.app.dataSource.query(`SELECT * FROM sermi_access_log WHERE id = $1`, [id]))[0] as LogRow;
  const loginRecords = async (sessionId: string): Promise<LogRow[]> =>
    bed.app.dataSource.query(`SELECT * FROM sermi_access_log WHERE kind = 'login' AND session_id = $1`, [sessionId]);
  const sessionLifetimeSeconds = async (sessionId: string) =>
    (
      await bed.app.dataSource.query(
        `SELECT extract(epoch FROM absolute_expires_at - authenticated_at)::int AS seconds FROM sessions WHERE id = $1`,
        [sessionId],
      )
    )[0].seconds as number;
  const logCount = async () =>
    Number((await bed.app.dataSource.query(`SELECT count(*) FROM sermi_access_log`))[0].count);

  it('grants non-security RMI to any signed-in account, without SERMI, and logs it', async () => {
    const account = await createAccount(bed.app.dataSource);
    const session = await signIn(bed.app, account);
    const browser = new Browser();
    browser.cookies(base).set(bed.app.config.session.cookieName, session.token);
    const response = await ask({ browser, headers: session.writeHeaders }, { vin: VIN_A, item: 'service_schedule' });
    expect(response.status).toBe(200);
    const decision = response.json<Decision>();
    expect(decision).toMatchObject({
      decision: 'granted',
      reason: 'not_security_related',
      sermiRequired: false,
      item: { code: 'SERVICE_SCHEDULE', title: 'Service schedule', securityRelated: false },
      actor: null,
      principal: null,
      grant: null,
    });
    expect(await logRow(decision.accessId)).toMatchObject({
      kind: 'access',
      session_id: session.sessionId,
      actor_type: null,
      vin: VIN_A,
      item_code: 'SERVICE_SCHEDULE',
      item_security_related: false,
      decision: 'granted',
      reason: 'not_security_related',
    });
  });

  it('denies security RMI to a session not authenticated through the SERMI Trust Centre', async () => {
    const account = await createAccount(bed.app.dataSource);
    const session = await signIn(bed.app, account);
    const browser = new Browser();
    browser.cookies(base).set(bed.app.config.session.cookieName, session.token);
    const response = await ask(
      { browser, headers: session.writeHeaders },
      { vin: VIN_A, item: 'IMMO_KEY_PROGRAMMING', returnTo: '/jobs/7' },
    );
    const decision = response.json<Decision>();
    expect(decision).toMatchObject({ decision: 'denied', reason: 'sermi_login_required', grant: null });
    expect(decision.reauthenticateUrl).toBe(`${base}/auth/digidentity/login?returnTo=%2Fjobs%2F7`);
    expect(await logRow(decision.accessId)).toMatchObject({ decision: 'denied', reason: 'sermi_login_required' });
  });

  it('grants security RMI to a fresh IOE session with a grant that verifies against the JWKS and expires', async () => {
    const ioe = await bed.signedInBrowser(IOE.id);
    const response = await ask(ioe, { vin: VIN_A.toLowerCase(), item: 'IMMO_KEY_PROGRAMMING' });
    expect(response.status).toBe(200);
    const decision = response.json<Decision>();
    expect(decision).toMatchObject({
      decision: 'granted',
      reason: 'sermi_session_valid',
      vin: VIN_A,
      sermiRequired: true,
      actor: { type: 'IOE', sub: IOE.id, uid: IOE.claims.ioeuid, organisationUid: IOE.claims.iouid },
      principal: { ioeuid: IOE.claims.ioeuid, iouid: IOE.claims.iouid },
      reauthenticateUrl: null,
    });

    const jwks = createRemoteJWKSet(new URL(`${base}/.well-known/jwks.json`));
    const { payload, protectedHeader } = await jwtVerify(decision.grant!.token, jwks, {
      issuer: base,
      audience: 'rmi-content',
      algorithms: ['ES256'],
      typ: 'rmi-access-grant+jwt',
    });
    expect(payload).toMatchObject({
      jti: decision.accessId,
      vin: VIN_A,
      item: 'IMMO_KEY_PROGRAMMING',
      sermi: {
        actorType: 'IOE',
        actor: { sub: IOE.id, uid: IOE.claims.ioeuid },
        principal: { ioeuid: IOE.claims.ioeuid, iouid: IOE.claims.iouid },
        cabuid: IOE.claims.cabuid,
      },
    });
    expect(payload.exp! - payload.iat!).toBe(180);
    expect(new Date(decision.grant!.expiresAt).getTime()).toBe(payload.exp! * 1000);
    expect(protectedHeader.kid).toBeDefined();
    await expect(
      jwtVerify(decision.grant!.token, jwks, { currentDate: new Date((payload.exp! + 1) * 1000) }),
    ).rejects.toMatchObject({ code: 'ERR_JWT_EXPIRED' });

    const tampered = decision.grant!.token.replace(
      /\.[^.]+\./,
      `.${Buffer.from(JSON.stringify({ ...payload, vin: VIN_B })).toString('base64url')}.`,
    );
    await expect(jwtVerify(tampered, jwks)).rejects.toMatchObject({ code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' });

    expect(await logRow(decision.accessId)).toMatchObject({
      kind: 'access',
      login_method: 'web',
      session_id: ioe.sessionId,
      actor_type: 'IOE',
      sub: IOE.id,
      ioeuid: IOE.claims.ioeuid,
      iouid: IOE.claims.iouid,
      cabuid: IOE.claims.cabuid,
      rssuid: null,
      rsseuid: null,
      vin: VIN_A,
      item_code: 'IMMO_KEY_PROGRAMMING',
      item_security_related: true,
      decision: 'granted',
      reason: 'sermi_session_valid',
      client_ip: '127.0.0.1',
    });
  });

  it('records a returning SERMI login itself in the access log', async () => {
    const ioe = await bed.signedInBrowser(IOE.id);
    const rows = await loginRecords(ioe.sessionId);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      login_method: 'web',
      actor_type: 'IOE',
      sub: IOE.id,
      cabuid: IOE.claims.cabuid,
      iouid: IOE.claims.iouid,
      ioeuid: IOE.claims.ioeuid,
      decision: 'granted',
      reason: 'sermi_login',
      vin: null,
    });
    expect(rows[0].request_id).toEqual(expect.any(String));
  });

  it('denies a stale IOE session and tells the portal where to sign in again', async () => {
    const ioe = await bed.signedInBrowser(IOE.id);
    await bed.app.dataSource.query(
      `UPDATE sessions SET authenticated_at = now() - interval '31 minutes' WHERE id = $1`,
      [ioe.sessionId],
    );
    const decision = (await ask(ioe, { vin: VIN_A, item: 'IMMO_KEY_PROGRAMMING' })).json<Decision>();
    expect(decision).toMatchObject({ decision: 'denied', reason: 'reauthentication_required', grant: null });
    // A fresh Trust Centre login: the provider must sign the person in again, not reuse its own session.
    expect(decision.reauthenticateUrl).toBe(`${base}/auth/reauthenticate?returnTo=%2F&provider=digidentity`);
    const nonSecurity = (await ask(ioe, { vin: VIN_A, item: 'SERVICE_SCHEDULE' })).json<Decision>();
    expect(nonSecurity).toMatchObject({ decision: 'granted', reason: 'not_security_related' });
  });

  it('never lets a grant outlive the SERMI login it was granted on', async () => {
    const ioe = await bed.signedInBrowser(IOE.id);
    await bed.app.dataSource.query(
      `UPDATE sessions SET authenticated_at = now() - interval '29 minutes' WHERE id = $1`,
      [ioe.sessionId],
    );
    const decision = (await ask(ioe, { vin: VIN_A, item: 'IMMO_KEY_PROGRAMMING' })).json<Decision>();
    expect(decision.decision).toBe('granted');
    const claims = decodeJwt(decision.grant!.token);
    const loginEnds = (claims.auth_time as number) + bed.app.config.sermi.ioeMaxAgeSeconds;
    expect(claims.exp).toBe(loginEnds);
    expect(claims.exp! - claims.iat!).toBeLessThan(bed.app.config.sermi.grant.ttlSeconds);
    expect(Date.parse(decision.grant!.expiresAt) / 1000).toBe(loginEnds);
  });

  it('binds a chain session to its first vehicle: the RSSE acts, the IOE is the principal, a second VIN is denied', async () => {
    const rsse = await bed.signedInBrowser(RSSE.id);
    expect(await sessionLifetimeSeconds(rsse.sessionId)).toBe(900);
    // The first login of this person (account provisioned): its log record carries both actor and principal.
    expect(await loginRecords(rsse.sessionId)).toEqual([
      expect.objectContaining({
        actor_type: 'RSSE',
        sub: RSSE.id,
        rsseuid: RSSE.claims.rsseuid,
        rssuid: RSSE.claims.rssuid,
        ioeuid: RSSE.claims.ioeuid,
        iouid: RSSE.claims.iouid,
        cabuid: RSSE.claims.cabuid,
      }),
    ]);

    const first = (await ask(rsse, { vin: VIN_B, item: 'IMMO_KEY_PROGRAMMING' })).json<Decision>();
    expect(first).toMatchObject({
      decision: 'granted',
      actor: { type: 'RSSE', sub: RSSE.id, uid: RSSE.claims.rsseuid, organisationUid: RSSE.claims.rssuid },
      principal: { ioeuid: RSSE.claims.ioeuid, iouid: RSSE.claims.iouid },
    });
    expect(decodeJwt(first.grant!.token)).toMatchObject({
      sermi: { actorType: 'RSSE', actor: { uid: RSSE.claims.rsseuid }, principal: { ioeuid: RSSE.claims.ioeuid } },
    });
    expect((await ask(rsse, { vin: VIN_B, item: 'IMMO_KEY_PROGRAMMING' })).json<Decision>().decision).toBe('granted');

    const second = (await ask(rsse, { vin: VIN_A, item: 'IMMO_KEY_PROGRAMMING' })).json<Decision>();
    expect(second).toMatchObject({ decision: 'denied', reason: 'chain_vehicle_mismatch', grant: null });
    expect(await logRow(second.accessId)).toMatchObject({
      actor_type: 'RSSE',
      sub: RSSE.id,
      rsseuid: RSSE.claims.rsseuid,
      rssuid: RSSE.claims.rssuid,
      ioeuid: RSSE.claims.ioeuid,
      iouid: RSSE.claims.iouid,
      vin: VIN_A,
      decision: 'denied',
      reason: 'chain_vehicle_mismatch',
    });
    // Non-security RMI stays open for any vehicle.
    expect((await ask(rsse, { vin: VIN_A, item: 'SERVICE_SCHEDULE' })).json<Decision>().decision).toBe('granted');
  });

  it('keeps a chain authorisation to its vehicle: a silent re-login signs nobody in, a new sign-in may bind another', async () => {
    const { signIns } = bed.sandbox;
    const browser = new Browser();
    await bed.webLogin(browser, RSSE.id);
    const me = (await browser.request(`${base}/api/me`)).json<{
      csrfToken: string;
      account: { id: string };
      session: { id: string; authenticatedAt: string };
    }>();
    const chain = { browser, sessionId: me.session.id, headers: { Origin: base, 'X-CSRF-Token': me.csrfToken } };
    const authTime = Date.parse(me.session.authenticatedAt);
    expect((await ask(chain, { vin: VIN_A, item: 'IMMO_KEY_PROGRAMMING' })).json<Decision>().decision).toBe('granted');
    const sessionsOf = async () =>
      (
        await bed.app.dataSource.query(`SELECT count(*)::int AS count FROM sessions WHERE account_id = $1`, [
          me.account.id,
        ])
      )[0].count as number;
    const sessionsBefore = await sessionsOf();

    // Five minutes on, the Trust Centre ignores prompt=login (or the login URL lost it in the browser) and answers
    // silently from that sign-in: no new sign-in, so no login — a fresh session would otherwise be a way around the
    // vehicle this chain authorisation is bound to, and the next person at the PC could ride on it.
    signIns.ageSignIns(300);
    signIns.ignoreFreshnessRequests = true;
    try {
      for (let attempt = 0; attempt < 2; attempt += 1) {
        const silent = await bed.webLogin(browser, RSSE.id);
        expect(silent.location).toBe(`${base}/auth/login-error?code=authentication_not_fresh`);
      }
    } finally {
      signIns.ignoreFreshnessRequests = false;
    }
    expect(await sessionsOf()).toBe(sessionsBefore);
    // The session of the sign-in itself goes on, bound as before.
    expect((await ask(chain, { vin: VIN_B, item: 'IMMO_KEY_PROGRAMMING' })).json<Decision>()).toMatchObject({
      decision: 'denied',
      reason: 'chain_vehicle_mismatch',
    });

    // A new Trust Centre authentication brings a new chain authorisation, which may be bound to another vehicle.
    // (`auth_time` has whole seconds: a sign-in within the same second would be the same chain authorisation.)
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const fresh = await bed.signedInBrowser(RSSE.id);
    expect((await ask(fresh, { vin: VIN_B, item: 'IMMO_KEY_PROGRAMMING' })).json<Decision>().decision).toBe('granted');
    const boundVin = async (authenticatedAt: number) =>
      (
        await bed.app.dataSource.query(
          `SELECT vin FROM sermi_chain_bindings WHERE rsseuid = $1 AND ioeuid = $2 AND authenticated_at = $3`,
          [RSSE.claims.rsseuid, RSSE.claims.ioeuid, new Date(authenticatedAt)],
        )
      ).map((row: { vin: string }) => row.vin);
    expect(await boundVin(authTime)).toEqual([VIN_A]);
    const freshAuthTime = (
      await bed.app.dataSource.query(`SELECT authenticated_at FROM sessions WHERE id = $1`, [fresh.sessionId])
    )[0].authenticated_at as Date;
    expect(freshAuthTime.getTime()).toBeGreaterThan(authTime);
    expect(await boundVin(freshAuthTime.getTime())).toEqual([VIN_B]);
  });

  it("binds every session of one chain authorisation alike, by the Trust Centre's auth_time as it stamped it", async () => {
    // One Trust Centre sign-in, two portal sessions: login B is started first (a second tab), the sign-in happens in
    // login A, and B is then answered from the Trust Centre's session of that same sign-in (a login URL without
    // prompt=login) — a sign-in during login B too. With the Trust Centre's clock 10 s ahead of this host's, each
    // callback's own clock must not become the binding's key: the second vehicle stays denied.
    const ahead = 10;
    bed.hostile.hostility.idToken = (claims) => ({
      claims: {
        ...claims,
        iat: claims.iat! + ahead,
        exp: claims.exp! + ahead,
        ...(typeof claims.auth_time === 'number' ? { auth_time: claims.auth_time + ahead } : {}),
      },
    });
    const browser = new Browser();
    const signedIn = async () => {
      const me = (await browser.request(`${base}/api/me`)).json<{ csrfToken: string; session: { id: string } }>();
      return { browser, sessionId: me.session.id, headers: { Origin: base, 'X-CSRF-Token': me.csrfToken } };
    };
    try {
      const authorizeB = (await browser.request(`${base}/auth/digidentity/login?returnTo=%2F`)).location!;
      expect((await bed.webLogin(browser, RSSE.id)).status).toBe(302);
      const a = await signedIn();
      expect((await ask(a, { vin: VIN_A, item: 'IMMO_KEY_PROGRAMMING' })).json<Decision>().decision).toBe('granted');

      bed.sandbox.signIns.ignoreFreshnessRequests = true;
      const callbackB = await browser.follow(authorizeB, (url) => url.startsWith(`${base}/auth/digidentity/callback`));
      expect((await browser.request(callbackB.location!)).location).not.toContain('/auth/login-error');
      const b = await signedIn();
      expect(b.sessionId).not.toBe(a.sessionId);
      expect((await ask(b, { vin: VIN_B, item: 'IMMO_KEY_PROGRAMMING' })).json<Decision>()).toMatchObject({
        decision: 'denied',
        reason: 'chain_vehicle_mismatch',
        grant: null,
      });
      const bindings = await bed.app.dataSource.query(`SELECT vin FROM sermi_chain_bindings WHERE rsseuid = $1`, [
        RSSE.claims.rsseuid,
      ]);
      expect(bindings).toEqual([{ vin: VIN_A }]);
    } finally {
      bed.hostile.hostility = {};
      bed.sandbox.signIns.ignoreFreshnessRequests = false;
    }
  });

  it('binds a chain session to one vehicle even when two are asked for at the same time', async () => {
    // A returning login (the one-statement path): the same cap and the same log record.
    const rsse = await bed.signedInBrowser(RSSE.id);
    expect(await sessionLifetimeSeconds(rsse.sessionId)).toBe(900);
    expect(await loginRecords(rsse.sessionId)).toEqual([
      expect.objectContaining({ actor_type: 'RSSE', rsseuid: RSSE.claims.rsseuid, ioeuid: RSSE.claims.ioeuid }),
    ]);
    const vins = [VIN_A, VIN_B, VIN_A, VIN_B, VIN_A, VIN_B];
    const decisions = await Promise.all(
      vins.map(async (vin) => (await ask(rsse, { vin, item: 'IMMO_KEY_PROGRAMMING' })).json<Decision>()),
    );
    const grantedVins = new Set(decisions.filter((d) => d.decision === 'granted').map((d) => d.vin));
    expect(grantedVins.size).toBe(1);
    expect(decisions.filter((d) => d.decision === 'denied').every((d) => d.reason === 'chain_vehicle_mismatch')).toBe(
      true,
    );
  });

  it('never grants a chain session an item reclassified as security-related after its binding saw it as harmless', async () => {
    await bed.app.dataSource.query(
      `INSERT INTO rmi_items (code, title, security_related) VALUES ('DOOR_LOCK', 'Door lock', false)`,
    );
    const rsse = await bed.signedInBrowser(RSSE.id);
    // An admin reclassifies DOOR_LOCK right between the binding statement and the decision statement.
    const pool = requestPool(bed.app.dataSource);
    const query = pool.query.bind(pool) as (...args: unknown[]) => Promise<unknown>;
    let reclassify = true;
    (pool as unknown as { query: unknown }).query = async (...args: unknown[]) => {
      const result = await query(...args);
      if (reclassify && (args[0] as { name?: string }).name === 'rmi_sermi_chain_binding') {
        reclassify = false;
        await query(`UPDATE rmi_items SET security_related = true WHERE code = 'DOOR_LOCK'`);
      }
      return result;
    };
    try {
      const raced = (await ask(rsse, { vin: VIN_A, item: 'DOOR_LOCK' })).json<Decision>();
      expect(reclassify).toBe(false);
      expect(raced).toMatchObject({ decision: 'denied', reason: 'chain_vehicle_mismatch', grant: null });
      expect(await logRow(raced.accessId)).toMatchObject({ decision: 'denied', item_security_related: true });
      // Asked again, the binding sees the item as it is now: the session is bound to this vehicle and granted.
      const again = (await ask(rsse, { vin: VIN_A, item: 'DOOR_LOCK' })).json<Decision>();
      expect([again.decision, again.grant !== null]).toEqual(['granted', true]);
      const other = (await ask(rsse, { vin: VIN_B, item: 'IMMO_KEY_PROGRAMMING' })).json<Decision>();
      expect([other.decision, other.reason]).toEqual(['denied', 'chain_vehicle_mismatch']);
    } finally {
      (pool as unknown as { query: unknown }).query = query;
    }
  });

  it('answers decisions made at the same time each on its own, an unknown item among them with 404 alone', async () => {
    const ioe = await bed.signedInBrowser(IOE.id);
    const before = await logCount();
    const asked = [
      'IMMO_KEY_PROGRAMMING',
      'SERVICE_SCHEDULE',
      'NO_SUCH_ITEM',
      'IMMO_KEY_PROGRAMMING',
      'SERVICE_SCHEDULE',
    ];
    const responses = await Promise.all(asked.map((item) => ask(ioe, { vin: VIN_A, item })));
    expect(responses.map((response) => response.status)).toEqual([200, 200, 404, 200, 200]);
    const answered = responses.filter((response) => response.status === 200).map((r) => r.json<Decision>());
    expect(answered.map((decision) => [decision.item.code, decision.reason, decision.grant !== null])).toEqual([
      ['IMMO_KEY_PROGRAMMING', 'sermi_session_valid', true],
      ['SERVICE_SCHEDULE', 'not_security_related', false],
      ['IMMO_KEY_PROGRAMMING', 'sermi_session_valid', true],
      ['SERVICE_SCHEDULE', 'not_security_related', false],
    ]);
    expect(new Set(answered.map((decision) => decision.accessId)).size).toBe(4);
    expect(await logCount()).toBe(before + 4);
  });

  it('answers an unknown item with 404 and writes nothing', async () => {
    const ioe = await bed.signedInBrowser(IOE.id);
    const before = await logCount();
    const response = await ask(ioe, { vin: VIN_A, item: 'NO_SUCH_ITEM' });
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    expect(response.json()).toMatchObject({ code: 'rmi_item_not_found' });
    expect(await logCount()).toBe(before);
  });

  it.each([
    ['a VIN with the letter O', { vin: 'WVWZZZ1JZXO000001', item: 'IMMO_KEY_PROGRAMMING' }, 'vin'],
    ['a 16-character VIN', { vin: 'WVWZZZ1JZXW00000', item: 'IMMO_KEY_PROGRAMMING' }, 'vin'],
    ['a VIN that is not a string', { vin: 12345678901234567, item: 'IMMO_KEY_PROGRAMMING' }, 'vin'],
    ['an item code with spaces', { vin: VIN_A, item: 'IMMO KEY' }, 'item'],
    ['an unknown field', { vin: VIN_A, item: 'IMMO_KEY_PROGRAMMING', decision: 'granted' }, 'decision'],
    ['no item', { vin: VIN_A }, 'item'],
  ])('refuses %s with problem+json and writes nothing', async (_, body, field) => {
    const ioe = await bed.signedInBrowser(IOE.id);
    const before = await logCount();
    const response = await ask(ioe, body);
    expect(response.status).toBe(400);
    expect(response.json()).toMatchObject({ code: 'validation_failed' });
    expect(response.json<{ errors: Array<{ field: string }> }>().errors.map((e) => e.field)).toContain(field);
    expect(await logCount()).toBe(before);
  });

  it('refuses a huge body with 413 and writes nothing', async () => {
    const ioe = await bed.signedInBrowser(IOE.id);
    const before = await logCount();
    const response = await ask(ioe, { vin: VIN_A, item: 'IMMO_KEY_PROGRAMMING', returnTo: 'x'.repeat(200_000) });
    expect(response.status).toBe(413);
    expect(response.json()).toMatchObject({ code: 'payload_too_large' });
    expect(await logCount()).toBe(before);
  });

  it('needs a session and the CSRF token', async () => {
    const anonymous = await new Browser().request(`${base}/api/sermi/access`, {
      json: { vin: VIN_A, item: 'IMMO_KEY_PROGRAMMING' },
      headers: { Origin: base },
    });
    expect(anonymous.status).toBe(401);
    const ioe = await bed.signedInBrowser(IOE.id);
    const before = await logCount();
    const forged = await ioe.browser.request(`${base}/api/sermi/access`, {
      json: { vin: VIN_A, item: 'IMMO_KEY_PROGRAMMING' },
      headers: { Origin: 'https://evil.example' },
    });
    expect(forged.status).toBe(403);
    expect(forged.json()).toMatchObject({ code: 'csrf_check_failed' });
    expect(await logCount()).toBe(before);
  });

  describe('@RequiresSermi() on another route', () => {
    it('lets a fresh SERMI session through with its grant, and logs the decision', async () => {
      const ioe = await bed.signedInBrowser(IOE.id);
      const response = await ioe.browser.request(`${base}/test/vehicles/${VIN_A.toLowerCase()}/immobiliser`);
      expect(response.status).toBe(200);
      const body = response.json<{ accessId: string; grant: string }>();
      expect(decodeProtectedHeader(body.grant).typ).toBe('rmi-access-grant+jwt');
      expect(await logRow(body.accessId)).toMatchObject({ vin: VIN_A, decision: 'granted', sub: IOE.id });
    });

    it('answers a denial with a 403 problem naming the reason and the way to a fresh login', async () => {
      const account = await createAccount(bed.app.dataSource);
      const session = await signIn(bed.app, account);
      const browser = new Browser();
      browser.cookies(base).set(bed.app.config.session.cookieName, session.token);
      const response = await browser.request(`${base}/test/vehicles/${VIN_A}/immobiliser`);
      expect(response.status).toBe(403);
      const problem = response.json<{ code: string; accessId: string; reauthenticateUrl: string }>();
      expect(problem.code).toBe('sermi_login_required');
      expect(problem.reauthenticateUrl).toBe(
        `${base}/auth/digidentity/login?returnTo=${encodeURIComponent(`/test/vehicles/${VIN_A}/immobiliser`)}`,
      );
      expect(await logRow(problem.accessId)).toMatchObject({ decision: 'denied', reason: 'sermi_login_required' });
    });

    it('applies to every route of a controller it is put on', async () => {
      const ioe = await bed.signedInBrowser(IOE.id);
      const granted = await ioe.browser.request(`${base}/test/keys/${VIN_A}`);
      expect(granted.status).toBe(200);
      expect(await logRow(granted.json<{ accessId: string }>().accessId)).toMatchObject({ decision: 'granted' });
      const account = await createAccount(bed.app.dataSource);
      const session = await signIn(bed.app, account);
      const browser = new Browser();
      browser.cookies(base).set(bed.app.config.session.cookieName, session.token);
      const denied = await browser.request(`${base}/test/keys/${VIN_A}`);
      expect([denied.status, denied.json().code]).toEqual([403, 'sermi_login_required']);
    });

    it('refuses undeclared query parameters with 400 before any decision is made or logged', async () => {
      const ioe = await bed.signedInBrowser(IOE.id);
      const records = async () =>
        Number(
          (await bed.app.dataSource.query(`SELECT count(*) FROM sermi_access_log WHERE kind = 'access'`))[0].count,
        );
      const before = await records();
      const response = await ioe.browser.request(`${base}/test/vehicles/${VIN_A}/immobiliser?item=OIL`);
      expect(response.status).toBe(400);
      expect(response.json()).toMatchObject({ code: 'validation_failed', errors: [{ field: 'item' }] });
      expect(await records()).toBe(before);
    });

    it('refuses a malformed VIN in the path with 400', async () => {
      const ioe = await bed.signedInBrowser(IOE.id);
      const response = await ioe.browser.request(`${base}/test/vehicles/NOT-A-VIN/immobiliser`);
      expect(response.status).toBe(400);
      expect(response.json()).toMatchObject({ code: 'validation_failed' });
    });
  });
});

describe('SERMI access decisions behind a proxy (TRUST_PROXY=1)', () => {
  let bed: DigidentityTestbed;

  beforeAll(async () => {
    bed = await startDigidentityTestbed({ env: { TRUST_PROXY: '1' } });
    await bed.app.dataSource.query(
      `INSERT INTO rmi_items (code, title, security_related) VALUES ('IMMO_KEY_PROGRAMMING', 'Key programming', true)`,
    );
  });
  afterAll(async () => bed.close());

  it('logs a forwarded address that is not an IP as none, and it never fails decisions made at the same time', async () => {
    const base = bed.app.baseUrl;
    const [spoofing, other] = [await bed.signedInBrowser(RSSE.id), await bed.signedInBrowser(IOE.id)];
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) => {
        const who = i % 2 === 0 ? spoofing : other;
        const forwarded = i % 2 === 0 ? 'not-an-ip' : '203.0.113.7';
        return who.browser.request(`${base}/api/sermi/access`, {
          json: { vin: VIN_A, item: 'IMMO_KEY_PROGRAMMING' },
          headers: { ...who.headers, 'X-Forwarded-For': forwarded },
        });
      }),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(200));
    const rows: Array<{ client_ip: string | null }> = await bed.app.dataSource.query(
      `SELECT host(client_ip) AS client_ip FROM sermi_access_log WHERE id = ANY($1::uuid[]) ORDER BY client_ip`,
      [answers.map((a) => a.json<{ accessId: string }>().accessId)],
    );
    expect(rows.map((r) => r.client_ip)).toEqual([...Array(5).fill('203.0.113.7'), ...Array(5).fill(null)]);
  });
});
