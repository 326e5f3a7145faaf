import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AUDIT_EVENT } from '../audit/audit-event-types.js';
import { AuditService } from '../audit/audit.service.js';
import { AppException } from '../common/problem/app-exception.js';
import { isReasonableInstant } from '../common/http/date-time.js';
import { decodeCursor, encodeCursor, TIMESTAMP_PATTERN, UUID_PATTERN } from '../common/http/cursor.js';
import { SqlParameters, sqlRows } from '../database/sql.js';
import { IdentityLink } from '../identity-links/identity-link.entity.js';
import { SessionsService } from '../sessions/sessions.service.js';
import { Account, type AccountRole, type AccountStatus } from './account.entity.js';
import { lockAccountAdministration } from './account-administration-lock.js';

export interface AccountSearch {
  q?: string;
  status?: AccountStatus;
  role?: AccountRole;
  limit: number;
  cursor?: string;
}

export interface AccountChanges {
  status?: AccountStatus;
  roles?: AccountRole[];
}

interface AccountRow {
  id: string;
  display_name: string;
  status: AccountStatus;
  roles: AccountRole[];
  created_at: Date;
  updated_at: Date;
}

interface LinkJson {
  id: string;
  provider: IdentityLink['provider'];
  issuer: string;
  subject: string;
  attributes: Record<string, unknown>;
  firstLoginAt: string;
  lastLoginAt: string;
}

const ACCOUNT_COLUMNS = 'id, display_name, status, roles, created_at, updated_at';

function fromRow(row: AccountRow): Account {
  return Object.assign(new Account(), {
    id: row.id,
    displayName: row.display_name,
    status: row.status,
    roles: row.roles,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  });
}

