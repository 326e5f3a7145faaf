// Owns every statement on `sign_out_hints`.
import { hash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { IdentityProvider } from '../common/identity-providers.js';
import { preparedRows, sqlRows } from '../database/sql.js';
import { underPurgeLock, type PurgeBatch } from './purge-lock.js';

/** The handle a note cookie carries: only its hash is stored. */
export function hashSignOutHandle(handle: string): Buffer {
  return hash('sha256', handle, 'buffer');
}

@Injectable()
export class SignOutHintsRepository {
  /** Keeps `idToken` as the hint for `provider` under `handle` for `seconds`, replacing what the handle held. */
  async keep(
    manager: EntityManager,
    handle: string,
    provider: IdentityProvider,
    idToken: string,
    seconds: number,
  ): Promise<void> {
    await preparedRows(
      manager,
      'rmi_sign_out_hint_keep',
      `INSERT INTO sign_out_hints (handle_hash, provider, id_token, expires_at)
       VALUES ($1, $2, $3, now() + make_interval(secs => $4::int))
       ON CONFLICT (handle_hash) DO UPDATE
          SET provider = EXCLUDED.provider, id_token = EXCLUDED.id_token, expires_at = EXCLUDED.expires_at`,
      [hashSignOutHandle(handle), provider, idToken, seconds],
    );
  }

  /**
   * The live hints of these handles, each only for the provider whose note carried it (a handle copied into another
   * provider's note finds nothing).
   */
  async find(
    manager: EntityManager,
    notes: readonly { provider: IdentityProvider; handle: string }[],
  ): Promise<Map<IdentityProvider, string>> {
    if (notes.length === 0) return new Map();
    const rows = await sqlRows<{ provider: IdentityProvider; id_token: string }>(
      manager,
      `SELECT h.provider, h.id_token
         FROM sign_out_hints h
         JOIN unnest($1::bytea[], $2::text[]) AS note(handle_hash, provider)
           ON note.handle_hash = h.handle_hash AND note.provider = h.provider
        WHERE h.expires_at > now()`,
      [notes.map((note) => hashSignOutHandle(note.handle)), notes.map((note) => note.provider)],
    );
    return new Map(rows.map((row) => [row.provider, row.id_token]));
  }

  async forget(manager: EntityManager, handle: string): Promise<void> {
    await sqlRows(manager, `DELETE FROM sign_out_hints WHERE handle_hash = $1`, [hashSignOutHandle(handle)]);
  }

  /** Deletes up to `batchSize` expired hints, under the purge lock the login transactions use. */
  deleteExpired(manager: EntityManager, batchSize: number): Promise<PurgeBatch> {
    return underPurgeLock(
      manager,
      `DELETE FROM sign_out_hints
        WHERE handle_hash IN (SELECT handle_hash FROM sign_out_hints WHERE expires_at < now()
                               ORDER BY expires_at LIMIT $1::int FOR UPDATE SKIP LOCKED)`,
      [batchSize],
    );
  }
}
