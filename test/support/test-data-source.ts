import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../../src/app/data-source-options.js';
import { createTestDatabase, type TestDatabase } from './test-database.js';

/** A fresh database and a DataSource on it, for tests of the schema itself (no HTTP app). */
export async function openTestDataSource(
  poolSize = 10,
): Promise<{ dataSource: DataSource; database: TestDatabase; close(): Promise<void> }> {
  const database = await createTestDatabase();
  const dataSource = await new DataSource(dataSourceOptions({ url: database.url, poolSize })).initialize();
  return {
    dataSource,
    database,
    close: async () => {
      await dataSource.destroy();
      await database.drop();
    },
  };
}

/** Runs all the promises, returning how many fulfilled and the Postgres error codes of those that did not. */
export async function settle(attempts: Promise<unknown>[]): Promise<{ fulfilled: number; errorCodes: string[] }> {
  const results = await Promise.allSettled(attempts);
  return {
    fulfilled: results.filter((r) => r.status === 'fulfilled').length,
    errorCodes: results
      .filter((r): r is PromiseRejectedResult => r.status === 'rejected')
      .map(
        (r) =>
          (r.reason as { driverError?: { code?: string }; code?: string }).driverError?.code ??
          (r.reason as { code?: string }).code ??
          String(r.reason),
      ),
  };
}
