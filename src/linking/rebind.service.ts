import { pendingReference, referencePrefix } from '../auth/login-outcome-pages.js';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import type { AuditOrigin } from '../audit/audit-event-types.js';
import { AuditService } from '../audit/audit.service.js';
import { decodeCursor, encodeCursor, TIMESTAMP_PATTERN, UUID_PATTERN } from '../common/http/cursor.js';
import { isReasonableInstant } from '../common/http/date-time.js';
import { AppException } from '../common/problem/app-exception.js';
import type { AppConfig } from '../app/app.config.js';
import { InjectAppConfig } from '../config/config.module.js';
import { jsonb, SqlParameters, sqlRows } from '../database/sql.js';
import { IdentityLinksService, type LinkChange, LinkRefused } from '../identity-links/identity-links.service.js';
import type {
  AdminPendingIdentityDto,
  PendingIdentityQueryDto,
  RebindOutcomeDto,
  RebindRequestDto,
  RebindRequestQueryDto,
} from './dto/rebind.dto.js';
import { identityOf, PENDING_COLUMNS, type PendingIdentityRow, resolvePending } from './linking.service.js';

interface RebindRequestRow {
  id: string;
  account_id: string;
  pending_identity_id: string;
  requested_by: string;
  reason: string;
  reviewed: Record<string, unknown>;
  status: 'requested' | 'applied' | 'rejected' | 'expired';
  decided_by: string | null;
  decided_at: Date | null;
  decision_comment: string | null;
  created_at: Date;
  expires_at: Date;
  expired: boolean;
}

const UNIQUE_VIOLATION = '23505';
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

/** What an expired request's audit event needs; `RETURNING ${CLOSED_COLUMNS}` of the closing UPDATE. */
export interface ClosedRebindRequest {
  id: string;
  account_id: string;
  pending_identity_id: string;
  requested_by: string;
}

