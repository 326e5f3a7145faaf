import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { IdentityProvider } from '../common/identity-providers.js';
import { keysetPage, type KeysetPage, newestFirst } from '../common/http/keyset.js';
import { jsonb, SqlParameters, sqlRows } from '../database/sql.js';
import type { ExternalIdentity } from '../user-mapping/external-identity.js';
import type { PendingReason, PendingResolution } from './pending-identity.entity.js';

/** Every statement on `pending_identities`. */

export interface PendingIdentityRow {
  id: string;
  provider: IdentityProvider;
  issuer: string;
  subject: string;
  person_key: string | null;
  attributes: Record<string, unknown>;
  reason: PendingReason;
  flags: Record<string, unknown>;
  suspected_account_id: string | null;
  browser_binding_hash: Buffer | null;
  may_create_account: boolean;
  held_for_session_id: string | null;
  display_name: string | null;
  created_at: Date;
  last_seen_at: Date;
  authenticated_at: Date | null;
  expires_at: Date;
  resolved_at: Date | null;
  resolution: PendingResolution | null;
  resolved_account_id: string | null;
}

/** A pending identity as the support desk reviews it. */
export interface ReviewRow extends PendingIdentityRow {
  suspected_display_name: string | null;
  open_request_id: string | null;
  rebindable: boolean;
}

/** The verified identity as the login produced it, and why and for how long it is held. */
export interface NewPendingIdentity extends ExternalIdentity {
  reason: PendingReason;
  flags: Record<string, unknown>;
  suspectedAccountId: string | null;
  browserBindingHash: Buffer | null;
  ttlSeconds: number;
  mayCreateAccount: boolean;
  authenticatedAt: Date | null;
}

export interface ReviewFilters {
  status: 'open' | 'resolved' | 'all';
  provider?: string;
  reason?: string;
  /** The start of an id, from a reference code a person read out. */
  idPrefix?: string | null;
  cursor?: string;
  limit: number;
  /** How long after its last login an identity may still be re-bound. */
  rebindableSeconds: number;
}

const COLUMNS = [
  'id',
  'provider',
  'issuer',
  'subject',
  'person_key',
  'attributes',
  'reason',
  'flags',
  'suspected_account_id',
  'browser_binding_hash',
  'may_create_account',
  'held_for_session_id',
  'display_name',
  'created_at',
  'last_seen_at',
  'authenticated_at',
  'expires_at',
  'resolved_at',
  'resolution',
  'resolved_account_id',
];
const SELECT_LIST = COLUMNS.join(', ');
const REVIEW_ORDER = newestFirst('createdAt', 'p.created_at', 'p.id');

type Identity = { provider: string; issuer: string; subject: string };

@Injectable()
export class PendingIdentitiesRepository {
  /**
   * Holds the identity. One open entry per identity (a partial unique index): a repeated login refreshes it — also
   * when two logins of the same new identity race — instead of piling up rows.
   */
  async hold(manager: EntityManager, pending: NewPendingIdentity): Promise<string> {
    const [{ id }] = await sqlRows<{ id: string }>(
      manager,
      `INSERT INTO pending_identities (provider, issuer, subject, attributes, raw_claims, reason, flags,
                                       suspected_account_id, browser_binding_hash, person_key, expires_at,
                                       may_create_account, display_name, authenticated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, now() + make_interval(secs => $11), $12, $13, $14)
       ON CONFLICT (provider, issuer, subject) WHERE resolved_at IS NULL DO UPDATE
          SET attributes = EXCLUDED.attributes, raw_claims = EXCLUDED.raw_claims, reason = EXCLUDED.reason,
              flags = EXCLUDED.flags, suspected_account_id = EXCLUDED.suspected_account_id,
              browser_binding_hash = EXCLUDED.browser_binding_hash, person_key = EXCLUDED.person_key,
              expires_at = EXCLUDED.expires_at, may_create_account = EXCLUDED.may_create_account,
              display_name = EXCLUDED.display_name, last_seen_at = now(), held_for_session_id = NULL,
              authenticated_at = EXCLUDED.authenticated_at,
              -- An expired entry that comes back is new for its reviewers: it sorts with the newest.
              created_at = CASE WHEN pending_identities.expires_at <= now() THEN now()
                                ELSE pending_identities.created_at END
       RETURNING id`,
      [
        pending.provider,
        pending.issuer,
        pending.subject,
        jsonb(pending.attributes),
        jsonb(pending.rawClaims),
        pending.reason,
        jsonb(pending.flags),
        pending.suspectedAccountId,
        pending.browserBindingHash,
        pending.personKey,
        pending.ttlSeconds,
        pending.mayCreateAccount,
        pending.displayName,
        pending.authenticatedAt,
      ],
    );
    return id;
  }

