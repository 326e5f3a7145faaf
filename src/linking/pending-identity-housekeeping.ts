import { Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { sqlRows } from '../database/sql.js';

const INTERVAL_MS = 10 * 60_000;

/**
 * Pending identities carry everything the provider said (raw claims: names, UIDs) for the reviewer. Once one is
 * resolved or past its expiry nobody needs that any more: expired ones are marked `expired`, and the raw claims of
 * every closed one are dropped. The row itself stays (re-bind requests and audit events refer to it).
 */
@Injectable()
export class PendingIdentityHousekeeping implements OnModuleInit, OnModuleDestroy {
  private timer?: NodeJS.Timeout;

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  onModuleInit() {
    this.timer = setInterval(() => void this.run().catch(() => undefined), INTERVAL_MS);
    this.timer.unref();
  }

  onModuleDestroy() {
    clearInterval(this.timer);
  }

  async run(): Promise<{ expired: number; cleared: number }> {
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
    return { expired: expired.length, cleared: cleared.length };
  }
}
