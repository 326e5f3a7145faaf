import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service.js';
import { AppException } from '../common/problem/app-exception.js';
import { IdentityLinksService } from '../identity-links/identity-links.service.js';
import { preparedRows, jsonb } from '../database/sql.js';
import type { AppConfig } from '../app/app.config.js';
import { InjectAppConfig } from '../config/config.module.js';
import { RETURNING_LOGIN_FRESH_BROWSER_SQL, RETURNING_LOGIN_SQL } from './returning-login.sql.js';
import { SermiAccessLogRepository } from '../sermi/access-log/sermi-access-log.repository.js';
import { FailureAuditThrottle } from './failure-audit-throttle.js';
import type { IdentityProvider } from '../common/identity-providers.js';
import { LoginFailure, unexpectedLoginFailure } from '../common/problem/login-failure.js';
import { PendingIdentitiesRepository } from '../pending-identities/pending-identities.repository.js';
import {
  hashOrNull,
  hashSignOutHandle,
  SignOutHintsRepository,
} from '../login-transactions/sign-out-hints.repository.js';
import { SessionsService } from '../sessions/sessions.service.js';
import { hashSessionToken, looksLikeSessionToken, newSessionToken } from '../access/session-token.js';
import { UserMappingService } from '../user-mapping/user-mapping.service.js';
import { subjectFits } from '../identity-links/identity-subject.js';
import { FRESH_SIGN_IN } from './login-starters.js';
import { NEW_SIGN_IN } from '../sessions/recent-authentication.js';
import { Metrics } from '../operations/metrics.js';
import type { RequestMeta, VerifiedLogin } from './verified-login.js';
import { LoginTransactionsService, refuseUnlessConsumed } from '../login-transactions/login-transactions.service.js';
import type { OrNull } from '../database/sql.js';

export type LoginOutcome =
  | { kind: 'session'; accountId: string; sessionId: string; token: string; absoluteExpiresAt: Date; returnTo: string }
  | { kind: 'pending'; pendingIdentityId: string }
  /** A link intent: the identity now belongs to the signed-in account; the session stays as it was. */
  | {
      kind: 'linked';
      accountId: string;
      linkId: string;
      replaced: boolean;
      /** The browser's session was authenticated through the replaced subject and has ended. */
      signedOut: boolean;
      returnTo: string;
      /** With signedOut: where the browser goes next (BrowserSignOut.signOutTo, in BrowserLogins.complete). */
      signedOutTo?: string;
    };

/** The `outcome` label of rmi_logins_total for a login that went through (refusals are labelled with their code). */
const OUTCOME_METRIC: Record<LoginOutcome['kind'], string> = { session: 'success', linked: 'linked', pending: 'held' };

/**
 * Link and re-authentication logins, and every login whose start demanded a new sign-in (the SERMI Trust Centre's,
 * one that attaches a pending identity), must be a fresh authentication: `auth_time` no earlier than the start of
 * this login. The request asked for it (`max_age=0`), and a provider must then report `auth_time` (OIDC Core
 * 3.1.2.1).
 */
function assertFreshAuthentication(login: VerifiedLogin): void {
  if (signedInDuringLogin(login)) return;
  throw new LoginFailure('authentication_not_fresh', 'the provider reused an earlier sign-in instead of a new one', {
    authTime: login.authTime?.toISOString() ?? null,
    loginStartedAt: login.transaction.createdAt.toISOString(),
  });
}

/**
 * Whether the person signed in at the provider during this login: as the provider flow measured it
 * (VerifiedLogin.newSignIn), or where the protocol stands the login's start in for `auth_time`, that.
 */
function signedInDuringLogin(login: VerifiedLogin): boolean {
  if (login.newSignIn !== undefined) return login.newSignIn;
  return login.authTime !== null && login.authTime.getTime() >= login.transaction.createdAt.getTime();
}

/** The login with NEW_SIGN_IN on its auth context, which the session keeps: only such a session can be recent. */
function withSignInNoted(login: VerifiedLogin): VerifiedLogin {
  return { ...login, authContext: { ...login.authContext, [NEW_SIGN_IN]: signedInDuringLogin(login) } };
}

/**
 * The last step of every provider's login: map the identity to an account, replace the browser's session with a
 * new one, and audit it — one transaction, so a failure leaves no account, link or session behind.
 */
