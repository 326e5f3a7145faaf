import { Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { AuditService } from '../../audit/audit.service.js';
import { InjectRootLogger } from '../../common/logging/logger.module.js';
import type { AppConfig } from '../../config/app.config.js';
import { InjectAppConfig } from '../../config/config.module.js';
import { sqlRows } from '../../database/sql.js';
import { appendSeal, chainEnd, nextSealEnd, SEAL_LOCK } from './log-chain.js';

/**
 * Chains the SERMI access log without a global write lock: records are inserted freely, and this sealer
 * appends them to the hash chain in batches. A batch ("seal") covers every record whose writing transaction id
 * lies in [from_txid, to_txid), where to_txid is the oldest transaction still running when the seal is made —
 * so every transaction in the range has ended, and no record can ever appear in a sealed range later. Nothing is
 * skipped under concurrency, and one sealer at a time runs (an advisory lock), on any number of instances.
 */
@Injectable()
export class SermiLogSealer implements OnApplicationBootstrap, OnApplicationShutdown {
  private timers: NodeJS.Timeout[] = [];
  private sealing: Promise<number> | null = null;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    @InjectAppConfig() private readonly config: AppConfig,
    @InjectRootLogger() private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    const { sealIntervalMs, purgeIntervalSeconds } = this.config.sermi.log;
    const every = (ms: number, task: () => Promise<unknown>, what: string) => {
      const timer = setInterval(() => {
        task().catch((error: unknown) => this.logger.error({ err: error }, `SERMI access log ${what} failed`));
      }, ms);
      timer.unref();
      this.timers.push(timer);
    };
    if (sealIntervalMs > 0) every(sealIntervalMs, () => this.sealAll(), 'sealing');
    if (purgeIntervalSeconds > 0) every(purgeIntervalSeconds * 1000, () => this.purgeExpired(), 'purge');
  }

  onApplicationShutdown(): void {
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
  }

  /** Seals everything that can be sealed now; returns the number of records sealed. Concurrent calls share a run. */
  sealAll(): Promise<number> {
    this.sealing ??= (async () => {
      let total = 0;
      for (;;) {
        const { sealed, reachedHorizon } = await this.sealOnce();
        total += sealed;
        if (sealed === 0 || reachedHorizon) return total;
      }
    })().finally(() => {
      this.sealing = null;
    });
    return this.sealing;
  }

  /** One seal; `reachedHorizon` is false when it was cut short (MAX_RECORDS_PER_SEAL) and more can be sealed now. */
  private sealOnce(): Promise<{ sealed: number; reachedHorizon: boolean }> {
    return this.dataSource.transaction(async (manager) => {
      const [{ locked }] = await sqlRows<{ locked: boolean }>(
        manager,
        `SELECT pg_try_advisory_xact_lock(${SEAL_LOCK}) AS locked`,
      );
      const nothing = { sealed: 0, reachedHorizon: true };
      if (!locked) return nothing;
      const [{ horizon }] = await sqlRows<{ horizon: string }>(
        manager,
        `SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS horizon`,
      );
      const previous = await chainEnd(manager);
      if (BigInt(previous.toTxid) >= BigInt(horizon)) return nothing;
      const toTxid = await nextSealEnd(manager, previous.toTxid, horizon);
      if (toTxid === null) return nothing;
      const sealed = await appendSeal(manager, {
        seq: (BigInt(previous.seq) + 1n).toString(),
        fromTxid: previous.toTxid,
        toTxid,
        prevHash: previous.hash,
      });
      return { sealed, reachedHorizon: toTxid === horizon };
    });
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
