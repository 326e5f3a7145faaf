import { DataSource } from 'typeorm';
import { dataSourceOptions } from './data-source-options.js';

export interface SchemaDiff {
  up: string[];
  down: string[];
}

/**
 * What TypeORM would change to make the database match the entities: the same computation as
 * `typeorm migration:generate`. Empty when entities and the migrated schema agree.
 */
export async function schemaDiff(url: string): Promise<SchemaDiff> {
  const dataSource = new DataSource(dataSourceOptions({ url, poolSize: 1 }));
  await dataSource.initialize();
  try {
    const sql = await dataSource.driver.createSchemaBuilder().log();
    return {
      up: sql.upQueries.map((query) => query.query),
      down: sql.downQueries.map((query) => query.query).reverse(),
    };
  } finally {
    await dataSource.destroy();
  }
}
