import { Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service.js';
import { sqlRows } from '../database/sql.js';
import { type ClosedRebindRequest, CLOSED_COLUMNS, recordClosedRequests } from './rebind.service.js';

const INTERVAL_MS = 10 * 60_000;

/**
 * Pending identities carry everything the provider said (raw claims: names, UIDs) for the reviewer. Once one is
 * resolved or past its expiry nobody needs that any more: expired ones are marked `expired`, and the raw claims of
 * every closed one are dropped. The row itself stays (re-bind requests and audit events refer to it). Re-bind
 * requests nobody decided in time are closed as `expired`, each with its audit event.
 */
@Injectable()
export class PendingIdentityHousekeeping implements OnModuleInit, OnModuleDestroy {
  private timer?: NodeJS.Timeout;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly audit: AuditService,
  ) {}

  onModuleInit() {
    this.timer = setInterval(() => void this.run().catch(() => undefined), INTERVAL_MS);
    this.timer.unref();
  }

  onModuleDestroy() {
    clearInterval(this.timer);
  }

  async run(): Promise<{ expired: number; cleared: number; requestsExpired: number }> {
    const requestsExpired = await this.dataSource.transaction(async (manager) => {
      const closed = await sqlRows<ClosedRebindRequest>(
        manager,
        `UPDATE rebind_requests SET status = 'expired', decided_at = now()
          WHERE status = 'requested' AND expires_at <= now() RETURNING ${CLOSED_COLUMNS}`,
      );
      await recordClosedRequests(
        this.audit,
        manager,
        closed,
        { actor: { type: 'system' }, requestId: null },
        'ttl',
        'housekeeping',
      );
      return closed.length;
    });
    const expired = await sqlRows<{ id: string }>(
      this.dataSource.manager,
      `UPDATE pending_identities SET resolved_at = now(), resolution = 'expired', raw_claims = '{}'
        WHERE resolved_at IS NULL AND expires_at <= now() RETURNING id`,
    );
    const cleared = await sqlRows<{ id: string }>(
      this.dataSource.manager,
      `UPDATE pending_identities SET raw_claims = '{}'
        WHERE resolved_at IS NOT NULL AND raw_claims <> '{}'::jsonb RETURNING id`,
    );
    return { expired: expired.length, cleared: cleared.length, requestsExpired };
  }
}
