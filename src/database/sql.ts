import pg, { type Pool, type QueryResult } from 'pg';
import type { DataSource, EntityManager } from 'typeorm';

/**
 * Runs one SQL statement and returns its rows, for SELECT and for INSERT/UPDATE/DELETE … RETURNING alike
 * (TypeORM's plain `query()` wraps UPDATE/DELETE results in `[rows, count]`). Inside a transaction pass the
 * transaction's manager; outside one the statement goes straight to the pool, which is the hot path of every
 * authenticated request.
 */
export async function sqlRows<T>(manager: EntityManager, text: string, parameters: unknown[] = []): Promise<T[]> {
  if (manager.queryRunner) {
    const result = await manager.queryRunner.query(text, parameters, true);
    return (result.records ?? []) as T[];
  }
  return (await pool(manager).query(text, parameters)).rows as T[];
}

/**
 * A hot statement run as a named prepared statement: Postgres parses and plans it once per connection instead of
 * on every request. For the few queries every request runs (the session lookup).
 */
export async function preparedRows<T>(
  manager: EntityManager,
  name: string,
  text: string,
  parameters: unknown[],
): Promise<T[]> {
  // pg-pool answers a query object with a promise of its result, though pg's types say it returns the object.
  const answer = pool(manager).query(new NamedQuery(name, text, parameters)) as unknown as Promise<QueryResult>;
  return (await answer).rows as T[];
}

/**
 * A named statement that pg runs as given: passed a config object instead, pg copies it property by property on
 * every call, which costs more than building the query itself.
 */
class NamedQuery extends pg.Query {
  constructor(name: string, text: string, values: unknown[]) {
    super(text, values);
    (this as unknown as { name: string }).name = name;
  }
}

function pool(manager: EntityManager): Pool {
  return requestPool(manager.connection);
}

/** The pg pool behind a DataSource (TypeORM's Postgres driver keeps it as `master`). */
export function requestPool(dataSource: DataSource): Pool {
  return (dataSource.driver as unknown as { master: Pool }).master;
}

/** Collects positional parameters while a dynamic query is assembled: `add(value)` returns its `$n`. */
export class SqlParameters {
  readonly values: unknown[] = [];

  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/**
 * A value for a jsonb parameter. Postgres refuses the NUL character in jsonb (and text), so a NUL anywhere in the
 * value — typically from an identity provider — becomes U+FFFD instead of failing the statement.
 */
export function jsonb(value: unknown): string {
  const text = JSON.stringify(value);
  return text.includes('\\u0000') ? text.replace(/(?<!\\)((?:\\\\)*)\\u0000/g, '$1\\ufffd') : text;
}