  /** The session of the browser that was signed in when the identity was held (null: none). */
  async holdFor(manager: EntityManager, id: string, sessionId: string | null): Promise<void> {
    await manager.query(`UPDATE pending_identities SET held_for_session_id = $2 WHERE id = $1`, [id, sessionId]);
  }

  /** The newest open entry this browser signed in with within `withinSeconds`. */
  async newestForBrowser(
    manager: EntityManager,
    browserBindingHash: Buffer,
    withinSeconds: number,
  ): Promise<PendingIdentityRow | undefined> {
    const [row] = await sqlRows<PendingIdentityRow>(
      manager,
      `SELECT ${SELECT_LIST} FROM pending_identities
        WHERE browser_binding_hash = $1 AND resolved_at IS NULL
          AND last_seen_at > now() - make_interval(secs => $2)
        ORDER BY last_seen_at DESC LIMIT 1`,
      [browserBindingHash, withinSeconds],
    );
    return row;
  }

  /**
   * Locks an entry of this browser; `open` tells whether its last login is within `withinSeconds`, and
   * `seen_seconds_ago` how long ago that login was — both by the database's clock, which stamped it.
   */
  async lockForBrowser(
    manager: EntityManager,
    id: string,
    browserBindingHash: Buffer | null,
    withinSeconds: number,
  ): Promise<(PendingIdentityRow & { open: boolean; seen_seconds_ago: number }) | undefined> {
    const [row] = await sqlRows<PendingIdentityRow & { open: boolean; seen_seconds_ago: number }>(
      manager,
      `SELECT ${SELECT_LIST}, last_seen_at > now() - make_interval(secs => $3) AS open,
              extract(epoch FROM now() - last_seen_at)::float8 AS seen_seconds_ago
         FROM pending_identities WHERE id = $1 AND browser_binding_hash = $2 FOR UPDATE`,
      [id, browserBindingHash ?? Buffer.alloc(32), withinSeconds],
    );
    return row;
  }

  /** Locks an entry for a re-bind; `open` tells whether its last login is within `withinSeconds`. */
  async lock(
    manager: EntityManager,
    id: string,
    withinSeconds: number,
  ): Promise<(PendingIdentityRow & { open: boolean }) | undefined> {
    const [row] = await sqlRows<PendingIdentityRow & { open: boolean }>(
      manager,
      `SELECT ${SELECT_LIST}, last_seen_at > now() - make_interval(secs => $2) AS open
         FROM pending_identities WHERE id = $1 FOR UPDATE`,
      [id, withinSeconds],
    );
    return row;
  }

  /**
   * Locks the open entry `id` if a login confirms it: the entry holds the login's identity, and `authenticatedAt` (its
   * `auth_time`) is later than the held login's — the provider's own clock on both sides. With the login's own check that it was a
   * new sign-in (assertFreshAuthentication, by durations, which allows about two seconds), a provider session left
   * over from the login that produced the entry (a stranger's, on a shared browser) does not count even in those
   * seconds. The database's `last_seen_at` is not compared: that would compare its clock with the provider's. A held
   * login without `auth_time` leaves the durations check alone.
   */
  async lockConfirmedBy(
    manager: EntityManager,
    id: string,
    identity: Identity,
    authenticatedAt: Date | null,
  ): Promise<boolean> {
    const rows = await sqlRows<{ id: string }>(
      manager,
      `SELECT id FROM pending_identities
        WHERE id = $1 AND provider = $2 AND issuer = $3 AND subject = $4 AND resolved_at IS NULL
          AND (authenticated_at IS NULL OR authenticated_at < $5) FOR UPDATE`,
      [id, identity.provider, identity.issuer, identity.subject, authenticatedAt],
    );
    return rows.length > 0;
  }

