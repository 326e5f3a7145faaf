import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service.js';
import { preparedRows, sqlRows } from '../database/sql.js';
import { currentRequestId } from '../common/request-context/request-context.js';
import type { AppConfig } from '../config/app.config.js';
import { InjectAppConfig } from '../config/config.module.js';
import { RETURNING_LOGIN_SQL } from './returning-login.sql.js';
import type { IdentityProvider } from '../identity-links/providers.js';
import { LoginFailure } from '../oidc/login-failure.js';
import { SessionsService } from '../sessions/sessions.service.js';
import { hashSessionToken, looksLikeSessionToken, newSessionToken } from '../sessions/session-token.js';
import { UserMappingService } from '../user-mapping/user-mapping.service.js';
import type { RequestMeta, VerifiedLogin } from './verified-login.js';

export type LoginOutcome =
  | { kind: 'session'; accountId: string; sessionId: string; token: string; absoluteExpiresAt: Date; returnTo: string }
  | { kind: 'pending'; pendingIdentityId: string };

const PENDING_IDENTITY_TTL_SECONDS = 30 * 60;

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
    @InjectAppConfig() private readonly config: AppConfig,
  ) {}

  async complete(login: VerifiedLogin, meta: RequestMeta): Promise<LoginOutcome> {
    const { identity, transaction } = login;
    const returning = await this.completeReturningIdentity(login, meta);
    if (returning) return returning;
    try {
      return await this.dataSource.transaction(async (manager) => {
        const mapped = await this.mapping.map(
          identity,
          {
            policy: login.policy,
            browserBindingHash: meta.browserBindingHash,
            pendingTtlSeconds: PENDING_IDENTITY_TTL_SECONDS,
          },
          manager,
        );
        if (mapped.kind === 'pending') {
          await this.audit.record(
            {
              type: 'auth.login_held',
              actor: { type: 'anonymous' },
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
        const replaced = looksLikeSessionToken(meta.previousSessionToken)
          ? await sqlRows<{ id: string }>(
              manager,
              `UPDATE sessions SET revoked_at = now(), revoke_reason = 'replaced_by_login'
                WHERE token_hash = $1 AND revoked_at IS NULL RETURNING id`,
              [hashSessionToken(meta.previousSessionToken)],
            )
          : [];
        const session = await this.sessions.create(
          {
            accountId: mapped.accountId,
            provider: identity.provider,
            identityLinkId: mapped.linkId,
            authenticatedAt: new Date(),
            authContext: login.authContext,
            clientIp: meta.clientIp,
            userAgent: meta.userAgent,
          },
          manager,
        );
        await this.audit.record(
          {
            type: 'auth.login_succeeded',
            actor: { type: 'account', accountId: mapped.accountId },
            subjectAccountId: mapped.accountId,
            details: {
              provider: identity.provider,
              sessionId: session.sessionId,
              linkId: mapped.linkId,
              provisioned: mapped.provisioned,
              loginTransactionId: transaction.id,
              authContext: login.authContext,
              ...(login.warnings.length > 0 ? { warnings: login.warnings } : {}),
              ...(replaced.length > 0 ? { replacedSessionId: replaced[0].id } : {}),
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
    } catch (error) {
      if (error instanceof LoginFailure)
        await this.recordFailure(identity.provider, error, meta, { loginTransactionId: transaction.id });
      throw error;
    }
  }

  /** The fast path (see RETURNING_LOGIN_SQL); undefined when the identity is not a known one of an active account. */
  private async completeReturningIdentity(login: VerifiedLogin, meta: RequestMeta): Promise<LoginOutcome | undefined> {
    const { identity, transaction } = login;
    const token = newSessionToken();
    const previous = looksLikeSessionToken(meta.previousSessionToken)
      ? hashSessionToken(meta.previousSessionToken)
      : null;
    const [row] = await preparedRows<{ id: string; account_id: string; absolute_expires_at: Date }>(
      this.dataSource.manager,
      'rmi_returning_login',
      RETURNING_LOGIN_SQL,
      [
        identity.provider,
        identity.issuer,
        identity.subject,
        JSON.stringify(identity.attributes),
        identity.personKey,
        previous,
        hashSessionToken(token),
        JSON.stringify(login.authContext),
        this.config.session.idleTimeoutSeconds,
        this.config.session.absoluteTimeoutSeconds,
        meta.clientIp,
        meta.userAgent,
        currentRequestId() ?? null,
        JSON.stringify({
          provider: identity.provider,
          loginTransactionId: transaction.id,
          authContext: login.authContext,
          ...(login.warnings.length > 0 ? { warnings: login.warnings } : {}),
        }),
      ],
    );
    if (!row) return undefined;
    return {
      kind: 'session',
      accountId: row.account_id,
      sessionId: row.id,
      token,
      absoluteExpiresAt: row.absolute_expires_at,
      returnTo: transaction.returnTo,
    };
  }

  /** Every refused login leaves a security event: code, step, and what the provider said — never tokens. */
  async recordFailure(
    provider: IdentityProvider,
    failure: LoginFailure,
    meta: Pick<RequestMeta, 'clientIp' | 'userAgent'>,
    extra: Record<string, unknown> = {},
  ): Promise<void> {
    await this.audit.record({
      type: 'auth.login_failed',
      actor: { type: 'anonymous' },
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
