import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import { logFailure } from '../logging/fault-log.js';
import { type Horizons, sealAll, type SealedLog, unsealedTail } from './sealed-log.js';

/** How far behind sealing is, as last measured. */
export interface SealStatus {
  /** Committed records not yet covered by a seal (counted up to UNSEALED_COUNT_CAP). */
  unsealedRecords: number;
  /** How long the oldest of them has waited. */
  lagSeconds: number;
  /** Longer than the log's warning threshold. */
  lagging: boolean;
  measuredAt: Date;
}

/**
 * Seals one SealedLog and keeps its lag status for readiness and metrics: the part every sealed log's scheduled
 * sealer shares (one run at a time in this process, one sealer at a time across instances, a warning when sealing
 * falls behind and a line when it catches up).
 */
export class LogSealer {
  private sealing: Promise<number> | null = null;
  /** The run that follows the one under way, shared by the calls made during it. */
  private nextRun: Promise<number> | null = null;
  /** The last horizons seen (server-wide and this database's), for the lag report. */
  private horizons: Horizons | null = null;
  /** The last measureLag(); null until the first scheduled run (or with sealing off). */
  status: SealStatus | null = null;

  constructor(
    private readonly dataSource: DataSource,
    private readonly log: SealedLog,
    private readonly logger: Logger,
    private readonly options: { name: string; warnSeconds: number },
  ) {}

  private timer: NodeJS.Timeout | null = null;
  private scheduled: Promise<void> | null = null;

  /** Seals and measures every `intervalMs`; a run still going when the next tick comes is not started twice. */
  schedule(intervalMs: number): void {
    this.timer = setInterval(() => {
      if (this.scheduled) return;
      this.scheduled = this.sealAndMeasure()
        .catch((error: unknown) => logFailure(this.logger, error, {}, `${this.options.name} sealing failed`))
        .finally(() => {
          this.scheduled = null;
        });
    }, intervalMs);
    this.timer.unref();
  }

  /** No new runs; the one under way finishes (a seal is one short transaction). */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.scheduled;
  }

  /**
   * Seals everything that can be sealed now; returns the number of records sealed by the run that covered the call.
   * A run already under way may have fixed its horizon before the caller's records committed, so a call made during
   * one waits for it and shares the next (calls made meanwhile share that one too).
   */
  sealAll(): Promise<number> {
    if (!this.sealing) return this.startRun();
    this.nextRun ??= this.sealing
      .catch(() => 0)
      .then(() => {
        this.nextRun = null;
        return this.sealing ?? this.startRun();
      });
    return this.nextRun;
  }

  private startRun(): Promise<number> {
    const run = sealAll(this.dataSource, this.log, (progress) => {
      if (progress.horizons) this.horizons = progress.horizons;
    }).finally(() => {
      this.sealing = null;
    });
    this.sealing = run;
    return run;
  }

  /** The scheduled run: seal what can be sealed, then see how far behind sealing is (on every instance). */
  async sealAndMeasure(): Promise<void> {
    try {
      await this.sealAll();
    } finally {
      await this.measureLag();
    }
  }

  /**
   * How many records wait for a seal and how long the oldest has waited; kept for /ready and the metrics. Past the
   * warning threshold one warning says so (and what holds the horizon), and one line when it is over.
   */
  async measureLag(): Promise<SealStatus> {
    const tail = await unsealedTail(this.dataSource.manager, this.log);
    const { warnSeconds, name } = this.options;
    const status: SealStatus = {
      unsealedRecords: tail.unsealed,
      lagSeconds: tail.lagSeconds,
      lagging: tail.lagSeconds > warnSeconds,
      measuredAt: new Date(),
    };
    const wasLagging = this.status?.lagging ?? false;
    this.status = status;
    if (status.lagging && !wasLagging) {
      this.logger.warn(
        {
          unsealedRecords: status.unsealedRecords,
          lagSeconds: status.lagSeconds,
          thresholdSeconds: warnSeconds,
          sealedUpToTxid: tail.sealedUpToTxid,
          ...this.horizons,
        },
        `${name} sealing is behind: a long transaction in this database holds it back, or sealing fails`,
      );
    } else if (!status.lagging && wasLagging) {
      this.logger.info(
        { unsealedRecords: status.unsealedRecords, lagSeconds: status.lagSeconds },
        `${name} sealing caught up`,
      );
    }
    return status;
  }
}
