/** Audit event types written by the foundation. Provider and SERMI modules add their own. */
export const AUDIT_EVENT = {
  accountUpdated: 'account.updated',
  accountUpdateRefused: 'account.update_refused',
  sessionRevoked: 'session.revoked',
  sessionsRevokedForAccount: 'session.revoked_for_account',
  sessionsPurged: 'session.purged',
  auditChainVerified: 'audit.chain_verified',
  auditEventsViewed: 'audit.events_viewed',
  accountViewed: 'account.viewed',
  accountsSearched: 'account.searched',
  rmiItemCreated: 'rmi_item.created',
  rmiItemUpdated: 'rmi_item.updated',
  rmiItemsImported: 'rmi_items.imported',
  rmiItemsSeeded: 'rmi_items.seeded',
  sermiAccessLogViewed: 'sermi.access_log_viewed',
  sermiAccessLogExported: 'sermi.access_log_exported',
} as const;

export type Actor = { type: 'account'; accountId: string } | { type: 'system' } | { type: 'anonymous' };

export interface AuditEventInput {
  type: string;
  actor: Actor;
  subjectAccountId?: string | null;
  details?: Record<string, unknown>;
  /** The request that caused the event; null for the system's own work (timers, scripts). */
  requestId: string | null;
}

/** Who acted, and in which request: the part of an audit event that callers pass down to the services. */
export type AuditOrigin = Pick<AuditEventInput, 'actor' | 'requestId'>;
