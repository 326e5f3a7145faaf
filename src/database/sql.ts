import pg, { type Pool, type QueryResult } from 'pg';
import type { DataSource, EntityManager } from 'typeorm';
import { failedRoutine, sqlState } from './postgres-errors.js';

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
 *
 * A migration that changes the type of a column the statement returns (a newer release's, during a rolling deploy)
 * leaves every connection's prepared copy unusable: Postgres refuses it ("cached plan must not change result type")
 * until the connection closes, and pg never prepares a name twice. The pool then moves to new names for its
 * statements (the old copies stay unused until their connections close) and runs the statement again.
 */
export async function preparedRows<T>(
  manager: EntityManager,
  name: string,
  text: string,
  parameters: unknown[],
): Promise<T[]> {
  const requests = pool(manager);
  const generation = statementGenerations.get(requests) ?? 0;
  try {
    return await runPrepared<T>(requests, generation, name, text, parameters);
  } catch (error) {
    if (!isStalePlan(error)) throw error;
    const next = Math.max(statementGenerations.get(requests) ?? 0, generation + 1);
    statementGenerations.set(requests, next);
    return runPrepared<T>(requests, next, name, text, parameters);
  }
}

/** Per pool: how many times its prepared statements went stale; part of their names from the first time on. */
const statementGenerations = new WeakMap<Pool, number>();

async function runPrepared<T>(
  requests: Pool,
  generation: number,
  name: string,
  text: string,
  parameters: unknown[],
): Promise<T[]> {
  const query = new NamedQuery(generation === 0 ? name : `${name}~${generation}`, text, parameters);
  // pg-pool answers a query object with a promise of its result, though pg's types say it returns the object.
  return (await (requests.query(query) as unknown as Promise<QueryResult>)).rows as T[];
}

const FEATURE_NOT_SUPPORTED = '0A000';

/** "cached plan must not change result type", told by where Postgres raised it (its message follows lc_messages). */
function isStalePlan(error: unknown): boolean {
  return sqlState(error) === FEATURE_NOT_SUPPORTED && failedRoutine(error) === 'RevalidateCachedQuery';
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
 * A value for a jsonb parameter. Postgres refuses the NUL character in jsonb (and text), and a lone UTF-16 surrogate
 * in jsonb, so either anywhere in the value — typically from an identity provider — becomes U+FFFD instead of failing
 * the statement. (JSON.stringify writes a lone surrogate as a `\udxxx` escape and a paired one as itself.)
 */
export function jsonb(value: unknown): string {
  let text = JSON.stringify(value);
  if (text.includes('\\u0000')) text = text.replace(/(?<!\\)((?:\\\\)*)\\u0000/g, '$1\\ufffd');
  if (text.includes('\\ud')) text = text.replace(/(?<!\\)((?:\\\\)*)\\ud[89a-f][0-9a-f]{2}/g, '$1\\ufffd');
  return text;
}

/** How deep a provider's answer may nest: JSON.stringify, and so every jsonb write, fails a few thousand levels down. */
export const MAX_STORABLE_DEPTH = 32;

/**
 * Why Postgres could not store `value` as it is, or null: a NUL character or a lone UTF-16 surrogate in any key or
 * string, or objects and arrays nested deeper than MAX_STORABLE_DEPTH. For checking a provider's answer once, before
 * anything is done with it; iterative, so a hostile depth cannot overflow the stack here either.
 */
export function unstorable(value: unknown): 'nul' | 'lone_surrogate' | 'too_deep' | null {
  const pending: Array<[unknown, number]> = [[value, 0]];
  while (pending.length > 0) {
    const [item, depth] = pending.pop()!;
    if (typeof item === 'string') {
      const problem = stringProblem(item);
      if (problem) return problem;
    } else if (typeof item === 'object' && item !== null) {
      if (depth >= MAX_STORABLE_DEPTH) return 'too_deep';
      for (const [key, child] of Object.entries(item)) {
        const problem = stringProblem(key);
        if (problem) return problem;
        pending.push([child, depth + 1]);
      }
    }
  }
  return null;
}

function stringProblem(text: string): 'nul' | 'lone_surrogate' | null {
  if (text.includes('\u0000')) return 'nul';
  return /\p{Cs}/u.test(text) ? 'lone_surrogate' : null;
}

/** A row whose columns may all be null (a LEFT JOIN that found nothing). */
export type OrNull<T> = { [column in keyof T]: T[column] | null };
