import { createHmac, randomUUID } from 'node:crypto';
import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Logger } from 'pino';
import type { Agent } from 'undici';
import { DataSource } from 'typeorm';
import type { AppConfig } from '../../app/app.config.js';
import { equalInConstantTime } from '../../common/constant-time.js';
import { type OutboundAnswer, outboundAgent, sendWhole } from '../../common/http/outbound.js';
import { isDataError } from '../../common/problem/classify-unexpected.js';
import { InjectRootLogger } from '../../common/logging/logger.module.js';
import { InjectAppConfig } from '../../config/config.module.js';
import { isUniqueViolation } from '../../database/postgres-errors.js';
import { hotStatementBatcher, type StatementBatcher } from '../../database/statement-batcher.js';
import { Metrics } from '../../operations/metrics.js';
import type { AccessLogWriterSettings } from '../sermi.config.js';
import {
  type AccessDecisionRecord,
  type AccessDecisionRow,
  SermiAccessLogRepository,
} from './sermi-access-log.repository.js';

/**
 * Where the writer takes records, and the headers of a batch sent to it and of its answer. The path names the
 * protocol's version: since version 2 the writer's statement checks each record's session (senders keep no lookup of
 * their own), so during a rolling update a writer of an older version answers 404 and the sender writes itself.
 */
export const WRITER_PATH = '/sermi-log/v2/records';
export const SIGNATURE_HEADER = 'x-rmi-signature';
export const TIMESTAMP_HEADER = 'x-rmi-timestamp';
export const INSTANCE_HEADER = 'x-rmi-instance';
/** A batch signed longer ago than this (or this far ahead) is refused: a recorded batch cannot be replayed later. */
export const BATCH_MAX_AGE_MS = 60_000;
/** The writer this instance sends its records to (the settings, with a URL, and where its batches go). */
type Writer = AccessLogWriterSettings & { url: URL; batches: URL };

/** An answer holds at most a few hundred short rows. */
const MAX_ANSWER_BYTES = 1024 * 1024;

/** The writer's answer: the rows it wrote, and the records whose statement failed there (written by the sender). */
export interface WriterAnswer {
  rows: AccessDecisionRow[];
  failed: string[];
}

/** A batch's signature: the time it was sent and its bytes. */
export const signBatch = (secret: Buffer, timestamp: string, body: Buffer | string) =>
  createHmac('sha256', secret).update(`batch.${timestamp}.`).update(body).digest('base64url');

/** An answer's signature: the batch it answers, the instance answering, and its bytes. */
export const signAnswer = (secret: Buffer, batchSignature: string, instanceId: string, body: Buffer | string) =>
  createHmac('sha256', secret).update(`answer.${batchSignature}.${instanceId}.`).update(body).digest('base64url');

/** What became of one record sent to the writer: its row, or the error that refused it. */
type Outcome = { id: string; row: AccessDecisionRow } | { id: string; error: unknown };

const isRow = (value: unknown, sent: Set<string>): value is AccessDecisionRow => {
  const row = value as Partial<Record<keyof AccessDecisionRow, unknown>> | null;
  return (
    typeof row === 'object' &&
    row !== null &&
    typeof row.id === 'string' &&
    sent.has(row.id) &&
    (row.decision === 'granted' || row.decision === 'denied') &&
    typeof row.reason === 'string' &&
    typeof row.recorded_at === 'number' &&
    Number.isFinite(row.recorded_at) &&
    typeof row.title === 'string' &&
    typeof row.security_related === 'boolean'
  );
};

/**
 * Writes the SERMI access log records of this instance's decisions — batched (hotStatementBatcher), each answered
 * once its record is committed. With SERMI_LOG_WRITER_URL one instance writes the records of all: the others send
 * it their batches, and it puts them into its own statements, so that several instances cost Postgres about as many
 * record statements and commits per decision as one (docs/operations.md#one-writer-for-the-access-log). Batches and
 * answers are signed with the shared secret. An instance that cannot reach the writer, or gets no valid answer in
 * time, writes that batch itself, each record on its own terms as on one instance. Record ids are made here, so a
 * record the writer committed although its answer was lost is not written twice: the second insert fails on the key,
 * and the decision is answered from the committed record.
 */
