// Owns every statement on `sign_out_hints`; the returning-login statement embeds keepHintSql, so that the common
// login keeps its ID token in the same round trip.
import { hash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { IdentityProvider } from '../common/identity-providers.js';
import { sqlRows } from '../database/sql.js';
import { underPurgeLock, type PurgeBatch } from './purge-lock.js';

/**
 * A login's ID token, for the browser's next sign-out at its provider: kept under a new handle, and the handle the
 * browser's note held before, whose token goes.
 */
export interface SignOutHint {
  handle: string;
  replaces: string | null;
  idToken: string;
}

/** The handle a note cookie carries: only its hash is stored. */
export function hashSignOutHandle(handle: string): Buffer {
  return hash('sha256', handle, 'buffer');
}

/**
 * Forgets the token kept under a handle's hash (none when it is null), if `when` holds: the note moved to a new
 * handle.
 */
export const forgetHintSql = (handleHash: string, when = 'true') => `
  DELETE FROM sign_out_hints WHERE handle_hash = ${handleHash}::bytea AND ${when}`;

/**
 * Keeps an ID token as the hint for a provider under a handle's hash, for `seconds`, replacing what the handle held;
 * once per row of `source`, and not at all when the handle or the token is null. The others are SQL expressions.
 */
export const keepHintSql = (
  source: string,
  p: { handleHash: string; provider: string; idToken: string; seconds: string },
) => `
  INSERT INTO sign_out_hints (handle_hash, provider, id_token, expires_at)
  SELECT ${p.handleHash}::bytea, ${p.provider}::text, ${p.idToken}::text, now() + make_interval(secs => ${p.seconds})
    FROM ${source}
   WHERE ${p.handleHash}::bytea IS NOT NULL AND ${p.idToken}::text IS NOT NULL
  ON CONFLICT (handle_hash) DO UPDATE
     SET provider = EXCLUDED.provider, id_token = EXCLUDED.id_token, expires_at = EXCLUDED.expires_at`;

export const hashOrNull = (handle: string | null) => (handle ? hashSignOutHandle(handle) : null);

@Injectable()
export class SignOutHintsRepository {
  /** Keeps the hint's ID token for `provider` under its handle for `seconds`; forgets what it replaces. */
  async keep(manager: EntityManager, hint: SignOutHint, provider: IdentityProvider, seconds: number): Promise<void> {
    await sqlRows(
      manager,
      `WITH forgotten AS (${forgetHintSql('$5')})
       ${keepHintSql('(SELECT) AS one', { handleHash: '$1', provider: '$2', idToken: '$3', seconds: '$4::int' })}`,
      [hashSignOutHandle(hint.handle), provider, hint.idToken, seconds, hashOrNull(hint.replaces)],
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

  /** Keeps the token under `handle` (if any) for `seconds` more, as long as the note that carries the handle. */
  async renew(manager: EntityManager, handle: string, seconds: number): Promise<void> {
    await sqlRows(
      manager,
      `UPDATE sign_out_hints SET expires_at = now() + make_interval(secs => $2::int)
        WHERE handle_hash = $1 AND expires_at > now()`,
      [hashSignOutHandle(handle), seconds],
    );
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
