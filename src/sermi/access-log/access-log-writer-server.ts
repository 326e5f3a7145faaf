import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { type BeforeApplicationShutdown, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import type { Logger } from 'pino';
import type { AppConfig } from '../../app/app.config.js';
import { answerText, closeOwnListener, listenOnOwnPort } from '../../common/http/own-listener.js';
import { logFailure } from '../../common/logging/fault-log.js';
import { InjectRootLogger } from '../../common/logging/logger.module.js';
import { InjectAppConfig } from '../../config/config.module.js';
import { AccessLogWriter, INSTANCE_HEADER, SIGNATURE_HEADER, signBatch, WRITER_PATH } from './access-log-writer.js';
import type { AccessDecisionRecord } from './sermi-access-log.repository.js';

/** A batch holds at most a few hundred records of about 1 kB. */
const MAX_BODY_BYTES = 1024 * 1024;

const TEXT_FIELDS = [
  'id',
  'itemCode',
  'loginMethod',
  'accountId',
  'sessionId',
  'actorType',
  'sub',
  'cabuid',
  'iouid',
  'ioeuid',
  'rssuid',
  'rsseuid',
  'vin',
  'securityDecision',
  'securityReason',
  'clientIp',
  'userAgent',
  'requestId',
  'boundVin',
] as const satisfies readonly Exclude<keyof AccessDecisionRecord, 'chainBound'>[];

function isDecisionRecord(value: unknown): value is AccessDecisionRecord {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return (
    typeof record.chainBound === 'boolean' &&
    TEXT_FIELDS.every((field) => record[field] === null || typeof record[field] === 'string')
  );
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
 * never the public port), `POST /sermi-log/records` takes a batch of another instance's records, signed with the
 * shared secret, and writes them in this instance's statements. Nothing here passes through Express or the session
 * guard: the decisions were made, and their sessions checked, by the instance that sent them.
 */
@Injectable()
export class AccessLogWriterServer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private server?: Server;

  constructor(
    @InjectAppConfig() private readonly config: AppConfig,
    private readonly writer: AccessLogWriter,
    @InjectRootLogger() private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const listen = this.config.sermi.log.writer?.listen;
    if (!listen) return;
    this.server = await listenOnOwnPort(
      { ...listen, keepAliveTimeoutMs: this.config.operations.http.keepAliveTimeoutMs },
      (req, res) => this.handle(req, res),
    );
    this.logger.info(
      { url: `http://${listen.host}:${listen.port}${WRITER_PATH}` },
      'SERMI access log writer listening',
    );
  }

  /**
   * Before the pool closes: batches under way are answered, then the listener closes (the senders write their next
   * batches themselves).
   */
  beforeApplicationShutdown(): Promise<void> {
    return closeOwnListener(this.server, 'finish');
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      if ((req.url ?? '').split('?')[0] !== WRITER_PATH) throw new Refused(404, 'not found');
      if (req.method !== 'POST') throw new Refused(405, 'method not allowed');
      const body = await readBody(req);
      if (!this.signed(body, req.headers[SIGNATURE_HEADER]))
        throw new Refused(401, 'not signed with the shared secret');
      const records = parseRecords(body);
      const answer = await this.writer.writeForOthers(records);
      res.setHeader('Content-Type', 'application/json');
      res.setHeader(INSTANCE_HEADER, this.writer.instanceId);
      res.end(JSON.stringify(answer));
    } catch (error) {
      if (error instanceof Refused) return answerText(res, error.status, error.message);
      logFailure(this.logger, error, {}, 'SERMI access log writer failed a batch');
      answerText(res, 500, 'the batch was not written');
    }
  }

  private signed(body: string, signature: string | string[] | undefined): boolean {
    if (typeof signature !== 'string') return false;
    const expected = Buffer.from(signBatch(this.config.sermi.log.writer!.secret, body));
    const given = Buffer.from(signature);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new Refused(413, 'batch too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseRecords(body: string): AccessDecisionRecord[] {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    throw new Refused(400, 'not JSON');
  }
  if (!Array.isArray(value) || !value.every(isDecisionRecord)) throw new Refused(400, 'not a batch of records');
  return value;
}
