import { Metrics } from '../../operations/metrics.js';
import { type BeforeApplicationShutdown, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { AuditService } from '../../audit/audit.service.js';
import { logFailure } from '../../common/logging/fault-log.js';
import { InjectRootLogger } from '../../common/logging/logger.module.js';
import type { AppConfig } from '../../app/app.config.js';
import { InjectAppConfig } from '../../config/config.module.js';
import { LogSealer, type SealStatus } from '../../common/hash-chain/log-sealer.js';
import { sqlRows } from '../../database/sql.js';
import { SERMI_LOG } from './log-chain.js';

/** How far behind sealing is, as last measured (warning threshold: SERMI_LOG_SEAL_LAG_WARN_SECONDS). */
export type AccessLogSealStatus = SealStatus;

/**
 * Chains the SERMI access log without a global write lock: records are inserted freely, and this sealer
 * appends them to the hash chain in batches. A batch ("seal") covers every record whose writing transaction id
 * lies in [from_txid, to_txid), where to_txid is the oldest transaction of this database still running when the
 * seal is made (SEAL_HORIZON_SQL) — so every transaction in the range has ended, and no record can ever appear in a
 * sealed range later. Nothing is skipped under concurrency, and one sealer at a time runs (an advisory lock), on
 * any number of instances.
 */
@Injectable()
export class SermiLogSealer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly chain: LogSealer;
  private purgeTimer: NodeJS.Timeout | null = null;
  private purging: Promise<unknown> | null = null;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    @InjectAppConfig() private readonly config: AppConfig,
    @InjectRootLogger() private readonly logger: Logger,
    metrics: Metrics,
  ) {
    this.chain = new LogSealer(dataSource, SERMI_LOG, logger, {
      name: 'SERMI access log',
      warnSeconds: config.operations.sealLagWarnSeconds,
    });
    metrics.watchSealStatus('sermi_access_log', () => this.status);
  }

  /** The last measureLag(); null until the first scheduled run (or with sealing off). */
  get status(): AccessLogSealStatus | null {
    return this.chain.status;
  }

  onApplicationBootstrap(): void {
    const { sealIntervalMs, purgeIntervalSeconds } = this.config.sermi.log;
    if (sealIntervalMs > 0) this.chain.schedule(sealIntervalMs);
    if (purgeIntervalSeconds > 0) {
      this.purgeTimer = setInterval(() => {
        if (this.purging) return;
        this.purging = this.purgeExpired()
          .catch((error: unknown) => logFailure(this.logger, error, {}, 'SERMI access log purge failed'))
          .finally(() => {
            this.purging = null;
          });
      }, purgeIntervalSeconds * 1000);
      this.purgeTimer.unref();
    }
  }

  /** Before the pool closes: no new runs, and the ones under way finish (a seal is one short transaction). */
  async beforeApplicationShutdown(): Promise<void> {
    if (this.purgeTimer) clearInterval(this.purgeTimer);
    this.purgeTimer = null;
    await Promise.all([this.chain.stop(), this.purging]);
  }

  /** How many records wait for a seal and how long the oldest has waited; kept for /ready and the metrics. */
  measureLag(): Promise<AccessLogSealStatus> {
    return this.chain.measureLag();
  }

  /** Seals everything that can be sealed now; returns the number of records sealed. Concurrent calls share a run. */
  sealAll(): Promise<number> {
    return this.chain.sealAll();
  }

  /**
   * Removes whole seals whose records are all older than `before`, with their records, through the database's
   * only delete path (sermi_log_purge), and audits it. Seals first, so nothing unsealed is ever purged.
   */
  async purge(before: Date): Promise<{ sealsRemoved: number; recordsRemoved: number }> {
    await this.sealAll();
    return this.dataSource.transaction(async (manager) => {
      const [row] = await sqlRows<{ seals_removed: number; records_removed: string; anchor_seal_seq: string | null }>(
        manager,
        `SELECT seals_removed, records_removed, anchor_seal_seq FROM sermi_log_purge($1)`,
        [before],
      );
      const removed = { sealsRemoved: row.seals_removed, recordsRemoved: Number(row.records_removed) };
      if (removed.sealsRemoved > 0) {
        await this.audit.record(
          {
            type: 'sermi.access_log_purged',
            actor: { type: 'system' },
            requestId: null,
            details: { before: before.toISOString(), ...removed, anchorSealSeq: row.anchor_seal_seq },
          },
          manager,
        );
      }
      return removed;
    });
  }

  /** The scheduled purge: everything older than SERMI_LOG_RETENTION_DAYS. */
  purgeExpired(now = new Date()): Promise<{ sealsRemoved: number; recordsRemoved: number }> {
    return this.purge(new Date(now.getTime() - this.config.sermi.log.retentionDays * 24 * 3600 * 1000));
  }
}
