import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../../src/app/data-source-options.js';
import { preparedRows, sqlRows } from '../../src/database/sql.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

/** preparedRows, which the hot statements (session lookup, login start and completion, decision records) go through. */
describe('preparedRows', () => {
  let database: TestDatabase;
  let dataSource: DataSource;

  beforeAll(async () => {
    database = await createTestDatabase();
    // One connection: every statement below runs in the same Postgres session.
    dataSource = await new DataSource(dataSourceOptions({ url: database.url, poolSize: 1 })).initialize();
  });
  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });

  it('prepares a statement once per connection under its name and runs it with the parameters of each call', async () => {
    const add = (n: number) =>
      preparedRows<{ sum: number }>(dataSource.manager, 'probe_add', 'SELECT $1::int + 1 AS sum', [n]);
    expect(await add(1)).toEqual([{ sum: 2 }]);
    expect(await add(41)).toEqual([{ sum: 42 }]);
    const prepared = await sqlRows<{ name: string; statement: string }>(
      dataSource.manager,
      `SELECT name, statement FROM pg_prepared_statements WHERE name LIKE 'probe%'`,
    );
    expect(prepared).toEqual([{ name: 'probe_add', statement: 'SELECT $1::int + 1 AS sum' }]);
  });
});
