import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { pino, type Logger } from 'pino';
import { collectDefaultMetrics, Counter, Gauge, Histogram, type Metric, Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import { InjectRootLogger } from '../common/logging/logger.module.js';
import type { AppConfig } from '../app/app.config.js';
import { InjectAppConfig } from '../config/config.module.js';
import type { IdentityProvider } from '../common/identity-providers.js';
import type { SealStatus } from '../common/hash-chain/log-sealer.js';
import { FixedHistogram } from './fixed-histogram.js';
import { MonitoringDatabase } from './monitoring-database.js';
import { requestPool } from '../database/sql.js';

/** Why a provider call counts as failed: no answer in time, a transport error, or a 5xx from the provider. */
export type ProviderCallError = 'timeout' | 'network' | 'too_large' | 'status_5xx';

/** Called once per provider call with its duration in seconds, and what went wrong if anything. */
export type ProviderCallObserver = (seconds: number, error: ProviderCallError | null) => void;

/** The logs chained in batches by a sealer (src/common/hash-chain/sealed-log.ts). */
export type SealedLogName = 'sermi_access_log' | 'audit_trail';

const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 200];

/**
 * The app's Prometheus metrics (prom-client), in a registry of its own per app. Label values come from small fixed
 * sets (provider, outcome code, status class, decision reason): never a subject, an account or a VIN. What runs per
 * request — responses by status class, SERMI decisions — only adds to plain numbers that are read at scrape time;
 * prom-client's label objects and hashes are paid for by logins and provider calls only, which are rarer.
 */
@Injectable()
export class Metrics {
  readonly registry = new Registry();

