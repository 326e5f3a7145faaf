import { pendingReference, referencePrefix } from '../auth/login-outcome-pages.js';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import type { AuditOrigin } from '../audit/audit-event-types.js';
import { AuditService } from '../audit/audit.service.js';
import { AppException } from '../common/problem/app-exception.js';
import type { AppConfig } from '../app/app.config.js';
import { InjectAppConfig } from '../config/config.module.js';
import { isUniqueViolation } from '../database/postgres-errors.js';
import { AccountsRepository } from '../accounts/accounts.repository.js';
import {
  type PendingIdentityRow,
  PendingIdentitiesRepository,
} from '../pending-identities/pending-identities.repository.js';
import { IdentityLinksService, type LinkChange, LinkRefused } from '../identity-links/identity-links.service.js';
import type {
  AdminPendingIdentityDto,
  PendingIdentityQueryDto,
  RebindOutcomeDto,
  RebindRequestDto,
  RebindRequestQueryDto,
} from './dto/rebind.dto.js';
import { identityOf } from './linking.service.js';
import {
  type ClosedRebindRequest,
  type RebindRequestRow,
  RebindRequestsRepository,
} from './rebind-requests.repository.js';

const UNUSABLE_PENDING = new Set([
  'pending_identity_resolved',
  'pending_identity_expired',
  'pending_identity_not_found',
  'pending_identity_changed',
]);

/** What a reviewer decides on: who the identity is and what the hints say; compared again at approval. */
function reviewOf(pending: PendingIdentityRow): Record<string, unknown> {
  return {
    provider: pending.provider,
    issuer: pending.issuer,
    subject: pending.subject,
    personKey: pending.person_key,
    pendingReason: pending.reason,
    suspectedAccountId: pending.suspected_account_id,
  };
}

/**
 * The record of requests closed without a decision (status `expired`), in the closing transaction: `cause` is `ttl`
 * (nobody decided in time) or the code that made the request unusable; `noticedBy` what closed it.
 */
export async function recordClosedRequests(
  audit: AuditService,
  manager: EntityManager,
  closed: ClosedRebindRequest[],
  origin: AuditOrigin,
  cause: string,
  noticedBy: 'rebind' | 'approve' | 'reject' | 'housekeeping',
): Promise<void> {
  for (const request of closed) {
    await audit.record(
      {
        type: 'identity.rebind_expired',
        ...origin,
        subjectAccountId: request.account_id,
        details: {
          requestId: request.id,
          pendingIdentityId: request.pending_identity_id,
          requestedBy: request.requested_by,
          cause,
          noticedBy,
        },
      },
      manager,
    );
  }
}

/** The admin acting, and the HTTP request they act in: the audit events carry both. */
export interface AdminAction {
  adminId: string;
  requestId: string | null;
}

/**
 * Admin re-binding: an account's link for a provider is pointed at a verified identity that recently signed in and
 * was held as pending — typically the person's re-created itsme account with its new subject. Never a subject typed
 * in by hand. Optionally four-eyes: one admin requests, a different one approves before the request expires.
 */
