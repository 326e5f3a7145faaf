import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { AppConfig } from '../app/app.config.js';
import { InjectAppConfig } from '../config/config.module.js';
import { AUDIT_EVENT } from '../audit/audit-event-types.js';
import { AuditService } from '../audit/audit.service.js';
import { AppException } from '../common/problem/app-exception.js';
import type { IdentityLink } from '../identity-links/identity-link.entity.js';
import { SessionsService } from '../sessions/sessions.service.js';
import { Account, type AccountRole, type AccountStatus } from './account.entity.js';
import { lockAccountAdministration } from './account-administration-lock.js';
import { type AccountFilters, type AccountRow, AccountsRepository } from './accounts.repository.js';

export type AccountSearch = AccountFilters;

export interface AccountChanges {
  status?: AccountStatus;
  roles?: AccountRole[];
  /** Why, as the administrator wrote it: kept in the audit event. */
  reason: string;
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

/** updateByAdmin's answer when a grant of the admin role is the operator's (REBIND_FOUR_EYES). */
const OPERATOR_GRANTS = Symbol('the operator appoints administrators');

@Injectable()
export class AccountsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly accounts: AccountsRepository,
    private readonly sessions: SessionsService,
    private readonly audit: AuditService,
    @InjectAppConfig() private readonly config: AppConfig,
  ) {}

  /** One account, its links and its live-session count, in one round trip (this backs GET /api/me). */
  async findWithLinks(id: string): Promise<{ account: Account; links: IdentityLink[]; activeSessions: number }> {
    const row = await this.accounts.findWithLinks(this.dataSource.manager, id);
    if (!row) throw new AppException('account_not_found', `No account ${id}`);
    const links = row.links.map(
      (link): IdentityLink =>
        ({
          ...link,
          accountId: row.id,
          firstLoginAt: new Date(link.firstLoginAt),
          lastLoginAt: new Date(link.lastLoginAt),
        }) as IdentityLink,
    );
    return { account: fromRow(row), links, activeSessions: row.active_sessions };
  }

  /**
   * Newest first, keyset-paginated on (created_at, id). `q` matches part of the name, or exactly an account id, a
   * provider subject or one of the identity's own attribute values: an RSSE's chain names its IOE (ioeuid, iouid),
   * which identify the IOE's account, not the RSSE's.
   */
  async search(search: AccountSearch): Promise<{ items: Account[]; nextCursor: string | null }> {
    const page = await this.accounts.search(this.dataSource.manager, search);
    return { items: page.items.map(fromRow), nextCursor: page.nextCursor };
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
    const outcome = await this.dataSource.transaction(async (manager): Promise<Account | typeof OPERATOR_GRANTS> => {
      await lockAccountAdministration(manager);
      const actor = await this.accounts.find(manager, actorAccountId);
      if (actor?.status !== 'active' || !actor.roles.includes('admin'))
        throw new AppException('forbidden', 'Requires the admin role');

      const beforeRow = await this.accounts.lockForAdministration(manager, accountId);
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
      // Four-eyes re-binding is only as good as the independence of the second administrator: one who could make a
      // second account of their own an administrator could approve their own re-binds. The operator appoints them.
      if (this.config.linking.fourEyes && after.roles.includes('admin') && !before.roles.includes('admin')) {
        return OPERATOR_GRANTS;
      }

      const updated = await this.accounts.setStatusAndRoles(manager, accountId, after.status, after.roles);
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
            reason: changes.reason,
            revokedSessions: revokedSessions.length,
          },
        },
        manager,
      );
      return fromRow(updated);
    });
    if (outcome !== OPERATOR_GRANTS) return outcome;
    // Refused, and on the record like any refused admin action (after the transaction, which wrote nothing).
    await this.audit.record({
      type: AUDIT_EVENT.accountUpdateRefused,
      actor: { type: 'account', accountId: actorAccountId },
      requestId,
      subjectAccountId: accountId,
      details: { code: 'admin_grant_needs_operator', roles: changes.roles, reason: changes.reason },
    });
    throw new AppException(
      'admin_grant_needs_operator',
      'With four-eyes re-binding, administrators are appointed by the operator: npm run admin:grant',
    );
  }
}
