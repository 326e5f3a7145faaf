import { rmiItemJoin, securityRelatedItem } from '../../rmi-items/rmi-items.repository.js';

/**
 * Access decisions, many in one statement (one row per decision, as parallel arrays): look up each item's
 * classification and write the log record with the decision that classification selects — the security-related
 * decision the caller worked out (access-rules.ts) or, for any other item, `granted` / `not_security_related`.
 * Record ids come from the caller; a decision whose item is unknown gets no row back and writes nothing.
 *
 * A chain session bound to one vehicle ($19 true) is granted a security-related item only for the VIN its binding
 * returned ($20): the classification is read again here, so an item that became security-related after the
 * binding statement saw it as harmless (and bound nothing) is denied, never granted for an unbound vehicle.
 *
 * $1 record ids, $2 item codes, $3 login methods, $4 account ids, $5 session ids, $6 actor types, $7 subs,
 * $8 cabuids, $9 iouids, $10 ioeuids, $11 rssuids, $12 rsseuids, $13 vins, $14 security decisions,
 * $15 security reasons, $16 client ips, $17 user agents, $18 request ids, $19 chain-bound flags, $20 bound vins.
 */
export const ACCESS_DECISIONS_SQL = `
WITH decision AS (
  SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::uuid[], $5::uuid[], $6::text[], $7::text[], $8::text[],
                       $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[],
                       $16::inet[], $17::text[], $18::text[], $19::boolean[], $20::text[])
    AS d(id, item_code, login_method, account_id, session_id, actor_type, sub, cabuid, iouid, ioeuid, rssuid, rsseuid,
         vin, security_decision, security_reason, client_ip, user_agent, request_id, chain_bound, bound_vin)
),
judged AS (
  SELECT d.*, i.code, i.security_related,
         CASE WHEN NOT i.security_related THEN 'granted'
              WHEN d.chain_bound AND d.bound_vin IS DISTINCT FROM d.vin THEN 'denied'
              ELSE d.security_decision END AS decision,
         CASE WHEN NOT i.security_related THEN 'not_security_related'
              WHEN d.chain_bound AND d.bound_vin IS DISTINCT FROM d.vin THEN 'chain_vehicle_mismatch'
              ELSE d.security_reason END AS reason
    FROM decision d ${rmiItemJoin('i', 'd.item_code')}
),
logged AS (
  INSERT INTO sermi_access_log (id, kind, login_method, account_id, session_id, actor_type, sub, cabuid, iouid, ioeuid,
                                rssuid, rsseuid, vin, item_code, item_security_related, decision, reason,
                                client_ip, user_agent, request_id)
  SELECT j.id, 'access', j.login_method, j.account_id, j.session_id, j.actor_type, j.sub, j.cabuid, j.iouid, j.ioeuid,
         j.rssuid, j.rsseuid, j.vin, j.code, j.security_related, j.decision, j.reason,
         j.client_ip, j.user_agent, j.request_id
    FROM judged j
  RETURNING id, item_code, decision, reason, item_security_related,
            (extract(epoch FROM recorded_at) * 1000)::float8 AS recorded_at
)
SELECT l.id, l.decision, l.reason, l.recorded_at, l.item_security_related AS security_related, i.title
  FROM logged l ${rmiItemJoin('i', 'l.item_code')}`;

/**
 * Binds a chain authorisation (RSSEUID, IOEUID, Trust Centre auth_time) to a vehicle unless it is bound already,
 * and returns the bound VIN — the first writer's under concurrency (ON CONFLICT waits for it), whichever session of
 * that authorisation wrote it. Only for security-related items: no row back otherwise.
 * $1 rsseuid, $2 ioeuid, $3 auth_time, $4 vin, $5 item code, $6 the deciding session.
 */
export const CHAIN_BINDING_SQL = `
WITH item AS (${securityRelatedItem('$5')}),
existing AS (
  SELECT vin FROM sermi_chain_bindings
   WHERE rsseuid = $1 AND ioeuid = $2 AND authenticated_at = $3 AND EXISTS (SELECT 1 FROM item)
),
bound AS (
  INSERT INTO sermi_chain_bindings (rsseuid, ioeuid, authenticated_at, vin, bound_by_session_id)
  SELECT $1, $2, $3, $4, $6 WHERE EXISTS (SELECT 1 FROM item) AND NOT EXISTS (SELECT 1 FROM existing)
  ON CONFLICT (rsseuid, ioeuid, authenticated_at) DO UPDATE SET vin = sermi_chain_bindings.vin
  RETURNING vin
)
SELECT vin FROM bound UNION ALL SELECT vin FROM existing`;

/**
 * The log record of a SERMI login, from the `sermiLogin` object of a verified login (a jsonb parameter), for the
 * session `session_source` yields. Used as a CTE body by the returning-login statement and on its own by the
 * general login path. Parameters are named by the caller: the record, the client ip, user agent and request id.
 */
export function sermiLoginInsert(
  sessionSource: string,
  p: { record: string; clientIp: string; userAgent: string; requestId: string },
): string {
  return `INSERT INTO sermi_access_log (kind, login_method, account_id, session_id, actor_type, sub, cabuid, iouid,
                                ioeuid, rssuid, rsseuid, decision, reason, client_ip, user_agent, request_id)
  SELECT 'login', r ->> 'method', s.account_id, s.id, r ->> 'actorType', r ->> 'sub', r ->> 'cabuid', r ->> 'iouid',
         r ->> 'ioeuid', r ->> 'rssuid', r ->> 'rsseuid', 'granted', 'sermi_login', ${p.clientIp}, ${p.userAgent},
         ${p.requestId}
    FROM ${sessionSource} s, (SELECT ${p.record}::jsonb AS r) login
   WHERE ${p.record}::jsonb IS NOT NULL`;
}