@Injectable()
export class AccessLogWriter implements OnApplicationShutdown {
  /** Told to the writer with each batch and answered by it: an instance that is the writer stops sending to itself. */
  readonly instanceId = randomUUID();
  /** Statements of this instance: its own records (unless sent), and those other instances sent it. */
  private readonly here: StatementBatcher<AccessDecisionRecord, AccessDecisionRow | undefined>;
  /** This instance's records, batched, to the writer; null when no writer is configured. */
  private readonly toWriter: StatementBatcher<AccessDecisionRecord, Outcome | undefined> | null;
  private readonly secret: Buffer | null;
  private readonly agent: Agent | undefined;
  private writerIsHere = false;
  /** When the writer was last away: this instance writes its own records until then plus SERMI_LOG_WRITER_RETRY_MS. */
  private awaySince: number | null = null;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectAppConfig() config: AppConfig,
    private readonly accessLog: SermiAccessLogRepository,
    private readonly metrics: Metrics,
    @InjectRootLogger() private readonly logger: Logger,
  ) {
    const linger = config.database.batchLingerMs;
    const settings: AccessLogWriterSettings | null = config.sermi.log.writer;
    this.secret = settings?.secret ?? null;
    this.here = hotStatementBatcher(
      linger,
      (records) => this.accessLog.insertDecisions(this.dataSource.manager, records),
      { input: (record) => record.id, row: (row) => row.id },
      {
        onStatement: (calls) => metrics.sermiDecisionBatch.observe(calls),
        // One decision whose record Postgres refuses must not fail the others made at the same time.
        retryAlone: isDataError,
      },
    );
    const writer: Writer | null = settings?.url
      ? { ...settings, url: settings.url, batches: new URL(WRITER_PATH, settings.url) }
      : null;
    this.toWriter = writer
      ? hotStatementBatcher(linger, (records) => this.send(writer, records), {
          input: (record) => record.id,
          row: (outcome) => outcome.id,
        })
      : null;
    // Idle connections are let go before the writer's keep-alive timeout, or a proxy's idle limit between the
    // instances (60 s is common), could close them under a batch.
    if (writer) this.agent = outboundAgent(writer.answerTimeoutMs, { connections: 16, keepIdleMaxMs: 30_000 });
  }

  onApplicationShutdown(): void {
    void this.agent?.destroy().catch(() => undefined);
  }

  /**
   * Logs one decision; the row it was logged with once committed, undefined when the item is unknown or the session
   * no longer lets its holder in (the statement checks it).
   */
  async record(record: AccessDecisionRecord): Promise<AccessDecisionRow | undefined> {
    if (!this.toWriter || this.writerIsHere) return this.here.submit(record);
    const outcome = await this.toWriter.submit(record);
    if (outcome && 'error' in outcome) throw outcome.error;
    return outcome?.row;
  }

  /** Records another instance sent: each joins this instance's statements; the ids of those that failed. */
  async writeForOthers(records: AccessDecisionRecord[]): Promise<WriterAnswer> {
    const results = await Promise.allSettled(records.map((record) => this.here.submit(record)));
    const answer: WriterAnswer = { rows: [], failed: [] };
    results.forEach((result, i) => {
      if (result.status === 'rejected') answer.failed.push(records[i].id);
      else if (result.value) answer.rows.push(result.value);
    });
    this.metrics.accessLogWriterRecords.received += answer.rows.length;
    return answer;
  }

  private async send(writer: Writer, records: AccessDecisionRecord[]): Promise<Outcome[]> {
    const { url } = writer;
    if (this.awaySince !== null && performance.now() < this.awaySince + writer.retryMs) {
      return this.writeHere(records);
    }
    let answer: WriterAnswer;
    try {
      answer = await this.post(writer, records);
    } catch (error) {
      if (this.awaySince === null) {
        this.logger.warn(
          { writer: url.origin, error: error instanceof Error ? error.message : String(error) },
          'SERMI access log writer not reachable or refused the batch: this instance writes its own records for now',
        );
      }
      this.awaySince = performance.now();
      return this.writeHere(records);
    }
    if (this.awaySince !== null) this.logger.info({ writer: url.origin }, 'SERMI access log writer reachable again');
    this.awaySince = null;
    this.metrics.accessLogWriterRecords.sent += answer.rows.length;
    const outcomes: Outcome[] = answer.rows.map((row) => ({ id: row.id, row }));
    if (answer.failed.length === 0) return outcomes;
    const failed = new Set(answer.failed);
    return [...outcomes, ...(await this.writeHere(records.filter((record) => failed.has(record.id))))];
  }

  /** Each record in this instance's statements, failing alone as on one instance. */
  private async writeHere(records: AccessDecisionRecord[]): Promise<Outcome[]> {
    const outcomes = await Promise.all(records.map((record) => this.writeOneHere(record)));
    return outcomes.filter((outcome) => outcome !== null);
  }

  private async writeOneHere(record: AccessDecisionRecord): Promise<Outcome | null> {
    try {
      const row = await this.here.submit(record);
      if (!row) return null;
      this.metrics.accessLogWriterRecords.written_here += 1;
      return { id: record.id, row };
    } catch (error) {
      // The writer committed this record, but its answer never arrived: the decision is what it logged.
      const logged = isUniqueViolation(error)
        ? await this.accessLog.decisionRow(this.dataSource.manager, record.id).catch(() => undefined)
        : undefined;
      return logged ? { id: record.id, row: logged } : { id: record.id, error };
    }
  }

  /** One signed batch to the writer; its checked answer, or an error when it could not be reached or refused. */
  private async post({ batches, answerTimeoutMs }: Writer, records: AccessDecisionRecord[]): Promise<WriterAnswer> {
    const body = JSON.stringify(records);
    const timestamp = String(Date.now());
    const signature = signBatch(this.secret!, timestamp, body);
    const response = await sendWhole(this.agent!, batches, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        [SIGNATURE_HEADER]: signature,
        [TIMESTAMP_HEADER]: timestamp,
        [INSTANCE_HEADER]: this.instanceId,
      },
      body,
      timeoutMs: answerTimeoutMs,
      maxBytes: MAX_ANSWER_BYTES,
    });
    return this.readAnswer(response, signature, records);
  }

  private readAnswer(response: OutboundAnswer, batchSignature: string, records: AccessDecisionRecord[]): WriterAnswer {
    if (response.status !== 200) throw new Error(`the writer answered ${response.status}`);
    const body = response.body ?? Buffer.alloc(0);
    const instance = response.headers[INSTANCE_HEADER];
    if (
      typeof instance !== 'string' ||
      !equalInConstantTime(signAnswer(this.secret!, batchSignature, instance, body), response.headers[SIGNATURE_HEADER])
    ) {
      throw new Error('the answer is not signed with the shared secret');
    }
    const sent = new Set(records.map((record) => record.id));
    const answer = JSON.parse(body.toString('utf8')) as Partial<Record<keyof WriterAnswer, unknown>>;
    if (
      !Array.isArray(answer.rows) ||
      !answer.rows.every((row) => isRow(row, sent)) ||
      !Array.isArray(answer.failed) ||
      !answer.failed.every((id) => typeof id === 'string' && sent.has(id))
    ) {
      throw new Error('the writer answered something else than rows of the batch');
    }
    if (instance === this.instanceId && !this.writerIsHere) {
      this.writerIsHere = true;
      this.logger.info('this instance is the SERMI access log writer: it writes its records itself');
    }
    return answer as WriterAnswer;
  }
}
