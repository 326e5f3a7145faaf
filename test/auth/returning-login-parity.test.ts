import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { LoginCompletionService, type LoginOutcome } from '../../src/auth/login-completion.service.js';
import type { RequestMeta, VerifiedLogin } from '../../src/auth/verified-login.js';
import type { IdentityProvider } from '../../src/common/identity-providers.js';
import { createAccount, createLink, signIn } from '../support/factories.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

type Path = 'fast' | 'general';

/** The two ways LoginCompletionService completes a returning login: one statement, or the general transaction. */
interface CompletionPaths {
  completeReturningIdentity(login: VerifiedLogin, meta: RequestMeta): Promise<LoginOutcome | undefined>;
  completeInTransaction(login: VerifiedLogin, meta: RequestMeta): Promise<LoginOutcome>;
}

interface Scenario {
  name: string;
  provider: IdentityProvider;
  /** The link's attributes before the login, and what the provider says now. */
  before: Record<string, unknown>;
  after: Record<string, unknown>;
  personKey?: string;
  authTime: Date | null;
  sermi?: boolean;
  sessionEndsBy?: Date;
  idTokenHint?: string;
  /** The browser still holds a live session, which the login replaces. */
  previousSession?: boolean;
}

const ISSUER = 'https://issuer.parity.test';

/**
 * The returning-login statement (RETURNING_LOGIN_SQL) is a copy of the general login path in SQL for its one
 * case: a known identity of an active account. The same logins through both must leave the same rows and the
 * same audit events (ids, tokens and times aside), so a rule changed in one and not the other shows here.
 */
