import { type DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { AppConfig } from './app.config.js';
import { dataSourceOptions } from './data-source-options.js';

@Module({})
export class DatabaseModule {
  static forRoot(database: AppConfig['database']): DynamicModule {
    if (!database.url) throw new Error('DatabaseModule needs a resolved database URL (see openDatabaseServer)');
    return {
      module: DatabaseModule,
      imports: [
        TypeOrmModule.forRoot({
          ...dataSourceOptions({
            url: database.url,
            poolSize: database.poolSize,
            poolIdleTimeoutMs: database.poolIdleTimeoutMs,
            connectTimeoutMs: database.connectTimeoutMs,
            statementTimeoutMs: database.statementTimeoutMs,
          }),
          // Migrations are applied before the app starts (applyMigrations), under a lock.
          migrationsRun: false,
          retryAttempts: 2,
          retryDelay: 1000,
        }),
      ],
    };
  }
}