  private readonly responses = new Float64Array(6);
  private readonly decisionCounts: Record<string, Record<string, number>> = {};
  /** Access log records by where they were written when one instance writes for all (SERMI_LOG_WRITER_*). */
  readonly accessLogWriterRecords = { sent: 0, received: 0, written_here: 0 };
  private readonly decisionSeconds = new FixedHistogram(
    'rmi_sermi_decision_duration_seconds',
    'Time to answer a SERMI access decision (decision, log record committed, grant signed)',
    [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  );
  /** Calls per batched statement (StatementBatcher): how much batching each instance gets. */
  readonly sessionLookupBatch = new FixedHistogram(
    'rmi_session_lookup_batch_calls',
    'Requests whose session lookups one statement answered (several instances each batch their own share)',
    BATCH_BUCKETS,
  );
  readonly sermiDecisionBatch = new FixedHistogram(
    'rmi_sermi_decision_batch_calls',
    'SERMI decisions whose log records one statement wrote (several instances each batch their own share)',
    BATCH_BUCKETS,
  );
  private readonly logins = new Counter({
    name: 'rmi_logins_total',
    help: 'Finished login attempts by provider and outcome: success, linked, held (pending identity) or the failure code',
    labelNames: ['provider', 'outcome'] as const,
    registers: [],
  });
  private readonly loginSeconds = new Histogram({
    name: 'rmi_login_duration_seconds',
    help: 'Time of the request that finished a login attempt (callback or poll, provider calls included)',
    labelNames: ['provider'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [],
  });
  private readonly providerSeconds = new Histogram({
    name: 'rmi_provider_request_duration_seconds',
    help: 'Duration of calls to identity providers (discovery, keys, token, user-info, REST API)',
    labelNames: ['provider'] as const,
    buckets: [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [],
  });
  private readonly providerErrors = new Counter({
    name: 'rmi_provider_request_errors_total',
    help: 'Calls to identity providers that failed: timeout, network, too_large or status_5xx',
    labelNames: ['provider', 'reason'] as const,
    registers: [],
  });

  private readonly sealStatusReaders: Record<SealedLogName, () => SealStatus | null> = {
    sermi_access_log: () => null,
    audit_trail: () => null,
  };

  /** The sealers of the access log and the audit trail report here (their modules depend on operations). */
  watchSealStatus(log: SealedLogName, read: () => SealStatus | null): void {
    this.sealStatusReaders[log] = read;
  }

  /** The statement that counts live sessions; the sessions module, which owns the table, supplies it. */
  private liveSessionsSql: string | null = null;

  countLiveSessionsWith(sql: string): void {
    this.liveSessionsSql = sql;
  }

  private loginsKeptHere: () => number = () => 0;

  /** How many web logins LoginTransactionsService keeps in this process's memory (LoginsStartedHere). */
  countLoginsKeptHereWith(count: () => number): void {
    this.loginsKeptHere = count;
  }

  constructor(
    @InjectDataSource() dataSource: DataSource,
    monitoring: MonitoringDatabase,
    @InjectRootLogger() logger: Logger,
    @InjectAppConfig() config: AppConfig,
  ) {
    const register = (...metrics: Array<Metric | FixedHistogram>) =>
      metrics.forEach((metric) => this.registry.registerMetric(metric as Metric));
    const sealStatus = () => this.sealStatusReaders.sermi_access_log();
    const auditSealStatus = () => this.sealStatusReaders.audit_trail();
    const responses = this.responses;
    const decisionCounts = this.decisionCounts;
    const writerRecords = this.accessLogWriterRecords;
    const loginsKeptHere = () => this.loginsKeptHere();
    // Scraped before the database is open (or after it closed), the pool is not there: its gauges read 0.
    const pool = () => (dataSource.isInitialized ? requestPool(dataSource) : undefined);
    // The root logger's destination: in production the NonBlockingLogStream, which counts what it had to drop.
    const stream = (logger as unknown as Record<symbol, unknown>)[pino.symbols.streamSym] as
      { droppedLines?: number } | undefined;
    const liveSessions: Gauge = new Gauge({
      name: 'rmi_sessions_live',
      help: 'Sessions that still let their holder in (all instances: one count per scrape)',
      registers: [],
      collect: async () => {
        const value = await this.countLiveSessions(monitoring);
        if (value !== null) liveSessions.set(value);
      },
    });

    register(
      this.logins,
      this.loginSeconds,
      this.providerSeconds,
      this.providerErrors,
      this.decisionSeconds,
      this.sessionLookupBatch,
      this.sermiDecisionBatch,
      new Counter({
        name: 'rmi_http_responses_total',
        help: 'HTTP responses by status class',
        labelNames: ['status_class'] as const,
        registers: [],
        collect() {
          this.reset();
          STATUS_CLASSES.forEach((statusClass, i) => this.inc({ status_class: statusClass }, responses[i + 1]));
        },
      }),
      new Counter({
        name: 'rmi_sermi_decisions_total',
        help: 'SERMI access decisions by decision (granted, denied) and reason',
        labelNames: ['decision', 'reason'] as const,
        registers: [],
        collect() {
          this.reset();
          for (const [decision, byReason] of Object.entries(decisionCounts)) {
            for (const [reason, count] of Object.entries(byReason)) this.inc({ decision, reason }, count);
          }
        },
      }),
      new Counter({
        name: 'rmi_sermi_log_writer_records_total',
        help:
          'Access log records when one instance writes for all: sent (written by the writer for this instance), ' +
          'received (written here for other instances), written_here (the writer could not be reached or refused them)',
        labelNames: ['outcome'] as const,
        registers: [],
        collect() {
          this.reset();
          for (const [outcome, count] of Object.entries(writerRecords)) this.inc({ outcome }, count);
        },
      }),
      new Gauge({
        name: 'rmi_sermi_access_log_unsealed_records',
        help: 'Committed SERMI access log records not yet sealed into the hash chain (last measurement)',
        registers: [],
        collect() {
          const status = sealStatus();
          if (status) this.set(status.unsealedRecords);
        },
      }),
      new Gauge({
        name: 'rmi_sermi_access_log_seal_lag_seconds',
        help: 'How long the oldest unsealed SERMI access log record has waited for its seal (last measurement)',
        registers: [],
        collect() {
          const status = sealStatus();
          if (status) this.set(status.lagSeconds);
        },
      }),
      new Gauge({
        name: 'rmi_audit_unsealed_events',
        help: 'Committed audit events not yet sealed into the hash chain (last measurement)',
        registers: [],
        collect() {
          const status = auditSealStatus();
          if (status) this.set(status.unsealedRecords);
        },
      }),
      new Gauge({
        name: 'rmi_audit_seal_lag_seconds',
        help: 'How long the oldest unsealed audit event has waited for its seal (last measurement)',
        registers: [],
        collect() {
          const status = auditSealStatus();
          if (status) this.set(status.lagSeconds);
        },
      }),
      new Gauge({
        name: 'rmi_database_pool_connections',
        help: 'Connections of the request pool by state (in_use, idle)',
        labelNames: ['state'] as const,
        registers: [],
        collect() {
          const current = pool();
          if (!current) return;
          this.set({ state: 'in_use' }, current.totalCount - current.idleCount);
          this.set({ state: 'idle' }, current.idleCount);
        },
      }),
      new Gauge({
        name: 'rmi_database_pool_max_connections',
        help: 'Size of the request pool (DATABASE_POOL_SIZE)',
        registers: [],
        collect() {
          this.set(config.database.poolSize);
        },
      }),
      new Gauge({
        name: 'rmi_database_pool_waiting_requests',
        help: 'Queries waiting for a connection of the request pool',
        registers: [],
        collect() {
          this.set(pool()?.waitingCount ?? 0);
        },
      }),
      liveSessions,
      new Gauge({
        name: 'rmi_logins_kept_in_memory',
        help: 'Web logins this instance started and keeps in memory: not called back yet, or being completed here',
        registers: [],
        collect() {
          this.set(loginsKeptHere());
        },
      }),
      new Counter({
        name: 'rmi_log_lines_dropped_total',
        help: 'Log lines dropped because the log reader fell behind (the buffer was full)',
        registers: [],
        collect() {
          this.reset();
          this.inc(stream?.droppedLines ?? 0);
        },
      }),
    );
    // Process metrics (CPU, memory, event loop, GC) only when someone scrapes them: the event loop monitor and
    // the GC observer are not free.
    if (config.operations.metrics) collectDefaultMetrics({ register: this.registry });
  }

  /** Per response (the request middleware): one array write. */
  readonly countResponse = (status: number): void => {
    const statusClass = (status / 100) | 0;
    if (statusClass >= 1 && statusClass <= 5) this.responses[statusClass] += 1;
  };

  /** Per SERMI decision: two additions and a bucket; nothing is allocated once a decision/reason pair was seen. */
  decision(decision: string, reason: string, seconds: number): void {
    const byReason = (this.decisionCounts[decision] ??= {});
    byReason[reason] = (byReason[reason] ?? 0) + 1;
    this.decisionSeconds.observe(seconds);
  }

  /** A login attempt ended; `receivedAt` (performance.now() of the request's arrival) times it. */
  loginFinished(provider: IdentityProvider, outcome: string, receivedAt: number | undefined): void {
    this.logins.inc({ provider, outcome });
    if (receivedAt !== undefined) this.loginSeconds.observe({ provider }, (performance.now() - receivedAt) / 1000);
  }

  /** What a provider's HTTP client reports each call to. */
  providerCalls(provider: IdentityProvider): ProviderCallObserver {
    const labels = { provider };
    const failed = {
      timeout: { provider, reason: 'timeout' },
      network: { provider, reason: 'network' },
      too_large: { provider, reason: 'too_large' },
      status_5xx: { provider, reason: 'status_5xx' },
    };
    return (seconds, error) => {
      this.providerSeconds.observe(labels, seconds);
      if (error) this.providerErrors.inc(failed[error]);
    };
  }

  /** On the monitoring pool, never behind the request pool; the index on idle_expires_at keeps it a range scan. */
  private async countLiveSessions(monitoring: MonitoringDatabase): Promise<number | null> {
    if (!this.liveSessionsSql) return null;
    try {
      const [row] = await monitoring.query<{ live: number }>(this.liveSessionsSql);
      return row.live;
    } catch {
      // The database is away: the series keeps its last value, /ready says why.
      return null;
    }
  }
}
