import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { type BeforeApplicationShutdown, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import type { Logger } from 'pino';
import type { AppConfig } from '../../app/app.config.js';
import { equalInConstantTime } from '../../common/constant-time.js';
import { answerText, closeOwnListener, listenOnOwnPort, readLimited } from '../../common/http/own-listener.js';
import { logFailure } from '../../common/logging/fault-log.js';
import { InjectRootLogger } from '../../common/logging/logger.module.js';
import { InjectAppConfig } from '../../config/config.module.js';
import {
  AccessLogWriter,
  BATCH_MAX_AGE_MS,
  INSTANCE_HEADER,
  SIGNATURE_HEADER,
  signAnswer,
  signBatch,
  TIMESTAMP_HEADER,
  WRITER_PATH,
} from './access-log-writer.js';
import type { AccessDecisionRecord } from './sermi-access-log.repository.js';

/** A batch holds at most a few hundred records of about 1 kB. */
const MAX_BODY_BYTES = 1024 * 1024;
/** A sender that has not sent its whole batch by then is cut off (batches are small and senders close by). */
const REQUEST_TIMEOUT_MS = 10_000;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const FIELD_CHECKS = {
  uuid: (value: unknown) => typeof value === 'string' && UUID.test(value),
  text: (value: unknown) => typeof value === 'string',
  optionalText: (value: unknown) => value === null || typeof value === 'string',
  decision: (value: unknown) => value === 'granted' || value === 'denied',
  boolean: (value: unknown) => typeof value === 'boolean',
};
/** Every field of a record sent to the writer, and what it must be (a field added to the record must be added here). */
const RECORD_FIELDS: Record<keyof AccessDecisionRecord, keyof typeof FIELD_CHECKS> = {
  id: 'uuid',
  itemCode: 'text',
  loginMethod: 'optionalText',
  accountId: 'uuid',
  sessionId: 'uuid',
  actorType: 'optionalText',
  sub: 'optionalText',
  cabuid: 'optionalText',
  iouid: 'optionalText',
  ioeuid: 'optionalText',
  rssuid: 'optionalText',
  rsseuid: 'optionalText',
  vin: 'text',
  securityDecision: 'decision',
  securityReason: 'text',
  clientIp: 'optionalText',
  userAgent: 'optionalText',
  requestId: 'optionalText',
  chainBound: 'boolean',
  boundVin: 'optionalText',
};

function isDecisionRecord(value: unknown): value is AccessDecisionRecord {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return Object.entries(RECORD_FIELDS).every(([field, kind]) => FIELD_CHECKS[kind](record[field]));
}

class Refused extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The writer's side of SERMI_LOG_WRITER_*: on a listener of its own (SERMI_LOG_WRITER_HOST:SERMI_LOG_WRITER_PORT,
 * never the public port), `POST /sermi-log/v2/records` takes a batch of another instance's records, signed with the
 * shared secret less than a minute ago, writes them in this instance's statements and answers signed. Nothing here
 * passes through Express or the session guard: the decisions were made by the instance that sent them, and the
 * statement that writes them checks each one's session (a record of a session that ended gets no row back).
 */
@Injectable()
export class AccessLogWriterServer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private server?: Server;
  private closing = false;
  private inProgress = 0;

  constructor(
    @InjectAppConfig() private readonly config: AppConfig,
    private readonly writer: AccessLogWriter,
    @InjectRootLogger() private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const listen = this.config.sermi.log.writer?.listen;
    if (!listen) return;
    this.server = await listenOnOwnPort(
      {
        ...listen,
        keepAliveTimeoutMs: this.config.operations.http.keepAliveTimeoutMs,
        requestTimeoutMs: REQUEST_TIMEOUT_MS,
      },
      (req, res) => this.handle(req, res),
    );
    this.logger.info(
      { url: `http://${listen.host}:${listen.port}${WRITER_PATH}` },
      'SERMI access log writer listening',
    );
  }

  /**
   * Before the pool closes: batches under way are answered (with `Connection: close`), batches that come meanwhile
   * on kept-alive connections are refused with 503 (their senders write them themselves), then every connection
   * closes.
   */
  async beforeApplicationShutdown(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.closing = true;
    const closed = closeOwnListener(server, 'finish');
    if (this.inProgress === 0) server.closeAllConnections();
    await closed;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.inProgress += 1;
    try {
      if (this.closing) res.setHeader('Connection', 'close');
      await this.answer(req, res);
    } finally {
      this.inProgress -= 1;
      if (this.closing && this.inProgress === 0) this.server?.closeAllConnections();
    }
  }

  private async answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      if (this.closing) throw new Refused(503, 'shutting down');
      if ((req.url ?? '').split('?')[0] !== WRITER_PATH) throw new Refused(404, 'not found');
      if (req.method !== 'POST') throw new Refused(405, 'method not allowed');
      const signature = req.headers[SIGNATURE_HEADER];
      const timestamp = req.headers[TIMESTAMP_HEADER];
      if (typeof signature !== 'string' || typeof timestamp !== 'string') throw new Refused(401, 'not signed');
      if (Number(req.headers['content-length'] ?? 0) > MAX_BODY_BYTES) throw new Refused(413, 'batch too large');
      const body = await readLimited(req, MAX_BODY_BYTES, () => new Refused(413, 'batch too large'));
      if (!this.signed(body, timestamp, signature)) throw new Refused(401, 'not signed with the shared secret');
      const records = parseRecords(body);
      const answer = Buffer.from(JSON.stringify(await this.writer.writeForOthers(records)), 'utf8');
      res.setHeader('Content-Type', 'application/json');
      res.setHeader(INSTANCE_HEADER, this.writer.instanceId);
      res.setHeader(SIGNATURE_HEADER, signAnswer(this.secret, signature, this.writer.instanceId, answer));
      res.end(answer);
    } catch (error) {
      if (error instanceof Refused) return answerText(res, error.status, error.message);
      logFailure(this.logger, error, {}, 'SERMI access log writer failed a batch');
      answerText(res, 500, 'the batch was not written');
    }
  }

  private get secret(): Buffer {
    return this.config.sermi.log.writer!.secret;
  }

  private signed(body: Buffer, timestamp: string, signature: string): boolean {
    const age = Date.now() - Number(timestamp);
    if (!/^\d{1,15}$/.test(timestamp) || Math.abs(age) > BATCH_MAX_AGE_MS) return false;
    return equalInConstantTime(signBatch(this.secret, timestamp, body), signature);
  }
}

function parseRecords(body: Buffer): AccessDecisionRecord[] {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    throw new Refused(400, 'not JSON');
  }
  if (!Array.isArray(value) || !value.every(isDecisionRecord)) throw new Refused(400, 'not a batch of records');
  return value;
}
