import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import type { ClientMeta, LoginIntent } from '../auth/login-starters.js';
import { LoginStarters } from '../auth/login-starters.js';
import { AuditService } from '../audit/audit.service.js';
import { AppException } from '../common/problem/app-exception.js';
import type { AppConfig } from '../app/app.config.js';
import { InjectAppConfig } from '../config/config.module.js';
import { AccountsRepository } from '../accounts/accounts.repository.js';
import {
  type PendingIdentityRow,
  PendingIdentitiesRepository,
} from '../pending-identities/pending-identities.repository.js';
import { IdentityLinksService, type LinkChange, LinkRefused } from '../identity-links/identity-links.service.js';
import type { IdentityProvider } from '../common/identity-providers.js';
import { maskSubject } from '../accounts/account.mapper.js';
import type { SessionPrincipal } from '../access/authenticated-request.js';
import { type IssuedSession, SessionsService } from '../sessions/sessions.service.js';
import type {
  AttachOutcomeDto as AttachOutcome,
  LinkListDto,
  PendingIdentityDto,
  StartedLinkDto,
  StartLinkDto,
} from './dto/links.dto.js';
import { hashBinding } from '../login-transactions/browser-binding.js';
import { assertRecentAuthentication, recentSince } from '../sessions/recent-authentication.js';
import { pendingReference } from '../auth/login-outcome-pages.js';

/**
 * Self-service linking for the signed-in person: list, add (through a fresh provider login in this browser) and
 * remove login methods, and attach — or turn into a new account — an identity this browser just signed in with
 * that no account knew yet. See docs/linking.md#self-service-flows.
 */
