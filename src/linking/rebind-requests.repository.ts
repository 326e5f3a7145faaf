import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { type KeysetPage, keysetPage, newestFirst } from '../common/http/keyset.js';
import { jsonb, SqlParameters, sqlRows } from '../database/sql.js';

/** Every statement on `rebind_requests`. */

export interface RebindRequestRow {
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
  /** Still `requested`, but past its expiry. */
  expired: boolean;
}

/** What the audit event of a request closed without a decision needs. */
export interface ClosedRebindRequest {
  id: string;
  account_id: string;
  pending_identity_id: string;
  requested_by: string;
}

export interface NewRebindRequest {
  accountId: string;
  pendingIdentityId: string;
  requestedBy: string;
  reason: string;
  reviewed: Record<string, unknown>;
  ttlSeconds: number;
}

export interface RebindRequestFilters {
  id?: string;
  status?: RebindRequestRow['status'];
  limit?: number;
  cursor?: string;
}

const CLOSED = 'id, account_id, pending_identity_id, requested_by';
const SELECT_LIST = `*, status = 'requested' AND expires_at <= now() AS expired`;
const LIST_ORDER = newestFirst('createdAt', 'created_at', 'id');

@Injectable()
export class RebindRequestsRepository {
  /** A unique violation means the pending identity already has an open request. */
  async insert(manager: EntityManager, request: NewRebindRequest): Promise<{ id: string; expires_at: Date }> {
    const [row] = await sqlRows<{ id: string; expires_at: Date }>(
      manager,
      `INSERT INTO rebind_requests (account_id, pending_identity_id, requested_by, reason, reviewed, expires_at)
       VALUES ($1, $2, $3, $4, $5, now() + make_interval(secs => $6)) RETURNING id, expires_at`,
      [
        request.accountId,
        request.pendingIdentityId,
        request.requestedBy,
        request.reason,
        jsonb(request.reviewed),
        request.ttlSeconds,
      ],
    );
    return row;
  }

  async lock(manager: EntityManager, id: string): Promise<RebindRequestRow | undefined> {
    const [row] = await sqlRows<RebindRequestRow>(
      manager,
      `SELECT *, expires_at <= now() AS expired FROM rebind_requests WHERE id = $1 FOR UPDATE`,
      [id],
    );
    return row;
  }

  /** Closes the open requests past their expiry (status `expired`): all of them, or those of one pending identity. */
  expireOverdue(manager: EntityManager, pendingIdentityId?: string): Promise<ClosedRebindRequest[]> {
    return sqlRows<ClosedRebindRequest>(
      manager,
      `UPDATE rebind_requests SET status = 'expired', decided_at = now()
        WHERE status = 'requested' AND expires_at <= now()
          AND ($1::uuid IS NULL OR pending_identity_id = $1::uuid)
        RETURNING ${CLOSED}`,
      [pendingIdentityId ?? null],
    );
  }

  /** Closes one open request without a decision (status `expired`), whatever its expiry; empty when it is not open. */
  expireOne(manager: EntityManager, id: string, comment?: string): Promise<ClosedRebindRequest[]> {
    return sqlRows<ClosedRebindRequest>(
      manager,
      `UPDATE rebind_requests SET status = 'expired', decided_at = now(), decision_comment = $2
        WHERE id = $1 AND status = 'requested' RETURNING ${CLOSED}`,
      [id, comment ?? null],
    );
  }

  async decide(
    manager: EntityManager,
    id: string,
    status: 'applied' | 'rejected',
    decidedBy: string,
    comment: string | null,
  ): Promise<void> {
    await manager.query(
      `UPDATE rebind_requests SET status = $2, decided_by = $3, decided_at = now(), decision_comment = $4 WHERE id = $1`,
      [id, status, decidedBy, comment],
    );
  }

  /** Requests still awaiting a second administrator (the console's count). */
  async countOpen(manager: EntityManager): Promise<number> {
    const [row] = await sqlRows<{ open: number }>(
      manager,
      `SELECT count(*)::int AS open FROM rebind_requests WHERE status = 'requested' AND expires_at > now()`,
    );
    return row!.open;
  }

  /** Newest first. `expired` includes requests still `requested` past their expiry; `requested` excludes them. */
  async list(manager: EntityManager, filters: RebindRequestFilters): Promise<KeysetPage<RebindRequestRow>> {
    const params = new SqlParameters();
    const conditions: string[] = [];
    if (filters.id) conditions.push(`id = ${params.add(filters.id)}`);
    if (filters.status === 'expired') {
      conditions.push(`(status = 'expired' OR (status = 'requested' AND expires_at <= now()))`);
    } else if (filters.status === 'requested') {
      conditions.push(`status = 'requested' AND expires_at > now()`);
    } else if (filters.status) {
      conditions.push(`status = ${params.add(filters.status)}`);
    }
    if (filters.cursor) conditions.push(LIST_ORDER.after(filters.cursor, params));
    const limit = filters.limit ?? 50;
    const rows = await sqlRows<RebindRequestRow & { cursor_at: string }>(
      manager,
      `SELECT ${SELECT_LIST}, ${LIST_ORDER.cursorColumn} FROM rebind_requests
        ${conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : ''}
        ORDER BY ${LIST_ORDER.orderBy} LIMIT ${params.add(limit + 1)}`,
      params.values,
    );
    return keysetPage(rows, limit, LIST_ORDER.positionOf);
  }
}
