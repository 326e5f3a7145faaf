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
import { sqlRows } from '../../database/sql.js';
import { appendSeal, chainEnd, nextSealEnd, SEAL_LOCK } from './log-chain.js';

/**
 * The sealing horizon: the oldest transaction still running that may write to this database, or the snapshot's xmax
 * when none does. A snapshot's xmin is the oldest transaction of the whole server: one long transaction in another
 * database of it would stop sealing here, although it cannot write these records. So every running transaction of
 * the snapshot is looked up (its lock on its own id names its backend, pg_stat_activity that backend's database; both
 * readable by any role) and those of other databases are left out. A transaction that cannot be placed — it has just
 * ended, or is prepared — counts, which can only hold sealing back a moment, never let a record in behind a seal.
 */
const SEAL_HORIZON_SQL = `
  WITH snapshot AS MATERIALIZED (SELECT pg_current_snapshot() AS s),
       running AS MATERIALIZED (SELECT pg_snapshot_xip(s) AS xid FROM snapshot),
       elsewhere AS (
         SELECT r.xid FROM running r
           JOIN pg_locks l ON l.locktype = 'transactionid' AND l.mode = 'ExclusiveLock' AND l.granted
                          AND l.transactionid = r.xid::xid
           JOIN pg_stat_activity a ON a.pid = l.pid
          WHERE a.datid <> (SELECT oid FROM pg_database WHERE datname = current_database()))
  SELECT least((SELECT pg_snapshot_xmax(s) FROM snapshot),
               (SELECT min(xid) FROM running WHERE xid NOT IN (SELECT xid FROM elsewhere)))::text AS horizon,
         (SELECT pg_snapshot_xmin(s) FROM snapshot)::text AS server_horizon`;

/** How far behind sealing is, as last measured. */
export interface AccessLogSealStatus {
  /** Committed records not yet covered by a seal (counted up to UNSEALED_COUNT_CAP). */
  unsealedRecords: number;
  /** How long the oldest of them has waited. */
  lagSeconds: number;
  /** Longer than SERMI_LOG_SEAL_LAG_WARN_SECONDS. */
  lagging: boolean;
  measuredAt: Date;
}

/** Unsealed records are counted up to this many: counting millions of them every second would be a load itself. */
const UNSEALED_COUNT_CAP = 100_000;

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
  private timers: NodeJS.Timeout[] = [];
  /** The scheduled runs under way, by task: a run still going when the next tick comes is not started twice. */
  private readonly running = new Map<string, Promise<unknown>>();
  private sealing: Promise<number> | null = null;
  /** The last horizons seen (server-wide and this database's), for the lag report. */
  private horizons: { horizon: string; serverHorizon: string } | null = null;
  /** The last measureLag(); null until the first scheduled run (or with sealing off). */
  status: AccessLogSealStatus | null = null;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    @InjectAppConfig() private readonly config: AppConfig,
    @InjectRootLogger() private readonly logger: Logger,
    metrics: Metrics,
  ) {
    metrics.watchSealStatus(() => this.status);
  }

  onApplicationBootstrap(): void {
    const { sealIntervalMs, purgeIntervalSeconds } = this.config.sermi.log;
    const every = (ms: number, task: () => Promise<unknown>, what: string) => {
      const timer = setInterval(() => {
        if (this.running.has(what)) return;
        const run = task()
          .catch((error: unknown) => logFailure(this.logger, error, {}, `SERMI access log ${what} failed`))
          .finally(() => this.running.delete(what));
        this.running.set(what, run);
      }, ms);
      timer.unref();
      this.timers.push(timer);
    };
    if (sealIntervalMs > 0) every(sealIntervalMs, () => this.sealAndMeasure(), 'sealing');
    if (purgeIntervalSeconds > 0) every(purgeIntervalSeconds * 1000, () => this.purgeExpired(), 'purge');
  }

  /** Before the pool closes: no new runs, and the one under way finishes (a seal is one short transaction). */
  async beforeApplicationShutdown(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    await Promise.all(this.running.values());
  }

  /** The scheduled run: seal what can be sealed, then see how far behind sealing is (on every instance). */
  private async sealAndMeasure(): Promise<void> {
    try {
      await this.sealAll();
    } finally {
      await this.measureLag();
    }
  }

  /**
   * How many records wait for a seal and how long the oldest has waited; kept for /ready and the metrics. Past
   * SERMI_LOG_SEAL_LAG_WARN_SECONDS one warning says so (and what holds the horizon), and one line when it is over.
   */
  async measureLag(): Promise<AccessLogSealStatus> {
    const manager = this.dataSource.manager;
    const end = await chainEnd(manager);
    const [row] = await sqlRows<{ unsealed: number; lag_seconds: number | null }>(
      manager,
      `SELECT (SELECT count(*)::int FROM (SELECT 1 FROM sermi_access_log WHERE txid >= $1::bigint
                                          LIMIT ${UNSEALED_COUNT_CAP}) capped) AS unsealed,
              (SELECT greatest(0, extract(epoch FROM clock_timestamp() - recorded_at))::float8 FROM sermi_access_log
                WHERE txid >= $1::bigint ORDER BY txid, id LIMIT 1) AS lag_seconds`,
      [end.toTxid],
    );
    const lagSeconds = Math.round((row.lag_seconds ?? 0) * 1000) / 1000;
    const warnSeconds = this.config.operations.sealLagWarnSeconds;
    const status: AccessLogSealStatus = {
      unsealedRecords: row.unsealed,
      lagSeconds,
      lagging: lagSeconds > warnSeconds,
      measuredAt: new Date(),
    };
    const wasLagging = this.status?.lagging ?? false;
    this.status = status;
    if (status.lagging && !wasLagging) {
      this.logger.warn(
        {
          unsealedRecords: status.unsealedRecords,
          lagSeconds,
          thresholdSeconds: warnSeconds,
          sealedUpToTxid: end.toTxid,
          ...this.horizons,
        },
        'SERMI access log sealing is behind: a long transaction in this database holds it back, or sealing fails',
      );
    } else if (!status.lagging && wasLagging) {
      this.logger.info({ unsealedRecords: status.unsealedRecords, lagSeconds }, 'SERMI access log sealing caught up');
    }
    return status;
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
      const [horizons] = await sqlRows<{ horizon: string; server_horizon: string }>(manager, SEAL_HORIZON_SQL);
      const { horizon } = horizons;
      this.horizons = { horizon, serverHorizon: horizons.server_horizon };
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