@Injectable()
export class RebindService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly links: IdentityLinksService,
    private readonly accounts: AccountsRepository,
    private readonly pending: PendingIdentitiesRepository,
    private readonly requests: RebindRequestsRepository,
    private readonly audit: AuditService,
    @InjectAppConfig() private readonly config: AppConfig,
  ) {}

  /** Newest first; `status=open` (default) lists those still waiting, with review hints. */
  async listPending(
    query: PendingIdentityQueryDto,
  ): Promise<{ items: AdminPendingIdentityDto[]; nextCursor: string | null }> {
    const reference = query.reference ? referencePrefix(query.reference) : null;
    const page = await this.pending.listForReview(this.dataSource.manager, {
      status: query.status ?? 'open',
      provider: query.provider,
      reason: query.reason,
      idPrefix: reference,
      cursor: query.cursor,
      limit: query.limit ?? 50,
      rebindableSeconds: this.config.linking.rebindPendingMaxAgeSeconds,
    });
    return {
      items: page.items.map((row) => ({
        id: row.id,
        reference: pendingReference(row.id),
        provider: row.provider,
        issuer: row.issuer,
        subject: row.subject,
        personKey: row.person_key,
        attributes: row.attributes,
        reason: row.reason,
        flags: row.flags,
        suspectedAccount: row.suspected_account_id
          ? { id: row.suspected_account_id, displayName: row.suspected_display_name ?? '' }
          : null,
        createdAt: row.created_at.toISOString(),
        lastSeenAt: row.last_seen_at.toISOString(),
        rebindableUntil: new Date(
          row.last_seen_at.getTime() + this.config.linking.rebindPendingMaxAgeSeconds * 1000,
        ).toISOString(),
        rebindable: row.rebindable,
        openRebindRequestId: row.open_request_id,
        resolution: row.resolution,
        resolvedAt: row.resolved_at?.toISOString() ?? null,
        resolvedAccountId: row.resolved_account_id,
      })),
      nextCursor: page.nextCursor,
    };
  }

  /** Applies the re-bind at once, or — with four-eyes on — stores it for a different admin to approve. */
  async rebind(
    by: AdminAction,
    accountId: string,
    pendingIdentityId: string,
    reason: string,
  ): Promise<RebindOutcomeDto> {
    // Like status and roles, an admin's own logins are another admin's to change (UUIDs compared in one spelling).
    if (accountId.toLowerCase() === by.adminId.toLowerCase()) throw selfRebindRefused();
    if (!this.config.linking.fourEyes) {
      const change = await this.inTransaction((manager) =>
        this.apply(manager, by, accountId, pendingIdentityId, reason, {}),
      );
      return applied(change);
    }
    const request = await this.inTransaction(async (manager) => {
      const pending = await this.lockRebindablePending(manager, pendingIdentityId);
      await this.assertAccount(manager, accountId);
      // A request nobody approved in time no longer blocks a new one.
      const expired = await this.requests.expireOverdue(manager, pendingIdentityId);
      await recordClosedRequests(this.audit, manager, expired, bySystem(by), 'ttl', 'rebind');
      const row = await this.requests
        .insert(manager, {
          accountId,
          pendingIdentityId,
          requestedBy: by.adminId,
          reason,
          reviewed: reviewOf(pending),
          ttlSeconds: this.config.linking.approvalTtlSeconds,
        })
        .catch((error: unknown) => {
          if (isUniqueViolation(error)) {
            throw new AppException('rebind_already_requested', 'approve or reject the open request first');
          }
          throw error;
        });
      await this.audit.record(
        {
          type: 'identity.rebind_requested',
          actor: { type: 'account', accountId: by.adminId },
          requestId: by.requestId,
          subjectAccountId: accountId,
          // What the requester reviewed; a later login of the identity may refresh the hints before approval.
          details: {
            requestId: row.id,
            pendingIdentityId,
            reason,
            expiresAt: row.expires_at.toISOString(),
            reviewed: reviewOf(pending),
          },
        },
        manager,
      );
      return row;
    });
    return { status: 'requested', requestId: request.id, expiresAt: request.expires_at.toISOString() };
  }

  /** A different admin approves: the re-bind is applied in the same transaction as the decision. */
  async approve(by: AdminAction, requestId: string, comment: string | undefined): Promise<RebindOutcomeDto> {
    const result = await this.inTransaction(async (manager) => {
      const request = await this.lockOpenRequest(manager, requestId, by, 'approve');
      if (request.expired) return { expired: true } as const;
      const current = await this.lockRebindablePending(manager, request.pending_identity_id);
      const now = reviewOf(current);
      if (Object.keys(now).some((key) => now[key] !== (request.reviewed[key] ?? null))) {
        throw new AppException(
          'pending_identity_changed',
          'the identity signed in again since the request and its review hints changed: review and request anew',
        );
      }
      const change = await this.apply(manager, by, request.account_id, request.pending_identity_id, request.reason, {
        requestId,
        requestedBy: request.requested_by,
        approvedBy: by.adminId,
      });
      await this.decide(manager, request, by, 'applied', comment);
      return { expired: false, change } as const;
    }).catch((error: unknown) => this.closeIfUnusable(requestId, by, error));
    if (result.expired) throw new AppException('rebind_request_expired', 'request the re-bind again');
    return { ...applied(result.change), requestId };
  }

  /** Approving a request whose pending identity can no longer be re-bound closes it instead of leaving it open. */
  private async closeIfUnusable(requestId: string, by: AdminAction, error: unknown): Promise<never> {
    if (error instanceof AppException && UNUSABLE_PENDING.has(error.code)) {
      const { code } = error;
      await this.dataSource.transaction(async (manager) => {
        const closed = await this.requests.expireOne(manager, requestId, `closed: ${code}`);
        const origin = { actor: { type: 'account', accountId: by.adminId }, requestId: by.requestId } as const;
        await recordClosedRequests(this.audit, manager, closed, origin, code, 'approve');
      });
    }
    throw error;
  }

  async reject(by: AdminAction, requestId: string, comment: string): Promise<RebindRequestDto> {
    const result = await this.inTransaction(async (manager) => {
      const request = await this.lockOpenRequest(manager, requestId, by, 'reject');
      if (request.expired) return null;
      await this.decide(manager, request, by, 'rejected', comment);
      return request;
    });
    if (!result) throw new AppException('rebind_request_expired', 'the request had already expired');
    return (await this.listRequests({ id: requestId })).items[0];
  }

  countOpenRequests(): Promise<number> {
    return this.requests.countOpen(this.dataSource.manager);
  }

  async listRequests(
    query: RebindRequestQueryDto & { id?: string },
  ): Promise<{ items: RebindRequestDto[]; nextCursor: string | null }> {
    const page = await this.requests.list(this.dataSource.manager, query);
    return {
      nextCursor: page.nextCursor,
      items: page.items.map((row) => ({
        id: row.id,
        accountId: row.account_id,
        pendingIdentityId: row.pending_identity_id,
        requestedBy: row.requested_by,
        reason: row.reason,
        status: row.expired ? 'expired' : row.status,
        decidedBy: row.decided_by,
        decidedAt: row.decided_at?.toISOString() ?? null,
        decisionComment: row.decision_comment,
        createdAt: row.created_at.toISOString(),
        expiresAt: row.expires_at.toISOString(),
      })),
    };
  }

  private async apply(
    manager: EntityManager,
    by: AdminAction,
    accountId: string,
    pendingIdentityId: string,
    reason: string,
    fourEyes: Record<string, unknown>,
  ): Promise<LinkChange> {
    const pending = await this.lockRebindablePending(manager, pendingIdentityId);
    await this.assertAccount(manager, accountId);
    const change = await this.links.rebind(
      accountId,
      identityOf(pending),
      { actor: { type: 'account', accountId: by.adminId }, requestId: by.requestId },
      { via: 'admin_rebind', pendingIdentityId, reason, ...fourEyes },
      manager,
    );
    await this.pending.resolve(manager, pendingIdentityId, 'rebound', accountId);
    return change;
  }

  /** Locked until the transaction ends: of two concurrent re-binds, the second sees it resolved. */
  private async lockRebindablePending(manager: EntityManager, id: string): Promise<PendingIdentityRow> {
    const row = await this.pending.lock(manager, id, this.config.linking.rebindPendingMaxAgeSeconds);
    if (!row) throw new AppException('pending_identity_not_found', 'no pending identity with this id');
    if (row.resolved_at) throw new AppException('pending_identity_resolved', `it was already ${row.resolution}`);
    if (!row.open) {
      throw new AppException(
        'pending_identity_expired',
        'its last login is too old for a re-bind: ask the person to sign in with it again',
      );
    }
    return row;
  }

  private async assertAccount(manager: EntityManager, accountId: string): Promise<void> {
    if (!(await this.accounts.exists(manager, accountId)))
      throw new AppException('account_not_found', 'no account with this id');
  }

  private async lockOpenRequest(
    manager: EntityManager,
    id: string,
    by: AdminAction,
    decision: 'approve' | 'reject',
  ): Promise<RebindRequestRow> {
    const request = await this.requests.lock(manager, id);
    if (!request) throw new AppException('rebind_request_not_found', 'no re-bind request with this id');
    if (request.status !== 'requested')
      throw new AppException('rebind_request_decided', `it was already ${request.status}`);
    if (request.requested_by === by.adminId) {
      // An admin deciding their own request is what four-eyes exists to stop: on the record (after the rollback).
      throw new LinkRefused('four_eyes_required', 'the admin who requested a re-bind cannot decide it', {
        type: 'identity.link_refused',
        actor: { type: 'account', accountId: by.adminId },
        requestId: by.requestId,
        subjectAccountId: request.account_id,
        details: {
          via: 'admin_rebind',
          code: 'four_eyes_required',
          decision,
          requestId: request.id,
          pendingIdentityId: request.pending_identity_id,
          requestedBy: request.requested_by,
        },
      });
    }
    if (decision === 'approve' && request.account_id === by.adminId) throw selfRebindRefused();
    if (request.expired) {
      const closed = await this.requests.expireOne(manager, id);
      await recordClosedRequests(this.audit, manager, closed, bySystem(by), 'ttl', decision);
    }
    return request;
  }

  private async decide(
    manager: EntityManager,
    request: RebindRequestRow,
    by: AdminAction,
    status: 'applied' | 'rejected',
    comment: string | undefined,
  ): Promise<void> {
    await this.requests.decide(manager, request.id, status, by.adminId, comment ?? null);
    await this.audit.record(
      {
        type: status === 'applied' ? 'identity.rebind_approved' : 'identity.rebind_rejected',
        actor: { type: 'account', accountId: by.adminId },
        requestId: by.requestId,
        subjectAccountId: request.account_id,
        details: {
          requestId: request.id,
          pendingIdentityId: request.pending_identity_id,
          requestedBy: request.requested_by,
          comment: comment ?? null,
        },
      },
      manager,
    );
  }

  private async inTransaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    try {
      return await this.dataSource.transaction(work);
    } catch (error) {
      await this.links.auditRefusal(error);
      throw error;
    }
  }
}

/** A request running out is nobody's act; the event still names the request that noticed it. */
function bySystem(by: AdminAction): AuditOrigin {
  return { actor: { type: 'system' }, requestId: by.requestId };
}

function applied(change: LinkChange): RebindOutcomeDto {
  return {
    status: 'applied',
    linkId: change.linkId,
    oldSubject: change.previous?.subject ?? null,
    revokedSessions: change.revokedSessionIds.length,
  };
}

const selfRebindRefused = () =>
  new AppException('self_modification_refused', 'Ask another administrator to re-bind a login of your own account');
