// Owns every statement on `sermi_chain_bindings`.
import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { preparedRows } from '../database/sql.js';
import { securityRelatedItem } from '../rmi-items/rmi-items.repository.js';
import { sessionIsLiveSql } from '../sessions/sessions.repository.js';

/**
 * Binds a chain authorisation (RSSEUID, IOEUID, Trust Centre auth_time) to a vehicle unless it is bound already,
 * and returns the bound VIN — the first writer's under concurrency (ON CONFLICT waits for it), whichever session of
 * that authorisation wrote it. Only for security-related items, and only while the deciding session lets its holder
 * in (the decision route checks its session in its statements): no row back otherwise.
 * $1 rsseuid, $2 ioeuid, $3 auth_time, $4 vin, $5 item code, $6 the deciding session, $7 its account.
 */
const CHAIN_BINDING_SQL = `
WITH asked AS (${securityRelatedItem('$5')} AND ${sessionIsLiveSql('$6::uuid', '$7::uuid')}),
existing AS (
  SELECT vin FROM sermi_chain_bindings
   WHERE rsseuid = $1 AND ioeuid = $2 AND authenticated_at = $3 AND EXISTS (SELECT 1 FROM asked)
),
bound AS (
  INSERT INTO sermi_chain_bindings (rsseuid, ioeuid, authenticated_at, vin, bound_by_session_id)
  SELECT $1, $2, $3, $4, $6 WHERE EXISTS (SELECT 1 FROM asked) AND NOT EXISTS (SELECT 1 FROM existing)
  ON CONFLICT (rsseuid, ioeuid, authenticated_at) DO UPDATE SET vin = sermi_chain_bindings.vin
  RETURNING vin
)
SELECT vin FROM bound UNION ALL SELECT vin FROM existing`;

/** The chain authorisation a binding is keyed by, and what is asked for under it. */
export interface ChainBindingRequest {
  rsseuid: string;
  ioeuid: string;
  authenticatedAt: Date;
  vin: string;
  itemCode: string;
  sessionId: string;
  accountId: string;
}

@Injectable()
export class SermiChainBindingsRepository {
  /** The VIN the authorisation is bound to (CHAIN_BINDING_SQL); null when the item is not security-related. */
  async bind(manager: EntityManager, request: ChainBindingRequest): Promise<string | null> {
    const [bound] = await preparedRows<{ vin: string }>(manager, 'rmi_sermi_chain_binding', CHAIN_BINDING_SQL, [
      request.rsseuid,
      request.ioeuid,
      request.authenticatedAt,
      request.vin,
      request.itemCode,
      request.sessionId,
      request.accountId,
    ]);
    return bound?.vin ?? null;
  }
}