@Injectable()
export class AccountsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly sessions: SessionsService,
    private readonly audit: AuditService,
  ) {}

  /** One account, its links and its live-session count, in one round trip (this backs GET /api/me). */
  async findWithLinks(id: string): Promise<{ account: Account; links: IdentityLink[]; activeSessions: number }> {
    const rows = await sqlRows<AccountRow & { links: LinkJson[]; active_sessions: number }>(
      this.dataSource.manager,
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
    const row = rows[0];
    if (!row) throw new AppException('account_not_found', `No account ${id}`);
    const links = row.links.map((link) =>
      Object.assign(new IdentityLink(), {
        ...link,
        accountId: row.id,
        firstLoginAt: new Date(link.firstLoginAt),
        lastLoginAt: new Date(link.lastLoginAt),
      }),
    );
    return { account: fromRow(row), links, activeSessions: row.active_sessions };
  }

  /**
   * Newest first, keyset-paginated on (created_at, id). `q` matches part of the name, or exactly an account id, a
   * provider subject or one of the identity's own attribute values: an RSSE's chain names its IOE (ioeuid, iouid),
   * which identify the IOE's account, not the RSSE's.
   */
  async search(search: AccountSearch): Promise<{ items: Account[]; nextCursor: string | null }> {
    const conditions: string[] = [];
    const params = new SqlParameters();
    if (search.q) {
      const escaped = search.q.replace(/[\\%_]/g, (m) => `\\${m}`);
      const exact = params.add(search.q);
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
    if (search.status) conditions.push(`a.status = ${params.add(search.status)}`);
    if (search.role) conditions.push(`${params.add(search.role)} = ANY(a.roles)`);
    if (search.cursor) {
      const position = decodeCursor(
        search.cursor,
        ['createdAt', 'id'],
        (p) => TIMESTAMP_PATTERN.test(p.createdAt) && isReasonableInstant(p.createdAt) && UUID_PATTERN.test(p.id),
      );
      conditions.push(
        `(a.created_at, a.id) < (${params.add(position.createdAt)}::timestamptz, ${params.add(position.id)}::uuid)`,
      );
    }
    const where = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
    const rows = await sqlRows<AccountRow & { created_at_key: string }>(
      this.dataSource.manager,
      `SELECT a.id, a.display_name, a.status, a.roles, a.created_at, a.updated_at,
              to_char(a.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS created_at_key
         FROM accounts a ${where}
        ORDER BY a.created_at DESC, a.id DESC
        LIMIT ${params.add(search.limit + 1)}`,
      params.values,
    );
    const page = rows.slice(0, search.limit);
    const last = page.at(-1);
    const nextCursor =
      rows.length > search.limit && last ? encodeCursor({ createdAt: last.created_at_key, id: last.id }) : null;
    return { items: page.map(fromRow), nextCursor };
  }

  /**
   * An administrator changes another account's status or roles. One transaction: the change, the session
   * revocation a disable implies, and the audit event with before and after.
   *
   * The portal can never lose its last administrator: nobody may change their own account, and changes to
   * status and roles are serialised (lockAccountAdministration) with the actor's own admin status re-checked
   * inside, so of two admins demoting each other at the same moment the second finds it is no longer an admin.
   */
  async updateByAdmin(
    actorAccountId: string,
    accountId: string,
    changes: AccountChanges,
    requestId: string | null,
  ): Promise<Account> {
    if (changes.status === undefined && changes.roles === undefined) {
      throw new AppException('validation_failed', 'Nothing to change: send status and/or roles', {
        errors: [{ field: '', rule: 'minProperties', message: 'at least one of status, roles is required' }],
      });
    }
    return this.dataSource.transaction(async (manager) => {
      await lockAccountAdministration(manager);
      const [actor] = await sqlRows<{ status: string; roles: string[] }>(
        manager,
        `SELECT status, roles FROM accounts WHERE id = $1`,
        [actorAccountId],
      );
      if (actor?.status !== 'active' || !actor.roles.includes('admin'))
        throw new AppException('forbidden', 'Requires the admin role');

      // FOR UPDATE, not NO KEY UPDATE: it is what makes a login in progress (FOR KEY SHARE on this row, see
      // UserMappingService.findLink) finish before the sessions are revoked, and a later one see the new status.
      const [beforeRow] = await sqlRows<AccountRow>(
        manager,
        `SELECT ${ACCOUNT_COLUMNS} FROM accounts WHERE id = $1 FOR UPDATE`,
        [accountId],
      );
      if (!beforeRow) throw new AppException('account_not_found', `No account ${accountId}`);
      // Compared with the row's own id, so no spelling of the UUID can slip past.
      if (beforeRow.id === actorAccountId) {
        throw new AppException('self_modification_refused', 'Ask another administrator to change your own account');
      }
      const before = fromRow(beforeRow);
      const after = {
        status: changes.status ?? before.status,
        roles: changes.roles ? [...new Set(changes.roles)].sort() : before.roles,
      };

      const unchanged = after.status === before.status && after.roles.join() === [...before.roles].sort().join();
      if (unchanged) return before;

      const [updated] = await sqlRows<AccountRow>(
        manager,
        `UPDATE accounts SET status = $2, roles = $3, updated_at = now() WHERE id = $1 RETURNING ${ACCOUNT_COLUMNS}`,
        [accountId, after.status, after.roles],
      );
      // Re-enabling ends whatever session the account still has: none should have survived the disable, and one
      // that did anyway (a path that forgot the lock above) must not come back to life with the account.
      const statusChanged = after.status !== before.status;
      const revokedSessions = statusChanged
        ? await this.sessions.revokeAllForAccount(
            accountId,
            after.status === 'disabled' ? 'account_disabled' : 'account_reenabled',
            manager,
          )
        : [];
      await this.audit.record(
        {
          type: AUDIT_EVENT.accountUpdated,
          actor: { type: 'account', accountId: actorAccountId },
          requestId,
          subjectAccountId: accountId,
          details: {
            before: { status: before.status, roles: before.roles },
            after,
            revokedSessions: revokedSessions.length,
          },
        },
        manager,
      );
      return fromRow(updated);
    });
  }
}
