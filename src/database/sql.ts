import type { EntityManager } from 'typeorm';

/**
 * Runs one SQL statement and returns its rows, for SELECT and for INSERT/UPDATE/DELETE … RETURNING alike
 * (TypeORM's plain `query()` wraps UPDATE/DELETE results in `[rows, count]`). Inside a transaction pass the
 * transaction's manager.
 */
export async function sqlRows<T>(manager: EntityManager, text: string, parameters: unknown[] = []): Promise<T[]> {
  const ownRunner = manager.queryRunner === undefined;
  const runner = manager.queryRunner ?? manager.connection.createQueryRunner();
  try {
    const result = await runner.query(text, parameters, true);
    return (result.records ?? []) as T[];
  } finally {
    if (ownRunner) await runner.release();
  }
}