@Injectable()
export class LoginCompletionService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly mapping: UserMappingService,
    private readonly sessions: SessionsService,
    private readonly audit: AuditService,
    private readonly links: IdentityLinksService,
    private readonly pending: PendingIdentitiesRepository,
    private readonly accessLog: SermiAccessLogRepository,
    private readonly signOutHints: SignOutHintsRepository,
    private readonly transactions: LoginTransactionsService,
    @InjectAppConfig() private readonly config: AppConfig,
    /** Also what the providers' HTTP clients report their calls to. */
    readonly metrics: Metrics,
  ) {
    this.failureThrottle = new FailureAuditThrottle(config.login.failureAuditLimitPerMinute);
  }

  private readonly failureThrottle: FailureAuditThrottle;

  async complete(login: VerifiedLogin, meta: RequestMeta): Promise<LoginOutcome> {
    const outcome = await this.completeOrAudit(login, meta);
    this.transactions.settled(login.transaction);
    this.metrics.loginFinished(login.identity.provider, OUTCOME_METRIC[outcome.kind], meta.receivedAt);
    return outcome;
  }

  private async completeOrAudit(verified: VerifiedLogin, meta: RequestMeta): Promise<LoginOutcome> {
    const login = withSignInNoted(verified);
    const { transaction } = login;
    const { purpose } = transaction;
    // Whether the returning-login statement consumed the login already, so that a failure after it need not.
    let consumedByStatement = false;
    try {
      if (!subjectFits(login.identity.subject)) {
        throw new LoginFailure('userinfo_invalid', 'the provider sent a subject that is empty or too long', {
          reason: 'subject_length',
          length: [...login.identity.subject].length,
        });
      }
      // Link and re-authentication logins through a provider whose start notes nothing (eHerkenning) are checked too.
      if (purpose !== 'login' || login.transaction.providerData[FRESH_SIGN_IN] === true) {
        assertFreshAuthentication(login);
      }
      if (purpose === 'link') return await this.completeLink(login, meta);
      // A re-authentication must prove the same account again: only the general path checks that.
      if (purpose === 'reauthenticate') return await this.completeInTransaction(login, meta);
      const returning = await this.completeReturningIdentity(login, meta);
      if (returning) return returning;
      // The returning-login statement consumed the login if it was this process's to consume.
      consumedByStatement = true;
      return await this.completeInTransaction(
        { ...login, transaction: { ...transaction, consumedOnCompletion: false } },
        meta,
      );
    } catch (error) {
      if (consumedByStatement) this.transactions.settled(transaction);
      else await this.transactions.consumeAfterFailure(transaction);
      const failure =
        error instanceof LoginFailure
          ? error
          : error instanceof AppException
            ? new LoginFailure(error.code, error.detail ?? error.code)
            : unexpectedLoginFailure(error);
      // Best effort: when the database itself is the problem, the audit write fails too; the error still surfaces.
      await this.links.auditRefusal(error).catch(() => undefined);
      await this.recordFailure(login.identity.provider, failure, meta, {
        loginTransactionId: login.transaction.id,
        ...(purpose === 'login' ? {} : { purpose, accountId: login.transaction.accountId }),
      }).catch(() => undefined);
      throw error;
    }
  }

  /**
   * A link intent's callback: the verified identity joins the account that started the link, which this browser
   * must still be signed in to. With `replaceExisting` (the person's own re-bind, e.g. after re-creating their
   * itsme account) it replaces the account's link for that provider. One transaction; the session stays.
   */
  private completeLink(login: VerifiedLogin, meta: RequestMeta): Promise<LoginOutcome> {
    const { identity, transaction } = login;
    const accountId = transaction.accountId!;
    return this.dataSource.transaction(async (manager) => {
      await this.transactions.consumeForCompletion(manager, transaction);
      const session = await this.sessions.liveSession(meta.previousSessionToken, manager);
      if (session?.accountId !== accountId) {
        throw new LoginFailure(
          'link_account_mismatch',
          'this browser is no longer signed in to the account that started the link',
          {
            accountId,
          },
        );
      }
      const replace = transaction.providerData.replaceExisting === true;
      const expected = transaction.providerData.pendingIdentityId;
      const origin = { actor: { type: 'account', accountId }, requestId: meta.requestId } as const;
      const details = {
        via: typeof expected === 'string' ? 'pending_attach' : 'link_login',
        loginTransactionId: transaction.id,
        ...(typeof expected === 'string' ? { pendingIdentityId: expected } : {}),
      };
      if (typeof expected === 'string') {
        // A new sign-in (checked above) as that identity, later than the held one: lockConfirmedBy.
        const proven = await this.pending.lockConfirmedBy(manager, expected, identity, login.authTime);
        if (!proven) {
          throw new LoginFailure('link_identity_mismatch', 'the provider login was not the identity to attach', {
            accountId,
            pendingIdentityId: expected,
          });
        }
      }
      // Pending rows before the account: the same lock order as re-binding, so the two cannot deadlock.
      await this.pending.resolveIdentity(manager, identity, replace ? 'rebound' : 'attached', accountId);
      const change = replace
        ? await this.links.rebind(accountId, identity, origin, { ...details, reason: 'self-service re-bind' }, manager)
        : await this.links.add(accountId, identity, origin, details, manager);
      // A Trust Centre sign-in is a SERMI login even when it only adds a login method: one access log record each
      // (docs/sermi.md#what-is-logged).
      if (login.sermiLogin)
        await this.accessLog.insertLogin(manager, { id: session.id, accountId }, login.sermiLogin, meta);
      await this.keepSignOutHint(manager, login, meta);
      return {
        kind: 'linked',
        accountId,
        linkId: change.linkId,
        replaced: change.previous !== null,
        signedOut: change.revokedSessionIds.includes(session.id),
        returnTo: transaction.returnTo,
      } as const;
    });
  }

  /** The general path: mapping (any policy, any case), session and audit events in one transaction. */
  private completeInTransaction(login: VerifiedLogin, meta: RequestMeta): Promise<LoginOutcome> {
    const { identity, transaction } = login;
    return this.dataSource.transaction(async (manager) => {
      await this.transactions.consumeForCompletion(manager, transaction);
      const mapped = await this.mapping.map(
        identity,
        {
          policy: login.policy,
          browserBindingHash: meta.browserBindingHash,
          requestId: meta.requestId,
          authenticatedAt: login.authTime,
          // Kept for admin review as long as a re-bind may use it; self-service is shorter (checked when used).
          pendingTtlSeconds: Math.max(
            this.config.linking.pendingSelfServiceSeconds,
            this.config.linking.rebindPendingMaxAgeSeconds,
          ),
        },
        manager,
      );
      if (
        transaction.purpose === 'reauthenticate' &&
        (mapped.kind !== 'account' || mapped.accountId !== transaction.accountId)
      ) {
        throw new LoginFailure(
          'reauthentication_account_mismatch',
          'the re-authentication signed in as another identity',
          {
            accountId: transaction.accountId,
          },
        );
      }
      if (mapped.kind === 'pending') {
        // The session this browser was signed in with when this login started: only it may attach the identity
        // without proving it again. A session begun while the login was out at the provider (the next person at a
        // shared PC) is not the one that started it; and an answer from the provider's single sign-on session is not
        // the signed-in person's doing (the previous person's, at a shared PC): that identity must be proven again.
        const heldFor =
          login.authContext[NEW_SIGN_IN] === true
            ? await this.sessions.liveSession(meta.previousSessionToken, manager, transaction.createdAt)
            : null;
        await this.pending.holdFor(manager, mapped.pendingIdentityId, heldFor?.id ?? null);
        await this.keepSignOutHint(manager, login, meta);
        await this.audit.record(
          {
            type: 'auth.login_held',
            actor: { type: 'anonymous' },
            requestId: meta.requestId,
            subjectAccountId: mapped.suspectedAccountId,
            details: {
              provider: identity.provider,
              reason: mapped.reason,
              pendingIdentityId: mapped.pendingIdentityId,
              loginTransactionId: transaction.id,
            },
          },
          manager,
        );
        return { kind: 'pending', pendingIdentityId: mapped.pendingIdentityId } as const;
      }
      const replacedSessionId = await this.sessions.replaceByLogin(meta.previousSessionToken, manager);
      await this.keepSignOutHint(manager, login, meta);
      const session = await this.sessions.create(
        {
          accountId: mapped.accountId,
          provider: identity.provider,
          identityLinkId: mapped.linkId,
          // The provider's auth_time (null: not said): a single sign-on answer is not a fresh sign-in.
          authenticatedAt: login.authTime,
          authContext: login.authContext,
          clientIp: meta.clientIp,
          userAgent: meta.userAgent,
          endsBy: login.sessionEndsBy,
        },
        manager,
      );
      if (login.sermiLogin) {
        await this.accessLog.insertLogin(
          manager,
          { id: session.sessionId, accountId: mapped.accountId },
          login.sermiLogin,
          meta,
        );
      }
      await this.audit.record(
        {
          type: 'auth.login_succeeded',
          actor: { type: 'account', accountId: mapped.accountId },
          requestId: meta.requestId,
          subjectAccountId: mapped.accountId,
          details: {
            provider: identity.provider,
            sessionId: session.sessionId,
            linkId: mapped.linkId,
            provisioned: mapped.provisioned,
            loginTransactionId: transaction.id,
            authContext: login.authContext,
            ...(login.warnings.length > 0 ? { warnings: login.warnings } : {}),
            ...(replacedSessionId ? { replacedSessionId } : {}),
          },
        },
        manager,
      );
      return {
        kind: 'session',
        accountId: mapped.accountId,
        sessionId: session.sessionId,
        token: session.token,
        absoluteExpiresAt: session.absoluteExpiresAt,
        returnTo: transaction.returnTo,
      } as const;
    });
  }

  /** The fast path (see RETURNING_LOGIN_SQL); undefined when the identity is not a known one of an active account. */
  private async completeReturningIdentity(login: VerifiedLogin, meta: RequestMeta): Promise<LoginOutcome | undefined> {
    const { identity, transaction } = login;
    const token = newSessionToken();
    const previous = looksLikeSessionToken(meta.previousSessionToken)
      ? hashSessionToken(meta.previousSessionToken)
      : null;
    const [row] = await preparedRows<
      OrNull<{ id: string; account_id: string; absolute_expires_at: Date }> & { consumed: boolean; expired: boolean }
    >(
      this.dataSource.manager,
      previous ? 'rmi_returning_login' : 'rmi_returning_login_fresh_browser',
      previous ? RETURNING_LOGIN_SQL : RETURNING_LOGIN_FRESH_BROWSER_SQL,
      [
        identity.provider,
        identity.issuer,
        identity.subject,
        jsonb(identity.attributes),
        identity.personKey,
        previous,
        hashSessionToken(token),
        jsonb(login.authContext),
        this.config.session.idleTimeoutSeconds,
        this.config.session.absoluteTimeoutSeconds,
        meta.clientIp,
        meta.userAgent,
        meta.requestId,
        jsonb({
          provider: identity.provider,
          loginTransactionId: transaction.id,
          authContext: login.authContext,
          ...(login.warnings.length > 0 ? { warnings: login.warnings } : {}),
        }),
        login.sermiLogin ? jsonb(login.sermiLogin) : null,
        login.authTime,
        meta.signOutHint?.idToken ?? null,
        login.sessionEndsBy ?? null,
        meta.signOutHint ? hashSignOutHandle(meta.signOutHint.handle) : null,
        meta.signOutHint ? hashOrNull(meta.signOutHint.replaces) : null,
        transaction.consumedOnCompletion ? transaction.id : null,
      ],
    );
    if (transaction.consumedOnCompletion) refuseUnlessConsumed(transaction.id, row.consumed ? row : undefined);
    if (row.id === null || row.account_id === null || row.absolute_expires_at === null) return undefined;
    return {
      kind: 'session',
      accountId: row.account_id,
      sessionId: row.id,
      token,
      absoluteExpiresAt: row.absolute_expires_at,
      returnTo: transaction.returnTo,
    };
  }

  /** The login's ID token, for the browser's next sign-out at its provider (see RequestMeta.signOutHint). */
  private async keepSignOutHint(manager: EntityManager, login: VerifiedLogin, meta: RequestMeta): Promise<void> {
    if (!meta.signOutHint) return;
    const seconds = this.config.session.absoluteTimeoutSeconds;
    await this.signOutHints.keep(manager, meta.signOutHint, login.identity.provider, seconds);
  }

  /**
   * Every refused login leaves a security event: code, step, and what the provider said — never codes or tokens.
   * A client that keeps failing is throttled (FailureAuditThrottle) so it cannot flood the audit chain.
   */
  async recordFailure(
    provider: IdentityProvider,
    failure: LoginFailure,
    meta: Pick<RequestMeta, 'clientIp' | 'userAgent' | 'requestId' | 'receivedAt'>,
    extra: Record<string, unknown> = {},
  ): Promise<void> {
    this.metrics.loginFinished(provider, failure.code, meta.receivedAt);
    const decision = this.failureThrottle.next(meta.clientIp);
    if (decision === 'skip') return;
    if (decision === 'throttle-start') {
      await this.audit.record({
        type: 'auth.login_failures_throttled',
        actor: { type: 'anonymous' },
        requestId: meta.requestId,
        details: { provider, clientIp: meta.clientIp, limitPerMinute: this.config.login.failureAuditLimitPerMinute },
      });
      return;
    }
    await this.audit.record({
      type: 'auth.login_failed',
      actor: { type: 'anonymous' },
      requestId: meta.requestId,
      subjectAccountId: typeof failure.auditDetails.accountId === 'string' ? failure.auditDetails.accountId : null,
      details: {
        provider,
        code: failure.code,
        reason: failure.detail,
        ...failure.auditDetails,
        ...extra,
        clientIp: meta.clientIp,
        userAgent: meta.userAgent,
      },
    });
  }
}
