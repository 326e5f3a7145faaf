import { type BeforeApplicationShutdown, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import type { AppConfig } from '../app/app.config.js';
import { LogSealer, type SealStatus } from '../common/hash-chain/log-sealer.js';
import { InjectRootLogger } from '../common/logging/logger.module.js';
import { InjectAppConfig } from '../config/config.module.js';
import { Metrics } from '../operations/metrics.js';
import { AUDIT_LOG } from './audit-events.repository.js';

/**
 * Chains the audit trail in batches, every AUDIT_SEAL_INTERVAL_MS on every instance (one at a time across them),
 * with the SERMI access log's machinery (src/common/hash-chain): events are written without any lock, and a seal
 * covers every event of the transactions that have ended. Its lag is on /ready and in the metrics.
 */
@Injectable()
export class AuditSealer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly chain: LogSealer;

  constructor(
    @InjectDataSource() dataSource: DataSource,
    @InjectAppConfig() private readonly config: AppConfig,
    @InjectRootLogger() logger: Logger,
    metrics: Metrics,
  ) {
    this.chain = new LogSealer(dataSource, AUDIT_LOG, logger, {
      name: 'Audit trail',
      warnSeconds: config.operations.auditSealing.lagWarnSeconds,
    });
    metrics.watchSealStatus('audit_trail', () => this.status);
  }

  /** The last measureLag(); null until the first scheduled run (or with scheduled sealing off). */
  get status(): SealStatus | null {
    return this.chain.status;
  }

  onApplicationBootstrap(): void {
    const { intervalMs } = this.config.operations.auditSealing;
    if (intervalMs > 0) this.chain.schedule(intervalMs);
  }

  beforeApplicationShutdown(): Promise<void> {
    return this.chain.stop();
  }

  /** Seals every event whose transaction has ended; returns how many. Concurrent calls share a run. */
  sealAll(): Promise<number> {
    return this.chain.sealAll();
  }

  measureLag(): Promise<SealStatus> {
    return this.chain.measureLag();
  }
}
