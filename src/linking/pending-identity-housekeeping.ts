import { Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service.js';
import { PendingIdentitiesRepository } from '../pending-identities/pending-identities.repository.js';
import { RebindRequestsRepository } from './rebind-requests.repository.js';
import { recordClosedRequests } from './rebind.service.js';

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
    private readonly pending: PendingIdentitiesRepository,
    private readonly requests: RebindRequestsRepository,
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
      const closed = await this.requests.expireOverdue(manager);
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
    const expired = await this.pending.expireOverdue(this.dataSource.manager);
    const cleared = await this.pending.clearClosedClaims(this.dataSource.manager);
    return { expired, cleared, requestsExpired };
  }
}
