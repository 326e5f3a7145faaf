import type { DataSource } from 'typeorm';
import { AUDIT_EVENT } from '../audit/audit-event-types.js';
import { AuditService } from '../audit/audit.service.js';
import { lockAccountAdministration } from './account-administration-lock.js';
import type { AccountRole } from './account.entity.js';
import { AccountsRepository } from './accounts.repository.js';

export type GrantAdminResult = { outcome: 'granted' | 'already_admin'; accountId: string } | { outcome: 'not_found' };

/**
 * Makes an account an administrator from the command line: how the very first admin is appointed, since
 * there is deliberately no HTTP route for it. The account is found by id or by an exact provider subject
 * (what an operator can read off the person's login), and the change is audited as a system action.
 */
export async function grantAdminRole(
  dataSource: DataSource,
  accountIdOrSubject: string,
  operator: string,
): Promise<GrantAdminResult> {
  return dataSource.transaction(async (manager) => {
    await lockAccountAdministration(manager);
    const accounts = new AccountsRepository();
    const rows = await accounts.lockByIdOrSubject(manager, accountIdOrSubject);
    if (rows.length !== 1) return { outcome: 'not_found' };
    const [account] = rows;
    if (account.roles.includes('admin')) return { outcome: 'already_admin', accountId: account.id };
    const roles: AccountRole[] = [...account.roles, 'admin' as const].sort();
    await accounts.setStatusAndRoles(manager, account.id, account.status, roles);
    await new AuditService(dataSource).record(
      {
        type: AUDIT_EVENT.accountUpdated,
        actor: { type: 'system' },
        requestId: null,
        subjectAccountId: account.id,
        details: {
          before: { status: account.status, roles: account.roles },
          after: { status: account.status, roles },
          via: 'cli',
          operator,
        },
      },
      manager,
    );
    return { outcome: 'granted', accountId: account.id };
  });
}
