import type { DataSource } from 'typeorm';
import { AUDIT_EVENT } from '../audit/audit-event-types.js';
import { AuditService } from '../audit/audit.service.js';
import { sqlRows } from '../database/sql.js';
import { lockAccountAdministration } from './account-administration-lock.js';

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
    const rows = await sqlRows<{ id: string; roles: string[]; status: string }>(
      manager,
      `SELECT a.id, a.roles, a.status FROM accounts a
        WHERE a.id::text = $1 OR a.id IN (SELECT account_id FROM identity_links WHERE subject = $1)
        FOR UPDATE`,
      [accountIdOrSubject],
    );
    if (rows.length !== 1) return { outcome: 'not_found' };
    const [account] = rows;
    if (account.roles.includes('admin')) return { outcome: 'already_admin', accountId: account.id };
    const roles = [...account.roles, 'admin'].sort();
    await manager.query(`UPDATE accounts SET roles = $2, updated_at = now() WHERE id = $1`, [account.id, roles]);
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
