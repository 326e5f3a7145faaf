import type { Server } from 'node:http';
import type { Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import cookieParser from 'cookie-parser';
import express from 'express';
import helmet from 'helmet';
import type { Logger } from 'pino';
import { AppModule } from './app.module.js';
import { requestContextMiddleware, requireJsonBodies } from '../common/http/request-middleware.js';
import { ExpressAdapterWithExpressPrototypes } from '../common/http/express-adapter.js';
import { RouteTable } from '../common/http/route-table.js';
import { UndeclaredInputGuard } from '../common/http/undeclared-input.guard.js';
import { AppValidationPipe } from '../common/http/validation.pipe.js';
import { NestPinoLogger } from '../common/logging/logger.js';
import { buildOpenApiDocument, serveOpenApi } from '../common/openapi/openapi.js';
import { ProblemDetailsFilter } from '../common/problem/problem-details.filter.js';
import type { AppConfig } from './app.config.js';
import { migrateAsOwner } from './migrations.js';
import { Metrics } from '../operations/metrics.js';
import { SessionsService } from '../sessions/sessions.service.js';
import { RMI_ITEM_IMPORT_MEDIA_TYPE, rmiItemImportBodyParser } from '../rmi-items/rmi-item-import.middleware.js';
import { PAGE_FORM_BODIES, pageFormBodyParser } from '../pages/common/form-bodies.js';
import { PageErrorFilter } from '../pages/common/page-error.filter.js';
import { answerUnparsableRequests } from '../common/http/unparsable-requests.js';

/**
 * Builds the HTTP application exactly as production runs it; the tests use this too. The database URL must be
 * resolved (see openDatabaseServer) before this is called.
 */
export async function createApp(
  config: AppConfig,
  logger: Logger,
  extraModules: Type[] = [],
): Promise<NestExpressApplication> {
  if (config.database.runMigrations) {
    const applied = await migrateAsOwner(config.database.migrationUrl ?? config.database.url!, config);
    if (applied.length > 0) logger.info({ migrations: applied }, 'database migrations applied');
  }
  const app = await NestFactory.create<NestExpressApplication>(
    AppModule.register(config, logger, extraModules),
    new ExpressAdapterWithExpressPrototypes(),
    {
      bodyParser: false,
      logger: new NestPinoLogger(logger.child({ component: 'nest' })),
      abortOnError: false,
    },
  );
  configureHttp(app, config, logger);
  if (config.http.apiDocs) serveOpenApi(app, buildOpenApiDocument(app, config));
  await app.init();
  return app;
}

/** Middleware order matters: request id first (so even a rejected body is traced), then headers, then parsing. */
export function configureHttp(app: NestExpressApplication, config: AppConfig, logger: Logger): void {
  applyConnectionTimeouts(app.getHttpServer() as Server, config.operations.http);
  answerUnparsableRequests(app.getHttpServer() as Server);
  app.set('trust proxy', config.http.trustProxy);
  app.disable('x-powered-by');
  app.disable('etag');
  app.use(requestContextMiddleware(logger.child({ component: 'http' }), app.get(Metrics).countResponse));
  app.use(helmet());
  app.use(cookieParser());
  app.use(requireJsonBodies([RMI_ITEM_IMPORT_MEDIA_TYPE, PAGE_FORM_BODIES]));
  app.use(pageFormBodyParser(config.http.bodyLimitBytes));
  app.use(
    rmiItemImportBodyParser(config.session.cookieName, async (token) => {
      const principal = await app.get(SessionsService).authenticate(token);
      return principal?.roles.includes('admin') ?? false;
    }),
  );
  app.use(
    express.json({ limit: config.http.bodyLimitBytes, strict: true, type: ['application/json', 'application/*+json'] }),
  );
  app.useGlobalPipes(new AppValidationPipe());
  // After the SessionGuard (APP_GUARD guards are registered when the app is created, before these).
  app.useGlobalGuards(new UndeclaredInputGuard());
  app.useGlobalFilters(
    new ProblemDetailsFilter(
      logger.child({ component: 'errors' }),
      new RouteTable(() => app.getHttpAdapter().getInstance()),
      (req, res, problem) => app.get(PageErrorFilter).renderPage(req, res, problem),
    ),
  );
}

/**
 * Node closes a keep-alive connection after 5 s idle by default: a proxy that keeps it longer sends the next request
 * into a closing socket and answers 502. Idle connections are kept longer than the proxy keeps them, so it is always
 * the proxy that closes them (HTTP_KEEP_ALIVE_TIMEOUT_MS); headers and whole requests still have their limits.
 */
export function applyConnectionTimeouts(server: Server, timeouts: AppConfig['operations']['http']): void {
  server.keepAliveTimeout = timeouts.keepAliveTimeoutMs;
  server.headersTimeout = timeouts.headersTimeoutMs;
  server.requestTimeout = timeouts.requestTimeoutMs;
}
