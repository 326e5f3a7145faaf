import { type BeforeApplicationShutdown, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { AUDIT_EVENT } from '../audit/audit-event-types.js';
import { AuditService } from '../audit/audit.service.js';
import { logFailure } from '../common/logging/fault-log.js';
import { InjectRootLogger } from '../common/logging/logger.module.js';
import type { AppConfig } from '../app/app.config.js';
import { InjectAppConfig } from '../config/config.module.js';
import { SessionsRepository } from './sessions.repository.js';

const PURGE_BATCH = 1000;
/** A run stops after this many batches; the next run goes on (bounded work per run, whatever the backlog). */
const PURGE_MAX_BATCHES = 100;

/**
 * Deletes sessions that ended more than SESSION_RETENTION_DAYS ago. A session ends at its idle expiry at the latest
 * (revoked or not, the idle expiry is never after the absolute one), so that is what the retention counts from: a
 * revoked session is kept at most one idle timeout longer than strictly needed, and one index serves the purge.
 *
 * Every instance runs it; each bounded batch is one statement that holds a transaction-scoped advisory lock, so an
 * instance that finds another one purging skips its run instead of competing for the same rows. What refers to a
 * session keeps working without it: the SERMI access log and the chain bindings keep the session id as a plain value
 * (no foreign key; their hash chains cover it), audit events keep it in their details, and a pending identity held
 * for a session loses only that hint (ON DELETE SET NULL; the session was over anyway).
 */
@Injectable()
export class SessionRetention implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private running: Promise<unknown> | null = null;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    @InjectAppConfig() private readonly config: AppConfig,
    @InjectRootLogger() private readonly logger: Logger,
    private readonly sessions: SessionsRepository,
  ) {}

  onApplicationBootstrap(): void {
    const { purgeIntervalSeconds } = this.config.operations.sessionRetention;
    if (purgeIntervalSeconds === 0) return;
    this.timer = setInterval(() => {
      this.running ??= this.purge()
        .catch((error: unknown) => logFailure(this.logger, error, {}, 'purging ended sessions failed'))
        .finally(() => {
          this.running = null;
        });
    }, purgeIntervalSeconds * 1000);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** One run: deletes in batches until less than a batch is left, another instance purges, or the run is long enough. */
  async purge(): Promise<{ deleted: number; skipped: boolean }> {
    const { retentionDays } = this.config.operations.sessionRetention;
    let deleted = 0;
    let skipped = false;
    for (let batch = 0; batch < PURGE_MAX_BATCHES; batch += 1) {
      const row = await this.sessions.purgeBatch(this.dataSource.manager, retentionDays, PURGE_BATCH);
      if (!row.locked) {
        skipped = true;
        break;
      }
      deleted += row.deleted;
      if (row.deleted < PURGE_BATCH) break;
    }
    if (deleted > 0) {
      await this.audit.record({
        type: AUDIT_EVENT.sessionsPurged,
        actor: { type: 'system' },
        requestId: null,
        details: { deleted, retentionDays },
      });
    }
    return { deleted, skipped };
  }
}