export const CLOSED_COLUMNS = 'id, account_id, pending_identity_id, requested_by';

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
    private readonly audit: AuditService,
    @InjectAppConfig() private readonly config: AppConfig,
  ) {}

  /** Newest first; `status=open` (default) lists those still waiting, with review hints. */
  async listPending(
    query: PendingIdentityQueryDto,
  ): Promise<{ items: AdminPendingIdentityDto[]; nextCursor: string | null }> {
    const params = new SqlParameters();
    const conditions: string[] = [];
    const status = query.status ?? 'open';
    if (status === 'open') conditions.push(`p.resolved_at IS NULL AND p.expires_at > now()`);
    if (status === 'resolved') conditions.push(`p.resolved_at IS NOT NULL`);
    if (query.provider) conditions.push(`p.provider = ${params.add(query.provider)}`);
    if (query.reason) conditions.push(`p.reason = ${params.add(query.reason)}`);
    const reference = query.reference ? referencePrefix(query.reference) : null;
    if (reference) conditions.push(`replace(p.id::text, '-', '') LIKE ${params.add(`${reference}%`)}`);
    if (query.cursor) {
      const position = decodeCursor(
        query.cursor,
        ['createdAt', 'id'],
        (p) => TIMESTAMP_PATTERN.test(p.createdAt) && isReasonableInstant(p.createdAt) && UUID_PATTERN.test(p.id),
      );
      conditions.push(
        `(p.created_at, p.id) < (${params.add(position.createdAt)}::timestamptz, ${params.add(position.id)}::uuid)`,
      );
    }
    const limit = query.limit ?? 50;
    const rows = await sqlRows<
      PendingIdentityRow & {
        created_at_key: string;
        suspected_display_name: string | null;
        open_request_id: string | null;
        rebindable: boolean;
      }
    >(
      this.dataSource.manager,
      `SELECT ${PENDING_COLUMNS.split(',')
        .map((column) => `p.${column.trim()}`)
        .join(', ')},
              to_char(p.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS created_at_key,
              a.display_name AS suspected_display_name,
              (SELECT r.id FROM rebind_requests r
                WHERE r.pending_identity_id = p.id AND r.status = 'requested' AND r.expires_at > now()) AS open_request_id,
              p.resolved_at IS NULL AND p.last_seen_at > now() - make_interval(secs => ${params.add(
                this.config.linking.rebindPendingMaxAgeSeconds,
              )}) AS rebindable
         FROM pending_identities p LEFT JOIN accounts a ON a.id = p.suspected_account_id
         ${conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : ''}
        ORDER BY p.created_at DESC, p.id DESC
        LIMIT ${params.add(limit + 1)}`,
      params.values,
    );
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      items: page.map((row) => ({
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
      nextCursor: rows.length > limit && last ? encodeCursor({ createdAt: last.created_at_key, id: last.id }) : null,
    };
  }

  /** Applies the re-bind at once, or — with four-eyes on — stores it for a different admin to approve. */
  async rebind(
    by: AdminAction,
    accountId: string,
    pendingIdentityId: string,
    reason: string,
  ): Promise<RebindOutcomeDto> {
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
      const expired = await sqlRows<ClosedRebindRequest>(
        manager,
        `UPDATE rebind_requests SET status = 'expired', decided_at = now()
          WHERE pending_identity_id = $1 AND status = 'requested' AND expires_at <= now()
          RETURNING ${CLOSED_COLUMNS}`,
        [pendingIdentityId],
      );
      await recordClosedRequests(this.audit, manager, expired, bySystem(by), 'ttl', 'rebind');
      const [row] = await sqlRows<{ id: string; expires_at: Date }>(
        manager,
        `INSERT INTO rebind_requests (account_id, pending_identity_id, requested_by, reason, reviewed, expires_at)
         VALUES ($1, $2, $3, $4, $5, now() + make_interval(secs => $6)) RETURNING id, expires_at`,
        [
          accountId,
          pendingIdentityId,
          by.adminId,
          reason,
          jsonb(reviewOf(pending)),
          this.config.linking.approvalTtlSeconds,
        ],
      ).catch((error: unknown) => {
        const { code, driverError } = error as { code?: string; driverError?: { code?: string } };
        if ((driverError?.code ?? code) === UNIQUE_VIOLATION) {
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
        const closed = await sqlRows<ClosedRebindRequest>(
          manager,
          `UPDATE rebind_requests SET status = 'expired', decided_at = now(), decision_comment = $2
            WHERE id = $1 AND status = 'requested' RETURNING ${CLOSED_COLUMNS}`,
          [requestId, `closed: ${code}`],
        );
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

  async listRequests(query: RebindRequestQueryDto & { id?: string }): Promise<{ items: RebindRequestDto[] }> {
    const params = new SqlParameters();
    const conditions: string[] = [];
    if (query.id) conditions.push(`id = ${params.add(query.id)}`);
    if (query.status === 'expired') {
      conditions.push(`(status = 'expired' OR (status = 'requested' AND expires_at <= now()))`);
    } else if (query.status === 'requested') {
      conditions.push(`status = 'requested' AND expires_at > now()`);
    } else if (query.status) {
      conditions.push(`status = ${params.add(query.status)}`);
    }
    const rows = await sqlRows<RebindRequestRow>(
      this.dataSource.manager,
      `SELECT *, status = 'requested' AND expires_at <= now() AS expired FROM rebind_requests
        ${conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : ''}
        ORDER BY created_at DESC, id DESC LIMIT ${params.add(query.limit ?? 50)}`,
      params.values,
    );
    return {
      items: rows.map((row) => ({
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
    await resolvePending(manager, pendingIdentityId, 'rebound', accountId);
    return change;
  }

  /** Locked until the transaction ends: of two concurrent re-binds, the second sees it resolved. */
  private async lockRebindablePending(manager: EntityManager, id: string): Promise<PendingIdentityRow> {
    const [row] = await sqlRows<PendingIdentityRow & { recent: boolean }>(
      manager,
      `SELECT ${PENDING_COLUMNS}, last_seen_at > now() - make_interval(secs => $2) AS recent
         FROM pending_identities WHERE id = $1 FOR UPDATE`,
      [id, this.config.linking.rebindPendingMaxAgeSeconds],
    );
    if (!row) throw new AppException('pending_identity_not_found', 'no pending identity with this id');
    if (row.resolved_at) throw new AppException('pending_identity_resolved', `it was already ${row.resolution}`);
    if (!row.recent) {
      throw new AppException(
        'pending_identity_expired',
        'its last login is too old for a re-bind: ask the person to sign in with it again',
      );
    }
    return row;
  }

  private async assertAccount(manager: EntityManager, accountId: string): Promise<void> {
    const [account] = await sqlRows<{ id: string }>(manager, `SELECT id FROM accounts WHERE id = $1`, [accountId]);
    if (!account) throw new AppException('account_not_found', 'no account with this id');
  }

  private async lockOpenRequest(
    manager: EntityManager,
    id: string,
    by: AdminAction,
    decision: 'approve' | 'reject',
  ): Promise<RebindRequestRow> {
    const [request] = await sqlRows<RebindRequestRow>(
      manager,
      `SELECT *, expires_at <= now() AS expired FROM rebind_requests WHERE id = $1 FOR UPDATE`,
      [id],
    );
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
    if (request.expired) {
      const closed = await sqlRows<ClosedRebindRequest>(
        manager,
        `UPDATE rebind_requests SET status = 'expired', decided_at = now() WHERE id = $1 RETURNING ${CLOSED_COLUMNS}`,
        [id],
      );
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
    await manager.query(
      `UPDATE rebind_requests SET status = $2, decided_by = $3, decided_at = now(), decision_comment = $4 WHERE id = $1`,
      [request.id, status, by.adminId, comment ?? null],
    );
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
