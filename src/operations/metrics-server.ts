import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Logger } from 'pino';
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
    const server = createServer((req, res) => void this.handle(req, res));
    server.keepAliveTimeout = this.config.operations.http.keepAliveTimeoutMs;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(settings.port, settings.host, () => resolve());
    });
    this.server = server;
    this.logger.info(
      { url: `http://${settings.host}:${settings.port}/metrics`, token: this.token !== null },
      'metrics listening',
    );
  }

  async onApplicationShutdown(): Promise<void> {
    const server = this.server;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/metrics') return this.answer(res, 404, 'not found\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') return this.answer(res, 405, 'method not allowed\n');
    if (!this.authorised(req.headers.authorization)) {
      res.setHeader('WWW-Authenticate', 'Bearer');
      return this.answer(res, 401, 'unauthorised\n');
    }
    try {
      const body = await this.metrics.registry.metrics();
      res.setHeader('Content-Type', this.metrics.registry.contentType);
      res.setHeader('Cache-Control', 'no-store');
      res.end(req.method === 'HEAD' ? undefined : body);
    } catch (error) {
      logFailure(this.logger, error, {}, 'metrics scrape failed');
      this.answer(res, 500, 'metrics unavailable\n');
    }
  }

  private authorised(header: string | undefined): boolean {
    if (!this.token) return true;
    const match = /^Bearer (\S+)$/.exec(header ?? '');
    return match !== null && timingSafeEqual(digest(match[1]), this.token);
  }

  private answer(res: ServerResponse, status: number, text: string): void {
    res.statusCode = status;
    res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    res.end(text);
  }
}
