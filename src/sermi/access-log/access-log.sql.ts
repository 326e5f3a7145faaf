/**
 * Access decisions, many in one statement (one row per decision, as parallel arrays): look up each item's
 * classification and write the log record with the decision that classification selects — the security-related
 * decision the caller worked out (access-rules.ts) or, for any other item, `granted` / `not_security_related`.
 * Record ids come from the caller; a decision whose item is unknown gets no row back and writes nothing.
 *
 * $1 record ids, $2 item codes, $3 login methods, $4 account ids, $5 session ids, $6 actor types, $7 subs,
 * $8 cabuids, $9 iouids, $10 ioeuids, $11 rssuids, $12 rsseuids, $13 vins, $14 security decisions,
 * $15 security reasons, $16 client ips, $17 user agents, $18 request ids.
 */
export const ACCESS_DECISIONS_SQL = `
WITH decision AS (
  SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::uuid[], $5::uuid[], $6::text[], $7::text[], $8::text[],
                       $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[],
                       $16::inet[], $17::text[], $18::text[])
    AS d(id, item_code, login_method, account_id, session_id, actor_type, sub, cabuid, iouid, ioeuid, rssuid, rsseuid,
         vin, security_decision, security_reason, client_ip, user_agent, request_id)
),
logged AS (
  INSERT INTO sermi_access_log (id, kind, login_method, account_id, session_id, actor_type, sub, cabuid, iouid, ioeuid,
                                rssuid, rsseuid, vin, item_code, item_security_related, decision, reason,
                                client_ip, user_agent, request_id)
  SELECT d.id, 'access', d.login_method, d.account_id, d.session_id, d.actor_type, d.sub, d.cabuid, d.iouid, d.ioeuid,
         d.rssuid, d.rsseuid, d.vin, i.code, i.security_related,
         CASE WHEN i.security_related THEN d.security_decision ELSE 'granted' END,
         CASE WHEN i.security_related THEN d.security_reason ELSE 'not_security_related' END,
         d.client_ip, d.user_agent, d.request_id
    FROM decision d JOIN rmi_items i ON i.code = d.item_code
  RETURNING id, item_code, decision, reason, item_security_related,
            (extract(epoch FROM recorded_at) * 1000)::float8 AS recorded_at
)
SELECT l.id, l.decision, l.reason, l.recorded_at, l.item_security_related AS security_related, i.title
  FROM logged l JOIN rmi_items i ON i.code = l.item_code`;

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
