import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Logger } from 'pino';
import { answerText, closeOwnListener, listenOnOwnPort } from '../common/http/own-listener.js';
import { logFailure } from '../common/logging/fault-log.js';
import { InjectRootLogger } from '../common/logging/logger.module.js';
import type { AppConfig } from '../app/app.config.js';
import { InjectAppConfig } from '../config/config.module.js';
import { Metrics } from './metrics.js';

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/**
 * `GET /metrics` on a listener of its own (METRICS_HOST:METRICS_PORT), never on the public port: the load balancer
 * does not route to it, and with METRICS_TOKEN a scrape must bring `Authorization: Bearer <token>`. Nothing here
 * passes through Express, the session guard or the access log.
 */
@Injectable()
export class MetricsServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private server?: Server;
  private readonly token: Buffer | null;

  constructor(
    @InjectAppConfig() private readonly config: AppConfig,
    private readonly metrics: Metrics,
    @InjectRootLogger() private readonly logger: Logger,
  ) {
    const token = config.operations.metrics?.token;
    this.token = token ? digest(token) : null;
  }

  async onApplicationBootstrap(): Promise<void> {
    const settings = this.config.operations.metrics;
    if (!settings) return;
    this.server = await listenOnOwnPort(
      { ...settings, keepAliveTimeoutMs: this.config.operations.http.keepAliveTimeoutMs },
      (req, res) => this.handle(req, res),
    );
    this.logger.info(
      { url: `http://${settings.host}:${settings.port}/metrics`, token: this.token !== null },
      'metrics listening',
    );
  }

  onApplicationShutdown(): Promise<void> {
    return closeOwnListener(this.server, 'drop');
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/metrics') return answerText(res, 404, 'not found');
    if (req.method !== 'GET' && req.method !== 'HEAD') return answerText(res, 405, 'method not allowed');
    if (!this.authorised(req.headers.authorization)) {
      res.setHeader('WWW-Authenticate', 'Bearer');
      return answerText(res, 401, 'unauthorised');
    }
    try {
      const body = await this.metrics.registry.metrics();
      res.setHeader('Content-Type', this.metrics.registry.contentType);
      res.setHeader('Cache-Control', 'no-store');
      res.end(req.method === 'HEAD' ? undefined : body);
    } catch (error) {
      logFailure(this.logger, error, {}, 'metrics scrape failed');
      answerText(res, 500, 'metrics unavailable');
    }
  }

  private authorised(header: string | undefined): boolean {
    if (!this.token) return true;
    const match = /^Bearer (\S+)$/.exec(header ?? '');
    return match !== null && timingSafeEqual(digest(match[1]), this.token);
  }
}
