import { randomBytes } from 'node:crypto';
import pg from 'pg';

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

function serverUrl(): string {
  const url = process.env.RMI_TEST_SERVER_URL;
  if (!url) throw new Error('RMI_TEST_SERVER_URL is not set: run the tests through `npm test`');
  return url;
}

export async function adminQuery<T extends pg.QueryResultRow = pg.QueryResultRow>(
  text: string,
  params: unknown[] = [],
  database?: string,
): Promise<pg.QueryResult<T>> {
  const url = new URL(serverUrl());
  if (database) url.pathname = `/${database}`;
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    return await client.query<T>(text, params);
  } finally {
    await client.end();
  }
}

/** The URL of database `name` on the test run's Postgres server. */
export function databaseUrl(name: string): string {
  const url = new URL(serverUrl());
  url.pathname = `/${name}`;
  return url.toString();
}

/** A fresh, fully migrated database cloned from the run's template: tests never see each other's rows. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `rmi_test_${randomBytes(6).toString('hex')}`;
  await adminQuery(`CREATE DATABASE ${name} TEMPLATE ${process.env.RMI_TEST_TEMPLATE_DB}`);
  return {
    url: databaseUrl(name),
    name,
    drop: async () => {
      await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}
