import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { MIGRATIONS } from '../../migrations/index.js';
import { PROJECT_ROOT } from '../support/spawn-process.js';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../../src/app/data-source-options.js';
import { applyMigrations } from '../../src/app/migrations.js';
import { schemaDiff } from '../../src/app/schema-drift.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

describe('migrations', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => database.drop());

  it('produce exactly the schema the entities describe', async () => {
    expect(await schemaDiff(database.url)).toEqual({ up: [], down: [] });
  });

  it('are already all applied in a migrated database, so a restart applies nothing', async () => {
    expect(await applyMigrations(database.url)).toEqual([]);
  });

  it('can be reverted completely and applied again', async () => {
    const dataSource = await new DataSource(dataSourceOptions({ url: database.url, poolSize: 1 })).initialize();
    try {
      const count = dataSource.migrations.length;
      for (let i = 0; i < count; i += 1) await dataSource.undoLastMigration({ transaction: 'each' });
      const tables: { table_name: string }[] = await dataSource.query(
        `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> 'schema_migrations'`,
      );
      expect(tables).toEqual([]);
    } finally {
      await dataSource.destroy();
    }
    expect(await applyMigrations(database.url)).toHaveLength(MIGRATIONS.length);
    expect(await schemaDiff(database.url)).toEqual({ up: [], down: [] });
  });
});

describe('migrations/index.ts', () => {
  it('lists every migration file in the folder, oldest first', async () => {
    const files = (await readdir(join(PROJECT_ROOT, 'migrations'))).filter((file) => /^\d+-\w+\.ts$/.test(file)).sort();
    const expected = files.map((file) => {
      const [, timestamp, name] = /^(\d+)-(\w+)\.ts$/.exec(file)!;
      return `${name}${timestamp}`;
    });
    expect(MIGRATIONS.map((migration) => migration.name)).toEqual(expected);
  });
});
