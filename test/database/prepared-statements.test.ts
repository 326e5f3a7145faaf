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
  it('prepares a statement again under a new name when a migration changed the type of a column it returns', async () => {
    await sqlRows(dataSource.manager, `CREATE TABLE probe_items (label text NOT NULL)`);
    await sqlRows(dataSource.manager, `INSERT INTO probe_items VALUES ('first')`);
    const labels = () =>
      preparedRows<{ label: string }>(dataSource.manager, 'probe_labels', 'SELECT label FROM probe_items', []);
    expect(await labels()).toEqual([{ label: 'first' }]);

    // What a newer release's migration does while this one still runs (a rolling deploy).
    await sqlRows(dataSource.manager, `CREATE DOMAIN probe_label AS text CHECK (VALUE <> '')`);
    await sqlRows(dataSource.manager, `ALTER TABLE probe_items ALTER COLUMN label TYPE probe_label`);
    expect(await labels()).toEqual([{ label: 'first' }]);
    expect(await labels()).toEqual([{ label: 'first' }]);
    const renamed = await sqlRows<{ name: string }>(
      dataSource.manager,
      `SELECT name FROM pg_prepared_statements WHERE name = 'probe_labels~1'`,
    );
    expect(renamed).toEqual([{ name: 'probe_labels~1' }]);
  });
});
