/**
 * One access decision in one statement: look up the item's classification and write the log record with the
 * decision that classification selects — the security-related decision the caller worked out (access-rules.ts)
 * or, for any other item, `granted` / `not_security_related`. No row back means the item is unknown, and then
 * nothing was written.
 *
 * $1 item code, $2 login method, $3 account id, $4 session id, $5 actor type, $6 sub, $7 cabuid, $8 iouid,
 * $9 ioeuid, $10 rssuid, $11 rsseuid, $12 vin, $13 security decision, $14 security reason, $15 client ip,
 * $16 user agent, $17 request id.
 */
export const ACCESS_DECISION_SQL = `
WITH item AS (SELECT code, title, security_related FROM rmi_items WHERE code = $1),
logged AS (
  INSERT INTO sermi_access_log (kind, login_method, account_id, session_id, actor_type, sub, cabuid, iouid, ioeuid,
                                rssuid, rsseuid, vin, item_code, item_security_related, decision, reason,
                                client_ip, user_agent, request_id)
  SELECT 'access', $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, i.code, i.security_related,
         CASE WHEN i.security_related THEN $13 ELSE 'granted' END,
         CASE WHEN i.security_related THEN $14 ELSE 'not_security_related' END,
         $15, $16, $17
    FROM item i
  RETURNING id, decision, reason, (extract(epoch FROM recorded_at) * 1000)::float8 AS recorded_at
)
SELECT l.id, l.decision, l.reason, l.recorded_at, i.title, i.security_related FROM logged l CROSS JOIN item i`;

/**
 * Binds a chain session to a vehicle unless it is bound already, and returns the bound VIN — the first writer's
 * under concurrency (ON CONFLICT waits for it). Only for security-related items: no row back otherwise.
 * $1 session id, $2 vin, $3 item code.
 */
export const CHAIN_BINDING_SQL = `
WITH item AS (SELECT 1 FROM rmi_items WHERE code = $3 AND security_related),
existing AS (SELECT vin FROM sermi_chain_bindings WHERE session_id = $1 AND EXISTS (SELECT 1 FROM item)),
bound AS (
  INSERT INTO sermi_chain_bindings (session_id, vin)
  SELECT $1, $2 WHERE EXISTS (SELECT 1 FROM item) AND NOT EXISTS (SELECT 1 FROM existing)
  ON CONFLICT (session_id) DO UPDATE SET vin = sermi_chain_bindings.vin
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
