import { createHmac, randomUUID } from 'node:crypto';
import { Agent as HttpAgent, type IncomingMessage, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import type { AppConfig } from '../../app/app.config.js';
import { isDataError } from '../../common/problem/classify-unexpected.js';
import { InjectRootLogger } from '../../common/logging/logger.module.js';
import { InjectAppConfig } from '../../config/config.module.js';
import { hotStatementBatcher, type StatementBatcher } from '../../database/statement-batcher.js';
import { Metrics } from '../../operations/metrics.js';
import type { AccessLogWriterSettings } from '../sermi.config.js';
import {
  type AccessDecisionRecord,
  type AccessDecisionRow,
  SermiAccessLogRepository,
} from './sermi-access-log.repository.js';

/** Where the writer takes records, and the headers of a batch sent to it. */
export const WRITER_PATH = '/sermi-log/records';
export const SIGNATURE_HEADER = 'x-rmi-signature';
export const INSTANCE_HEADER = 'x-rmi-instance';
/** After the writer could not be reached, this instance writes its own records this long before it tries again. */
export const WRITER_RETRY_MS = 5000;
/** A writer silent this long is taken as unreachable (its answers normally take a few milliseconds). */
export const WRITER_ANSWER_TIMEOUT_MS = 2000;

/** The writer's answer: the rows it wrote, and the records whose statement failed there (retried here). */
export interface WriterAnswer {
  rows: AccessDecisionRow[];
  failed: string[];
}

export const signBatch = (secret: Buffer, body: string) =>
  createHmac('sha256', secret).update(body).digest('base64url');

const KEYS = {
  input: (record: AccessDecisionRecord) => record.id,
  row: (row: AccessDecisionRow) => row.id,
};

/**
 * Writes the SERMI access log records of this instance's decisions — batched (hotStatementBatcher), each answered
 * once its record is committed. With SERMI_LOG_WRITER_URL one instance writes the records of all: the others send
 * it their batches, and it puts them into its own statements, so that several instances cost Postgres about as many
 * record statements and commits per decision as one (docs/operations.md#one-writer-for-the-access-log). An instance
 * that cannot reach the writer, or whose batch it refuses, writes that batch itself; the records' ids are made here,
 * so a batch the writer did commit although its answer was lost cannot be written twice (the second insert fails on
 * the key, and those decisions answer 409, try again).
 */
@Injectable()
export class AccessLogWriter implements OnApplicationShutdown {
  /** Told to the writer with each batch and answered by it: an instance that is the writer stops sending to itself. */
  readonly instanceId = randomUUID();
  /** Statements of this instance: its own records (unless sent), and those other instances sent it. */
  private readonly here: StatementBatcher<AccessDecisionRecord, AccessDecisionRow | undefined>;
  /** This instance's records, batched, to the writer; null when no writer is configured. */
  private readonly toWriter: StatementBatcher<AccessDecisionRecord, AccessDecisionRow | undefined> | null;
  private readonly settings: AccessLogWriterSettings | null;
  private readonly agent: HttpAgent | HttpsAgent | undefined;
  private writerIsHere = false;
  private sendAgainAt = 0;
  private writerUnreachable = false;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectAppConfig() config: AppConfig,
    private readonly accessLog: SermiAccessLogRepository,
    private readonly metrics: Metrics,
    @InjectRootLogger() private readonly logger: Logger,
  ) {
    const linger = config.database.batchLingerMs;
    this.settings = config.sermi.log.writer;
    this.here = hotStatementBatcher(linger, (records) => this.insert(records), KEYS, {
      onStatement: (calls) => metrics.sermiDecisionBatch.observe(calls),
      // One decision whose record Postgres refuses must not fail the others made at the same time.
      retryAlone: isDataError,
    });
    const url = this.settings?.url;
    this.toWriter = url
      ? hotStatementBatcher(linger, (records) => this.send(url, records), KEYS, {
          onStatement: () => undefined,
          retryAlone: isDataError,
        })
      : null;
    if (url) {
      this.agent = url.protocol === 'https:' ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
    }
  }

  onApplicationShutdown(): void {
    this.agent?.destroy();
  }

  /** Logs one decision; the row it was logged with once committed, undefined when the item is unknown. */
  record(record: AccessDecisionRecord): Promise<AccessDecisionRow | undefined> {
    return this.toWriter && !this.writerIsHere ? this.toWriter.submit(record) : this.here.submit(record);
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

  private insert(records: AccessDecisionRecord[]): Promise<AccessDecisionRow[]> {
    return this.accessLog.insertDecisions(this.dataSource.manager, records);
  }

  private async writeHere(records: AccessDecisionRecord[]): Promise<AccessDecisionRow[]> {
    const rows = await this.insert(records);
    this.metrics.accessLogWriterRecords.written_here += rows.length;
    return rows;
  }

  private async send(url: URL, records: AccessDecisionRecord[]): Promise<AccessDecisionRow[]> {
    if (performance.now() < this.sendAgainAt) return this.writeHere(records);
    let answer: WriterAnswer;
    try {
      answer = await this.post(url, JSON.stringify(records));
    } catch (error) {
      this.sendAgainAt = performance.now() + WRITER_RETRY_MS;
      if (!this.writerUnreachable) {
        this.logger.warn(
          { writer: url.origin, error: error instanceof Error ? error.message : String(error) },
          'SERMI access log writer not reachable: this instance writes its own records for now',
        );
      }
      this.writerUnreachable = true;
      return this.writeHere(records);
    }
    if (this.writerUnreachable) this.logger.info({ writer: url.origin }, 'SERMI access log writer reachable again');
    this.writerUnreachable = false;
    this.metrics.accessLogWriterRecords.sent += answer.rows.length;
    if (answer.failed.length === 0) return answer.rows;
    const failed = new Set(answer.failed);
    return [...answer.rows, ...(await this.writeHere(records.filter((record) => failed.has(record.id))))];
  }

  /** One signed batch to the writer; its answer, or an error when it could not be reached or refused the batch. */
  private post(url: URL, body: string): Promise<WriterAnswer> {
    const target = new URL(WRITER_PATH, url);
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const request = send(
        target,
        {
          method: 'POST',
          agent: this.agent,
          headers: {
            'Content-Type': 'application/json',
            [SIGNATURE_HEADER]: signBatch(this.settings!.secret, body),
            [INSTANCE_HEADER]: this.instanceId,
          },
        },
        (response) => {
          readAnswer(response).then((answer) => {
            if (response.headers[INSTANCE_HEADER] === this.instanceId && !this.writerIsHere) {
              this.writerIsHere = true;
              this.logger.info('this instance is the SERMI access log writer: it writes its records itself');
            }
            resolve(answer);
          }, reject);
        },
      );
      request.setTimeout(WRITER_ANSWER_TIMEOUT_MS, () => request.destroy(new Error('no answer in time')));
      request.on('error', reject);
      request.end(body);
    });
  }
}

async function readAnswer(response: IncomingMessage): Promise<WriterAnswer> {
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk as Buffer);
  if (response.statusCode !== 200) throw new Error(`the writer answered ${response.statusCode}`);
  const answer = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Partial<WriterAnswer>;
  if (!Array.isArray(answer.rows) || !Array.isArray(answer.failed)) throw new Error('the writer answered nonsense');
  return answer as WriterAnswer;
}