  async resolve(
    manager: EntityManager,
    id: string,
    resolution: PendingResolution,
    accountId: string | null,
  ): Promise<void> {
    await manager.query(
      `UPDATE pending_identities SET resolved_at = now(), resolution = $2, resolved_account_id = $3 WHERE id = $1`,
      [id, resolution, accountId],
    );
  }

  /** Resolves whatever entry of this identity is open (the identity is now bound to `accountId`). */
  async resolveIdentity(
    manager: EntityManager,
    identity: Identity,
    resolution: PendingResolution,
    accountId: string,
  ): Promise<void> {
    await manager.query(
      `UPDATE pending_identities SET resolved_at = now(), resolution = $4, resolved_account_id = $5
        WHERE provider = $1 AND issuer = $2 AND subject = $3 AND resolved_at IS NULL`,
      [identity.provider, identity.issuer, identity.subject, resolution, accountId],
    );
  }

  /** The browser signs out: its open entries can no longer be attached from it. */
  async forgetBrowser(manager: EntityManager, browserBindingHash: Buffer): Promise<void> {
    await manager.query(
      `UPDATE pending_identities SET browser_binding_hash = NULL WHERE browser_binding_hash = $1 AND resolved_at IS NULL`,
      [browserBindingHash],
    );
  }

  /** Open entries past their expiry become `expired`, without their raw claims; returns how many. */
  async expireOverdue(manager: EntityManager): Promise<number> {
    const rows = await sqlRows<{ id: string }>(
      manager,
      `UPDATE pending_identities SET resolved_at = now(), resolution = 'expired', raw_claims = '{}'
        WHERE resolved_at IS NULL AND expires_at <= now() RETURNING id`,
    );
    return rows.length;
  }

  /** Drops the raw claims of closed entries; returns how many. */
  async clearClosedClaims(manager: EntityManager): Promise<number> {
    const rows = await sqlRows<{ id: string }>(
      manager,
      `UPDATE pending_identities SET raw_claims = '{}'
        WHERE resolved_at IS NOT NULL AND raw_claims <> '{}'::jsonb RETURNING id`,
    );
    return rows.length;
  }

  /** Newest first, with what a reviewer needs: the suspected account's name, an open re-bind request, rebindable. */
  async listForReview(manager: EntityManager, filters: ReviewFilters): Promise<KeysetPage<ReviewRow>> {
    const params = new SqlParameters();
    const conditions: string[] = [];
    if (filters.status === 'open') conditions.push(`p.resolved_at IS NULL AND p.expires_at > now()`);
    if (filters.status === 'resolved') conditions.push(`p.resolved_at IS NOT NULL`);
    if (filters.provider) conditions.push(`p.provider = ${params.add(filters.provider)}`);
    if (filters.reason) conditions.push(`p.reason = ${params.add(filters.reason)}`);
    if (filters.idPrefix) conditions.push(`replace(p.id::text, '-', '') LIKE ${params.add(`${filters.idPrefix}%`)}`);
    if (filters.cursor) conditions.push(REVIEW_ORDER.after(filters.cursor, params));
    const rows = await sqlRows<ReviewRow & { cursor_at: string }>(
      manager,
      `SELECT ${COLUMNS.map((column) => `p.${column}`).join(', ')}, ${REVIEW_ORDER.cursorColumn},
              a.display_name AS suspected_display_name,
              (SELECT r.id FROM rebind_requests r
                WHERE r.pending_identity_id = p.id AND r.status = 'requested' AND r.expires_at > now()) AS open_request_id,
              p.resolved_at IS NULL
                AND p.last_seen_at > now() - make_interval(secs => ${params.add(filters.rebindableSeconds)}) AS rebindable
         FROM pending_identities p LEFT JOIN accounts a ON a.id = p.suspected_account_id
         ${conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : ''}
        ORDER BY ${REVIEW_ORDER.orderBy}
        LIMIT ${params.add(filters.limit + 1)}`,
      params.values,
    );
    return keysetPage(rows, filters.limit, REVIEW_ORDER.positionOf);
  }
}
