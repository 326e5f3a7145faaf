import { randomBytes } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { sqlRows } from './sql.js';

/**
 * The shared secret called `name`, created (32 random bytes) when no instance has stored one yet. Two statements
 * on purpose: after a lost race the SELECT runs on a fresh snapshot and sees the winner's secret.
 */
export async function sharedSecret(manager: EntityManager, name: string): Promise<Buffer> {
  await sqlRows(manager, `INSERT INTO server_secrets (name, secret) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`, [
    name,
    randomBytes(32),
  ]);
  const [row] = await sqlRows<{ secret: Buffer }>(manager, `SELECT secret FROM server_secrets WHERE name = $1`, [name]);
  return row.secret;
}
