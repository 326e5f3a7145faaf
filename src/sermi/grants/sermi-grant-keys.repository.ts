// Owns every statement on `sermi_grant_keys`.
import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { jsonb, sqlRows } from '../../database/sql.js';
import type { PublishedKey } from './access-grant-signer.js';

/** Rows of keys nobody signs with any more are deleted this long after their publication ended. */
const FORGET_AFTER = '7 days';

@Injectable()
export class SermiGrantKeysRepository {
  /** The public keys whose publication has not ended, latest end first. */
  async findPublished(manager: EntityManager): Promise<PublishedKey[]> {
    const rows = await sqlRows<{ public_jwk: PublishedKey }>(
      manager,
      `SELECT public_jwk FROM sermi_grant_keys WHERE published_until > now() ORDER BY published_until DESC, kid`,
    );
    return rows.map((row) => row.public_jwk);
  }

  /**
   * Publishes `key` until at least `seconds` from now (database time), never shortening a publication, and
   * forgets other keys whose publication ended FORGET_AFTER ago: one statement.
   */
  async publish(manager: EntityManager, key: PublishedKey, seconds: number): Promise<void> {
    await sqlRows(
      manager,
      `WITH forgotten AS (
         DELETE FROM sermi_grant_keys WHERE published_until < now() - interval '${FORGET_AFTER}' AND kid <> $1
       )
       INSERT INTO sermi_grant_keys (kid, public_jwk, published_until)
       VALUES ($1, $2::jsonb, now() + make_interval(secs => $3))
       ON CONFLICT (kid) DO UPDATE
         SET published_until = GREATEST(sermi_grant_keys.published_until, EXCLUDED.published_until)`,
      [key.kid, jsonb(key), seconds],
    );
  }
}
