import 'reflect-metadata';
import type { Type } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { getDataSourceToken } from '@nestjs/typeorm';
import { Writable } from 'node:stream';
import type { DataSource } from 'typeorm';
import { createApp } from '../../src/app/app.factory.js';
import { type AppConfig, loadConfig } from '../../src/app/app.config.js';
import { createRootLogger } from '../../src/common/logging/logger.js';
import { createTestDatabase, type TestDatabase } from './test-database.js';

export const TEST_ORIGIN = 'https://portal.test';

/** Every log line the app wrote, parsed, so tests can assert on what is (and is not) logged. */
export class CapturedLogs extends Writable {
  readonly lines: Record<string, unknown>[] = [];

  override _write(chunk: Buffer, _encoding: string, done: () => void) {
    for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) this.lines.push(JSON.parse(line));
    done();
  }

  text(): string {
    return this.lines.map((line) => JSON.stringify(line)).join('\n');
  }
}

export interface TestApp {
  app: NestExpressApplication;
  /** Where the app listens (only with `listen`); also its PUBLIC_BASE_URL. */
  baseUrl: string;
  http: ReturnType<NestExpressApplication['getHttpServer']>;
  dataSource: DataSource;
  config: AppConfig;
  database: TestDatabase;
  logs: CapturedLogs;
  close(): Promise<void>;
}

export function testConfig(databaseUrl: string, env: Record<string, string> = {}): AppConfig {
  return loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: databaseUrl,
    PUBLIC_BASE_URL: TEST_ORIGIN,
    LOG_LEVEL: 'info',
    DIGIDENTITY_ENABLED: 'false',
    SERMI_LOG_SEAL_INTERVAL_MS: '0',
    AUDIT_SEAL_INTERVAL_MS: '0',
    SERMI_LOG_PURGE_INTERVAL_SECONDS: '0',
    ...env,
  });
}

/** The real application (same factory as production) on its own fresh database. */
export async function startTestApp(
  env: Record<string, string> = {},
  options: { database?: TestDatabase; databaseUrl?: string; listen?: number; extraModules?: Type[] } = {},
): Promise<TestApp> {
  const database = options.database ?? (await createTestDatabase());
  const baseUrl = options.listen ? `http://localhost:${options.listen}` : TEST_ORIGIN;
  const config = testConfig(options.databaseUrl ?? database.url, {
    PUBLIC_BASE_URL: baseUrl,
    ...(options.listen ? { PORT: String(options.listen) } : {}),
    ...env,
  });
  const logs = new CapturedLogs();
  const app = await createApp(config, createRootLogger(config.logLevel, logs), options.extraModules);
  if (options.listen) await app.listen(options.listen, '127.0.0.1');
  return {
    app,
    baseUrl,
    http: app.getHttpServer(),
    dataSource: app.get<DataSource>(getDataSourceToken()),
    config,
    database,
    logs,
    close: async () => {
      await app.close();
      if (!options.database) await database.drop();
    },
  };
}
