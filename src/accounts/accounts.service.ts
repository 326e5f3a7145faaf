import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { AUDIT_EVENT } from '../audit/audit-event-types.js';
import { AuditService } from '../audit/audit.service.js';
import { AppException } from '../common/problem/app-exception.js';
import { decodeCursor, encodeCursor, TIMESTAMP_PATTERN, UUID_PATTERN } from '../common/http/cursor.js';
import { sqlRows } from '../database/sql.js';
import { IdentityLink } from '../identity-links/identity-link.entity.js';
import { SessionsService } from '../sessions/sessions.service.js';
import { Account, type AccountRole, type AccountStatus } from './account.entity.js';

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
  created_at_key: string;
}

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

  async findWithLinks(id: string): Promise<{ account: Account; links: IdentityLink[]; activeSessions: number }> {
    const account = await this.dataSource.getRepository(Account).findOneBy({ id });
    if (!account) throw new AppException('account_not_found', `No account ${id}`);
    const [links, sessions] = await Promise.all([
      this.dataSource.getRepository(IdentityLink).find({ where: { accountId: id }, order: { createdAt: 'ASC' } }),
      sqlRows<{ count: string }>(
        this.dataSource.manager,
        `SELECT count(*) FROM sessions
          WHERE account_id = $1 AND revoked_at IS NULL AND idle_expires_at > now() AND absolute_expires_at > now()`,
        [id],
      ),
    ]);
    return { account, links, activeSessions: Number(sessions[0].count) };
  }

  /** Newest first, keyset-paginated on (created_at, id). */
  async search(search: AccountSearch): Promise<{ items: Account[]; nextCursor: string | null }> {
    const conditions: string[] = [];
    const params: unknown[] = [];
    const param = (value: unknown) => {
      params.push(value);
      return `$${params.length}`;
    };
    if (search.q) {
      const escaped = search.q.replace(/[\\%_]/g, (m) => `\\${m}`);
      const exact = param(search.q);
      conditions.push(
        `(a.display_name ILIKE ${param(`%${escaped}%`)}
          OR a.id::text = ${exact}
          OR EXISTS (SELECT 1 FROM identity_links l WHERE l.account_id = a.id
                      AND (l.subject = ${exact}
                           OR jsonb_path_exists(l.attributes, '$.** ? (@ == $v)', jsonb_build_object('v', ${exact}::text)))))`,
      );
    }
    if (search.status) conditions.push(`a.status = ${param(search.status)}`);
    if (search.role) conditions.push(`${param(search.role)} = ANY(a.roles)`);
    if (search.cursor) {
      const position = decodeCursor(
        search.cursor,
        ['createdAt', 'id'],
        (p) => TIMESTAMP_PATTERN.test(p.createdAt) && UUID_PATTERN.test(p.id),
      );
      conditions.push(
        `(a.created_at, a.id) < (${param(position.createdAt)}::timestamptz, ${param(position.id)}::uuid)`,
      );
    }
    const where = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
    const rows = await sqlRows<AccountRow>(
      this.dataSource.manager,
      `SELECT a.id, a.display_name, a.status, a.roles, a.created_at, a.updated_at,
              to_char(a.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS created_at_key
         FROM accounts a ${where}
        ORDER BY a.created_at DESC, a.id DESC
        LIMIT ${param(search.limit + 1)}`,
      params,
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
   * The portal can never lose its last administrator: nobody may change their own account, and the actor's own
   * admin status is re-checked under a lock on all active admins, so of two admins demoting each other at the
   * same moment the second finds it is no longer an admin.
   */
  async updateByAdmin(actorAccountId: string, accountId: string, changes: AccountChanges): Promise<Account> {
    if (changes.status === undefined && changes.roles === undefined) {
      throw new AppException('validation_failed', 'Nothing to change: send status and/or roles', {
        errors: [{ field: '', rule: 'minProperties', message: 'at least one of status, roles is required' }],
      });
    }
    if (actorAccountId === accountId) {
      throw new AppException('self_modification_refused', 'Ask another administrator to change your own account');
    }
    return this.dataSource.transaction(async (manager) => {
      const activeAdmins = await this.lockActiveAdmins(manager);
      if (!activeAdmins.has(actorAccountId)) throw new AppException('forbidden', 'Requires the admin role');

      const before = await manager
        .getRepository(Account)
        .findOne({ where: { id: accountId }, lock: { mode: 'pessimistic_write' } });
      if (!before) throw new AppException('account_not_found', `No account ${accountId}`);
      const after = {
        status: changes.status ?? before.status,
        roles: changes.roles ? [...new Set(changes.roles)].sort() : before.roles,
      };

      const unchanged = after.status === before.status && after.roles.join() === [...before.roles].sort().join();
      if (unchanged) return before;

      await manager.query(`UPDATE accounts SET status = $2, roles = $3, updated_at = now() WHERE id = $1`, [
        accountId,
        after.status,
        after.roles,
      ]);
      const revokedSessions =
        after.status === 'disabled' && before.status !== 'disabled'
          ? await this.sessions.revokeAllForAccount(accountId, 'account_disabled', manager)
          : [];
      await this.audit.record(
        {
          type: AUDIT_EVENT.accountUpdated,
          actor: { type: 'account', accountId: actorAccountId },
          subjectAccountId: accountId,
          details: {
            before: { status: before.status, roles: before.roles },
            after,
            revokedSessions: revokedSessions.length,
          },
        },
        manager,
      );
      return await manager.getRepository(Account).findOneByOrFail({ id: accountId });
    });
  }

  private async lockActiveAdmins(manager: EntityManager): Promise<Set<string>> {
    const rows = await sqlRows<{ id: string }>(
      manager,
      `SELECT id FROM accounts WHERE status = 'active' AND 'admin' = ANY(roles) ORDER BY id FOR UPDATE`,
    );
    return new Set(rows.map((row) => row.id));
  }
}