@Injectable()
export class LinkingService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly starters: LoginStarters,
    private readonly links: IdentityLinksService,
    private readonly accounts: AccountsRepository,
    private readonly pending: PendingIdentitiesRepository,
    private readonly sessions: SessionsService,
    private readonly audit: AuditService,
    @InjectAppConfig() private readonly config: AppConfig,
  ) {}

  list(principal: SessionPrincipal): LinkListDto {
    const linked = new Set(principal.links.map((link) => link.provider));
    const recent = recentSince(principal);
    return {
      items: principal.links.map((link) => ({
        ...link,
        subject: maskSubject(link.subject),
        usedByThisSession: link.id === principal.identityLinkId,
      })),
      linkableProviders: this.starters.enabled().filter((provider) => !linked.has(provider)),
      recentAuthenticationUntil: recent
        ? new Date(recent.getTime() + this.config.linking.recentAuthSeconds * 1000).toISOString()
        : null,
    };
  }

  /** Starts a provider login whose callback links the identity to this account (only in this browser). */
  async start(
    principal: SessionPrincipal,
    provider: IdentityProvider,
    request: StartLinkDto,
    binding: Pick<LoginIntent, 'browserBinding' | 'browserBindingIsNew'>,
    meta: ClientMeta,
    returnTo: string,
  ): Promise<StartedLinkDto> {
    this.assertRecent(principal, returnTo);
    const starter = this.starters.get(provider);
    if (!starter) throw new AppException('provider_not_enabled', `${provider} is not enabled on this portal`);
    const replaceExisting = request.replaceExisting === true;
    const mode = request.mode ?? 'redirect';
    const event = {
      actor: { type: 'account', accountId: principal.accountId },
      requestId: meta.requestId,
      subjectAccountId: principal.accountId,
    } as const;
    const existing = principal.links.find((link) => link.provider === provider);
    if (!replaceExisting && existing) {
      await this.audit.record({
        ...event,
        type: 'identity.link_refused',
        details: {
          via: 'link_start',
          provider,
          mode,
          sessionId: principal.sessionId,
          code: 'provider_already_linked',
          linkId: existing.id,
        },
      });
      throw new AppException(
        'provider_already_linked',
        `the account already signs in with ${provider}; send replaceExisting: true to replace that login`,
      );
    }
    const pollPath = starter.passwordlessPollPath;
    if (mode === 'passwordless' && (!starter.startPasswordless || !pollPath)) {
      throw new AppException('validation_failed', `${provider} has no passwordless login`, {
        errors: [{ field: 'mode', rule: 'isIn', message: `${provider} supports mode redirect only` }],
      });
    }
    const intent = {
      purpose: 'link',
      accountId: principal.accountId,
      returnTo,
      ...binding,
      replaceExisting,
    } as const;
    let answer: StartedLinkDto;
    if (mode === 'passwordless' && starter.startPasswordless && pollPath) {
      const started = await starter.startPasswordless(intent, meta);
      answer = { mode: 'passwordless', passwordless: { ...started, pollUrl: pollPath.replace(':id', started.id) } };
    } else {
      answer = { mode: 'redirect', redirectUrl: (await starter.startRedirect(intent, meta)).href };
    }
    // Only a link that really started (validated, and the provider answered) is on the record as started.
    await this.audit.record({
      ...event,
      type: 'identity.link_started',
      details: { provider, mode, replaceExisting, sessionId: principal.sessionId },
    });
    return answer;
  }

  /** Removes a login method of this account; sessions authenticated through it end (perhaps this one). */
  async remove(principal: SessionPrincipal, linkId: string, requestId: string | null): Promise<LinkChange> {
    this.assertRecent(principal, undefined);
    return this.inTransaction((manager) =>
      this.links.remove(
        principal.accountId,
        linkId,
        this.starters.enabled(),
        { actor: { type: 'account', accountId: principal.accountId }, requestId },
        { via: 'self_service', sessionId: principal.sessionId },
        manager,
      ),
    );
  }

  /** The identity this browser last signed in with that no account knew, while self-service may still use it. */
  async pendingForBrowser(browserBindingHash: Buffer | null): Promise<PendingIdentityDto> {
    const row = browserBindingHash
      ? await this.pending.newestForBrowser(
          this.dataSource.manager,
          browserBindingHash,
          this.config.linking.pendingSelfServiceSeconds,
        )
      : undefined;
    if (!row) throw new AppException('pending_identity_not_found', 'this browser has no identity waiting to be linked');
    return {
      id: row.id,
      provider: row.provider,
      reason: row.reason,
      reference: pendingReference(row.id),
      attributes: row.attributes,
      lastSeenAt: row.last_seen_at.toISOString(),
      selfServiceUntil: new Date(
        row.last_seen_at.getTime() + this.config.linking.pendingSelfServiceSeconds * 1000,
      ).toISOString(),
      canAttach: row.reason === 'unknown_identity' || row.suspected_account_id !== null,
      canCreateAccount: row.may_create_account,
    };
  }

  /**
   * Attaches this browser's pending identity to the signed-in account. Directly only when that cannot hand a
   * stranger's identity to this account: it was produced while this browser was signed in to this very account,
   * or it is a probable re-created identity of this account (same person key), which then replaces the old link —
   * the person's own re-bind. Otherwise (a shared workshop PC: whoever signs in next is not necessarily who left
   * the identity behind) the answer is a fresh login with that identity, which links it when it comes back.
   */
  async attachPending(
    principal: SessionPrincipal,
    pendingIdentityId: string,
    browserBinding: string | undefined,
    meta: ClientMeta,
    returnTo: string,
  ): Promise<AttachOutcome> {
    this.assertRecent(principal, returnTo);
    const bindingHash = browserBinding ? hashBinding(browserBinding) : null;
    const origin = { actor: { type: 'account', accountId: principal.accountId }, requestId: meta.requestId } as const;
    const hasProvider = (provider: string) => principal.links.some((link) => link.provider === provider);
    const outcome = await this.inTransaction(async (manager): Promise<AttachOutcome | PendingIdentityRow> => {
      const pending = await this.lockPendingForBrowser(pendingIdentityId, bindingHash, manager);
      const details = { via: 'pending_attach', pendingIdentityId, sessionId: principal.sessionId };
      const identity = identityOf(pending);
      let change: LinkChange;
      if (pending.reason === 'probable_recreated_identity') {
        if (pending.suspected_account_id !== principal.accountId) {
          // Someone else's probable re-created identity: a takeover signal, on the record (after the rollback).
          throw new LinkRefused(
            'identity_review_required',
            'this identity looks like a re-created identity of another account: an administrator must review it',
            {
              type: 'identity.link_refused',
              ...origin,
              subjectAccountId: principal.accountId,
              details: {
                ...details,
                provider: pending.provider,
                code: 'identity_review_required',
                suspectedAccountId: pending.suspected_account_id,
              },
            },
          );
        }
        change = await this.links.rebind(principal.accountId, identity, origin, details, manager);
      } else if (pending.held_for_session_id === principal.sessionId) {
        // Produced by this very session's browser while signed in; with a login of that provider already on the
        // account it replaces it (the person's own re-bind, e.g. a re-created itsme account).
        change = hasProvider(pending.provider)
          ? await this.links.rebind(principal.accountId, identity, origin, details, manager)
          : await this.links.add(principal.accountId, identity, origin, details, manager);
      } else {
        return pending;
      }
      await this.pending.resolve(manager, pending.id, change.previous ? 'rebound' : 'attached', principal.accountId);
      return {
        status: 'attached',
        linkId: change.linkId,
        replaced: change.previous !== null,
        signedOut: change.revokedSessionIds.includes(principal.sessionId),
      };
    });
    if ('status' in outcome) return outcome;
    const starter = this.starters.get(outcome.provider);
    if (!starter || !browserBinding) {
      throw new AppException('identity_reproof_required', `sign in with ${outcome.provider} again to attach it`);
    }
    const url = await starter.startRedirect(
      {
        purpose: 'link',
        accountId: principal.accountId,
        returnTo,
        browserBinding,
        pendingIdentityId: outcome.id,
        replaceExisting: hasProvider(outcome.provider),
      },
      meta,
    );
    return { status: 'confirm_with_provider', redirectUrl: url.href };
  }

  /** Policy `choose`: a new account from this browser's pending identity, signed in at once. */
  async createAccountFromPending(
    pendingIdentityId: string,
    browserBindingHash: Buffer | null,
    meta: ClientMeta & { previousSessionToken?: string },
  ): Promise<{ accountId: string; linkId: string; session: IssuedSession }> {
    return this.inTransaction(async (manager) => {
      const pending = await this.lockPendingForBrowser(pendingIdentityId, browserBindingHash, manager);
      if (!pending.may_create_account || pending.reason !== 'unknown_identity') {
        throw new AppException(
          'account_creation_not_allowed',
          'this identity can only be attached to an account that already exists',
        );
      }
      // The choice belongs right after the login that produced it, not to whoever uses this browser later (counted
      // on the database's clock, which stamped that login).
      if (pending.seen_seconds_ago > this.config.login.transactionTtlSeconds) {
        throw new AppException('pending_identity_expired', 'sign in with that identity again, then create the account');
      }
      const account = { id: await this.accounts.insert(manager, pending.display_name ?? pending.provider) };
      await this.sessions.replaceByLogin(meta.previousSessionToken, manager);
      const origin = { actor: { type: 'account', accountId: account.id }, requestId: meta.requestId } as const;
      const change = await this.links.add(
        account.id,
        identityOf(pending),
        origin,
        { via: 'pending_create_account', pendingIdentityId },
        manager,
      );
      await this.audit.record(
        {
          type: 'account.provisioned',
          ...origin,
          subjectAccountId: account.id,
          details: { provider: pending.provider, issuer: pending.issuer, linkId: change.linkId, pendingIdentityId },
        },
        manager,
      );
      await this.pending.resolve(manager, pending.id, 'provisioned', account.id);
      // As fresh as the provider said the login that held the identity was (its auth_time), never "now".
      const session = await this.sessions.create(
        {
          accountId: account.id,
          provider: pending.provider,
          identityLinkId: change.linkId,
          authenticatedAt: pending.authenticated_at,
          authContext: { method: 'pending_identity', provider: pending.provider },
          clientIp: meta.clientIp,
          userAgent: meta.userAgent,
        },
        manager,
      );
      await this.audit.record(
        {
          type: 'auth.login_succeeded',
          ...origin,
          subjectAccountId: account.id,
          details: {
            provider: pending.provider,
            sessionId: session.sessionId,
            linkId: change.linkId,
            provisioned: true,
          },
        },
        manager,
      );
      return { accountId: account.id, linkId: change.linkId, session };
    });
  }

  private assertRecent(principal: SessionPrincipal, returnTo: unknown): void {
    assertRecentAuthentication(
      principal,
      this.config.linking.recentAuthSeconds,
      this.config.http.publicBaseUrl,
      returnTo,
    );
  }

  /** One transaction; a refused link change is audited after its rollback. */
  private async inTransaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    try {
      return await this.dataSource.transaction(work);
    } catch (error) {
      await this.links.auditRefusal(error);
      throw error;
    }
  }

  /** The pending identity, locked; only for the browser that produced it, while self-service may use it. */
  private async lockPendingForBrowser(
    id: string,
    browserBindingHash: Buffer | null,
    manager: EntityManager,
  ): Promise<PendingIdentityRow & { seen_seconds_ago: number }> {
    const row = await this.pending.lockForBrowser(
      manager,
      id,
      browserBindingHash,
      this.config.linking.pendingSelfServiceSeconds,
    );
    if (!row) throw new AppException('pending_identity_not_found', 'no pending identity with this id in this browser');
    if (row.resolved_at) throw new AppException('pending_identity_resolved', `it was already ${row.resolution}`);
    if (!row.open) {
      throw new AppException('pending_identity_expired', 'sign in with that identity again, then attach it');
    }
    return row;
  }
}

export function identityOf(pending: PendingIdentityRow) {
  return {
    provider: pending.provider,
    issuer: pending.issuer,
    subject: pending.subject,
    personKey: pending.person_key,
    attributes: pending.attributes,
  };
}
