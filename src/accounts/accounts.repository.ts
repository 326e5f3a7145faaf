import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { LinkSummary } from '../access/authenticated-request.js';
import { keysetPage, type KeysetPage, newestFirst } from '../common/http/keyset.js';
import { SqlParameters, sqlRows } from '../database/sql.js';
import type { AccountRole, AccountStatus } from './account.entity.js';

/** Every statement on `accounts`. */

export interface AccountRow {
  id: string;
  display_name: string;
  status: AccountStatus;
  roles: AccountRole[];
  created_at: Date;
  updated_at: Date;
}

/** An identity link as findWithLinks aggregates it (JSON: timestamps as strings), like the session lookup. */
export type LinkJson = LinkSummary;

export interface AccountFilters {
  /** Part of the name, or exactly an account id, a provider subject or one of the identity's own attribute values. */
  q?: string;
  status?: AccountStatus;
  role?: AccountRole;
  limit: number;
  cursor?: string;
}

const COLUMNS = 'id, display_name, status, roles, created_at, updated_at';
const NEWEST_FIRST = newestFirst('createdAt', 'a.created_at', 'a.id');

@Injectable()
export class AccountsRepository {
  async insert(manager: EntityManager, displayName: string): Promise<string> {
    const [account] = await sqlRows<{ id: string }>(
      manager,
      `INSERT INTO accounts (display_name) VALUES ($1) RETURNING id`,
      [displayName.slice(0, 200)],
    );
    return account.id;
  }

  async exists(manager: EntityManager, id: string): Promise<boolean> {
    return (await sqlRows(manager, `SELECT 1 FROM accounts WHERE id = $1`, [id])).length > 0;
  }

  /**
   * Locks the account for a change of its identity links; false when there is no such account. NO KEY UPDATE:
   * serialises link changes, yet a concurrent login can still insert a session for the account (its foreign-key
   * check takes KEY SHARE); FOR UPDATE would deadlock with a login through the link being changed.
   */
  async lockForLinkChange(manager: EntityManager, id: string): Promise<boolean> {
    return (await sqlRows(manager, `SELECT id FROM accounts WHERE id = $1 FOR NO KEY UPDATE`, [id])).length > 0;
  }

  /**
   * Locks the account for a change of its status or roles. FOR UPDATE, not NO KEY UPDATE: it is what makes a login
   * in progress (FOR KEY SHARE on this row, see IdentityLinksRepository.lockForLogin) finish before the sessions are
   * revoked, and a later one see the new status.
   */
  async lockForAdministration(manager: EntityManager, id: string): Promise<AccountRow | undefined> {
    const [row] = await sqlRows<AccountRow>(manager, `SELECT ${COLUMNS} FROM accounts WHERE id = $1 FOR UPDATE`, [id]);
    return row;
  }

  async find(manager: EntityManager, id: string): Promise<AccountRow | undefined> {
    const [row] = await sqlRows<AccountRow>(manager, `SELECT ${COLUMNS} FROM accounts WHERE id = $1`, [id]);
    return row;
  }

  async setStatusAndRoles(
    manager: EntityManager,
    id: string,
    status: AccountStatus,
    roles: AccountRole[],
  ): Promise<AccountRow> {
    const [row] = await sqlRows<AccountRow>(
      manager,
      `UPDATE accounts SET status = $2, roles = $3, updated_at = now() WHERE id = $1 RETURNING ${COLUMNS}`,
      [id, status, roles],
    );
    return row;
  }

  /** The accounts (locked) whose id, or one of whose provider subjects, is exactly `idOrSubject`. */
  lockByIdOrSubject(manager: EntityManager, idOrSubject: string): Promise<AccountRow[]> {
    return sqlRows<AccountRow>(
      manager,
      `SELECT ${COLUMNS} FROM accounts
        WHERE id::text = $1 OR id IN (SELECT account_id FROM identity_links WHERE subject = $1)
        FOR UPDATE`,
      [idOrSubject],
    );
  }

  /** One account, its links and its live-session count, in one round trip. */
  async findWithLinks(
    manager: EntityManager,
    id: string,
  ): Promise<(AccountRow & { links: LinkJson[]; active_sessions: number }) | undefined> {
    const [row] = await sqlRows<AccountRow & { links: LinkJson[]; active_sessions: number }>(
      manager,
      `SELECT a.id, a.display_name, a.status, a.roles, a.created_at, a.updated_at,
              COALESCE((SELECT jsonb_agg(jsonb_build_object(
                          'id', l.id, 'provider', l.provider, 'issuer', l.issuer, 'subject', l.subject,
                          'attributes', l.attributes, 'firstLoginAt', l.first_login_at, 'lastLoginAt', l.last_login_at)
                          ORDER BY l.created_at)
                          FROM identity_links l WHERE l.account_id = a.id), '[]') AS links,
              (SELECT count(*)::int FROM sessions s
                WHERE s.account_id = a.id AND s.revoked_at IS NULL
                  AND s.idle_expires_at > now() AND s.absolute_expires_at > now()) AS active_sessions
         FROM accounts a WHERE a.id = $1`,
      [id],
    );
    return row;
  }

  /**
   * Newest first, keyset-paginated on (created_at, id). `q` never matches an RSSE through the IOE UIDs its chain
   * names (ioeuid, iouid): those identify the IOE's account, not the RSSE's.
   */
  async search(manager: EntityManager, filters: AccountFilters): Promise<KeysetPage<AccountRow>> {
    const conditions: string[] = [];
    const params = new SqlParameters();
    if (filters.q) {
      const escaped = filters.q.replace(/[\\%_]/g, (m) => `\\${m}`);
      const exact = params.add(filters.q);
      conditions.push(
        `(a.display_name ILIKE ${params.add(`%${escaped}%`)}
          OR a.id::text = ${exact}
          OR EXISTS (SELECT 1 FROM identity_links l WHERE l.account_id = a.id
                      AND (l.subject = ${exact}
                           OR EXISTS (SELECT 1 FROM jsonb_each_text(l.attributes) attribute
                                       WHERE attribute.value = ${exact}
                                         AND (l.attributes->>'actorType' IS DISTINCT FROM 'RSSE'
                                              OR attribute.key NOT IN ('ioeuid', 'iouid'))))))`,
      );
    }
    if (filters.status) conditions.push(`a.status = ${params.add(filters.status)}`);
    if (filters.role) conditions.push(`${params.add(filters.role)} = ANY(a.roles)`);
    if (filters.cursor) conditions.push(NEWEST_FIRST.after(filters.cursor, params));
    const rows = await sqlRows<AccountRow & { cursor_at: string }>(
      manager,
      `SELECT a.id, a.display_name, a.status, a.roles, a.created_at, a.updated_at, ${NEWEST_FIRST.cursorColumn}
         FROM accounts a ${conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : ''}
        ORDER BY ${NEWEST_FIRST.orderBy}
        LIMIT ${params.add(filters.limit + 1)}`,
      params.values,
    );
    return keysetPage(rows, filters.limit, NEWEST_FIRST.positionOf);
  }
}