describe('returning logins: the one-statement path and the general path leave the same rows', () => {
  let t: TestApp;
  let paths: CompletionPaths;

  beforeAll(async () => {
    t = await startTestApp();
    paths = t.app.get(LoginCompletionService) as unknown as CompletionPaths;
  });
  afterAll(async () => t.close());

  async function login(path: Path, scenario: Scenario) {
    const account = await createAccount(t.dataSource, { displayName: 'Parity' });
    const subject = randomUUID();
    // Unique per provider: each path's account holds its own.
    const personKey = scenario.personKey ? `${scenario.personKey}-${path}` : null;
    const link = await createLink(t.dataSource, account.id, {
      provider: scenario.provider,
      issuer: ISSUER,
      subject,
      attributes: scenario.before,
    });
    if (personKey) {
      await t.dataSource.query(`UPDATE identity_links SET person_key = $2 WHERE id = $1`, [link.id, personKey]);
    }
    const previous = scenario.previousSession ? await signIn(t, account, link) : undefined;
    const transactionId = randomUUID();
    // The browser's note held a handle from an earlier login there: its token goes with the new one kept.
    const previousHint = randomUUID();
    await t.dataSource.query(
      `INSERT INTO sign_out_hints (handle_hash, provider, id_token, expires_at)
       VALUES (sha256(convert_to($1, 'UTF8')), $2, 'earlier.id.token', now() + interval '1 hour')`,
      [previousHint, scenario.provider],
    );
    const verified: VerifiedLogin = {
      identity: {
        provider: scenario.provider,
        issuer: ISSUER,
        subject,
        personKey,
        attributes: scenario.after,
        rawClaims: { sub: subject, ...scenario.after },
        displayName: 'Parity',
      },
      policy: 'provision',
      authContext: { method: 'web', provider: scenario.provider },
      transaction: {
        id: transactionId,
        provider: scenario.provider,
        purpose: 'login',
        nonce: null,
        pkceVerifier: null,
        returnTo: '/account',
        accountId: null,
        providerData: {},
        createdAt: new Date(Date.now() - 5000),
        expiresAt: new Date(Date.now() + 600_000),
        startedAtLocal: performance.now() - 5000,
        consumedOnCompletion: false,
      },
      warnings: [],
      authTime: scenario.authTime,
      ...(scenario.sermi
        ? {
            sermiLogin: {
              method: 'web' as const,
              actorType: 'IOE' as const,
              sub: subject,
              cabuid: 'EXA/NL/1234/1EXA2MP34LE5',
              iouid: 'EXAMPLEIO/STREET1/NL123456789B01',
              ioeuid: 'NL/EXAMPLECAB/1234567890B',
              rssuid: null,
              rsseuid: null,
            },
          }
        : {}),
      ...(scenario.sessionEndsBy ? { sessionEndsBy: scenario.sessionEndsBy } : {}),
    };
    const meta: RequestMeta = {
      clientIp: '192.0.2.7',
      userAgent: 'parity/1.0',
      requestId: `parity-${path}-${transactionId}`,
      previousSessionToken: previous?.token,
      browserBindingHash: null,
      // Only a provider with a sign-out page hands over its ID token (ProviderLogout.signOutHint).
      signOutHint: scenario.idTokenHint
        ? { handle: randomUUID(), replaces: previousHint, idToken: scenario.idTokenHint }
        : null,
    };
    const outcome =
      path === 'fast'
        ? await paths.completeReturningIdentity(verified, meta)
        : await paths.completeInTransaction(verified, meta);
    if (outcome?.kind !== 'session') throw new Error(`the ${path} path did not sign in: ${JSON.stringify(outcome)}`);
    return {
      outcome,
      accountId: account.id,
      linkId: link.id,
      previousSessionId: previous?.sessionId,
      meta,
      personKey,
      previousHint,
    };
  }

  /** What a login left behind, with its own ids and the clock taken out. */
  async function footprint(result: Awaited<ReturnType<typeof login>>, scenario: Scenario) {
    const ids = new Map<string, string>([
      [result.accountId, '<account>'],
      [result.linkId, '<link>'],
      [result.outcome.sessionId, '<session>'],
      ...(result.previousSessionId ? [[result.previousSessionId, '<previous session>'] as [string, string]] : []),
      ...(result.personKey ? [[result.personKey, '<person key>'] as [string, string]] : []),
    ]);
    const scrub = (value: unknown): unknown =>
      JSON.parse(JSON.stringify(value), (_key, item: unknown) =>
        typeof item === 'string' && ids.has(item) ? ids.get(item) : item,
      );
    const [session] = await t.dataSource.query(
      `SELECT provider, identity_link_id, authenticated_at, auth_context, client_ip::text, user_agent,
              revoked_at IS NOT NULL AS revoked,
              CASE WHEN absolute_expires_at = $3::timestamptz THEN 'capped'
                   ELSE extract(epoch FROM absolute_expires_at - created_at)::text END AS lifetime,
              CASE WHEN idle_expires_at = absolute_expires_at THEN 'to the end'
                   ELSE extract(epoch FROM idle_expires_at - created_at)::text END AS idle,
              date_trunc('milliseconds', absolute_expires_at) = $2::timestamptz AS ends_as_answered
         FROM sessions WHERE id = $1`,
      [result.outcome.sessionId, result.outcome.absoluteExpiresAt, scenario.sessionEndsBy ?? null],
    );
    const [link] = await t.dataSource.query(
      `SELECT attributes, person_key, last_login_at > now() - interval '1 minute' AS just_used FROM identity_links WHERE id = $1`,
      [result.linkId],
    );
    const previous = result.previousSessionId
      ? (await t.dataSource.query(`SELECT revoke_reason FROM sessions WHERE id = $1`, [result.previousSessionId]))[0]
      : null;
    const events = await t.dataSource.query(
      `SELECT type, actor_type, actor_account_id, subject_account_id, details FROM audit_events
        WHERE request_id = $1 ORDER BY seq`,
      [result.meta.requestId],
    );
    const sermi = await t.dataSource.query(
      `SELECT kind, login_method, account_id, session_id, actor_type, sub, cabuid, iouid, ioeuid, rssuid, rsseuid,
              decision, reason, client_ip::text, user_agent
         FROM sermi_access_log WHERE request_id = $1`,
      [result.meta.requestId],
    );
    // The ID token kept for the browser's next sign-out, for as long as a session can live.
    const hints = await t.dataSource.query(
      `SELECT provider, id_token, abs(extract(epoch FROM expires_at - now()) - $2) < 60 AS lives_as_long_as_a_session
         FROM sign_out_hints WHERE handle_hash = sha256(convert_to($1, 'UTF8'))`,
      [result.meta.signOutHint?.handle ?? null, t.config.session.absoluteTimeoutSeconds],
    );
    const [{ replaced }] = await t.dataSource.query(
      `SELECT count(*)::int AS replaced FROM sign_out_hints WHERE handle_hash = sha256(convert_to($1, 'UTF8'))`,
      [result.previousHint],
    );
    const [{ accounts }] = await t.dataSource.query(
      `SELECT count(*)::int AS accounts FROM identity_links WHERE issuer = $1 AND subject = (SELECT subject FROM identity_links WHERE id = $2)`,
      [ISSUER, result.linkId],
    );
    return scrub({
      // Without the clock: an uncapped session's lifetimes count from its own creation (one now()), a capped one
      // ends at the scenario's instant.
      session,
      link,
      previous,
      events: events.map((event: { details: Record<string, unknown> }) => ({
        ...event,
        details: { ...event.details, loginTransactionId: '<transaction>' },
      })),
      sermi: sermi.map((row: { sub: string }) => ({ ...row, sub: '<subject>' })),
      hints,
      replacedHintsLeft: replaced,
      accountsOfTheIdentity: accounts,
    });
  }

  const in15Minutes = () => new Date(Math.floor(Date.now() / 1000) * 1000 + 15 * 60_000);
  const scenarios: Scenario[] = [
    {
      name: 'the same attributes, the provider says when the person signed in',
      provider: 'signicat-idin',
      before: { bin: 'BIN-1', name: 'A. de Vries' },
      after: { bin: 'BIN-1', name: 'A. de Vries' },
      authTime: new Date(Math.floor(Date.now() / 1000) * 1000 - 120_000),
    },
    {
      name: 'changed attributes, no auth_time, an ID token kept for logout, a live session replaced',
      provider: 'signicat-idin',
      before: { bin: 'BIN-2', name: 'B. Bakker', initials: 'B.' },
      after: { bin: 'BIN-2', name: 'B. Bakker-Jansen', lastName: 'Bakker-Jansen' },
      authTime: null,
      idTokenHint: 'eyJhbGciOiJSUzI1NiJ9.e30.c2ln',
      previousSession: true,
    },
    {
      name: 'a SERMI login with a person key, capped as a chain authorisation is',
      provider: 'digidentity',
      before: { actorType: 'IOE', iouid: 'EXAMPLEIO/STREET1/NL123456789B01' },
      after: { actorType: 'IOE', iouid: 'EXAMPLEIO/STREET2/NL123456789B01' },
      personKey: '1234567890B',
      authTime: new Date(Math.floor(Date.now() / 1000) * 1000 - 30_000),
      sermi: true,
      sessionEndsBy: in15Minutes(),
    },
  ];

  it.each(scenarios.map((scenario) => [scenario.name, scenario] as const))('%s', async (_, scenario) => {
    const fast = await footprint(await login('fast', scenario), scenario);
    const general = await footprint(await login('general', scenario), scenario);
    expect(fast).toEqual(general);
    const { session } = general as { session: { lifetime: string; ends_as_answered: boolean } };
    expect([session.lifetime === 'capped', session.ends_as_answered]).toEqual([Boolean(scenario.sessionEndsBy), true]);
    // And the footprint is what a returning login should leave: still one account, the login audited.
    expect(general).toMatchObject({
      hints: scenario.idTokenHint
        ? [{ provider: scenario.provider, id_token: scenario.idTokenHint, lives_as_long_as_a_session: true }]
        : [],
      replacedHintsLeft: scenario.idTokenHint ? 0 : 1,
      accountsOfTheIdentity: 1,
      events: expect.arrayContaining([expect.objectContaining({ type: 'auth.login_succeeded' })]),
    });
  });
});
