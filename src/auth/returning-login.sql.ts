import { insertAuditEvents } from '../audit/audit-events.repository.js';
import { sermiLoginInsert } from '../sermi/access-log/access-log.sql.js';
import { ABSOLUTE_EXPIRY } from '../sessions/sessions.service.js';

/**
 * The common login — a known identity of an active account — as one statement (one round trip, atomic as any
 * single statement): lock and refresh the identity link, replace the browser's previous session, create the
 * session, and append the audit events (changed attributes first, then the login). It does exactly what the
 * general path (UserMappingService + SessionsService + AuditService in one transaction) does for this case, and
 * returns no row for every other case (unknown identity, disabled account, changed person key), which then takes
 * the general path.
 *
 * $1 provider, $2 issuer, $3 subject, $4 attributes, $5 person key, $6 previous session token hash,
 * $7 new session token hash, $8 auth context, $9 idle timeout s, $10 absolute timeout s, $11 client ip,
 * $12 user agent, $13 request id, $14 login audit details, $15 SERMI login record (or null), $16 when the person
 * authenticated at the provider (its auth_time; null: it did not say, and the session is never recent), $17 the ID
 * token kept for RP-initiated logout (or null), $18 when the session must end at the latest (or null).
 */
export const RETURNING_LOGIN_SQL = `
WITH link AS (
  SELECT l.id, l.account_id, l.attributes AS before
    FROM identity_links l JOIN accounts a ON a.id = l.account_id
   WHERE l.provider = $1 AND l.issuer = $2 AND l.subject = $3 AND a.status = 'active'
     -- A changed person key needs the general path's checks.
     AND ($5::text IS NULL OR l.person_key IS NOT DISTINCT FROM $5::text)
   -- KEY SHARE on the account (see UserMappingService.findLink): a disable in progress is waited for and then seen.
   FOR UPDATE OF l FOR KEY SHARE OF a
), touched AS (
  UPDATE identity_links l
     SET last_login_at = now(), attributes = $4::jsonb, person_key = COALESCE($5, l.person_key),
         updated_at = CASE WHEN l.attributes IS DISTINCT FROM $4::jsonb THEN now() ELSE l.updated_at END
    FROM link WHERE l.id = link.id
  RETURNING l.id, l.account_id, link.before
), replaced AS (
  UPDATE sessions SET revoked_at = now(), revoke_reason = 'replaced_by_login', id_token_hint = NULL
   WHERE token_hash = $6 AND revoked_at IS NULL AND EXISTS (SELECT 1 FROM touched)
  RETURNING id
), session AS (
  INSERT INTO sessions (token_hash, account_id, provider, identity_link_id, authenticated_at, auth_context,
                        last_seen_at, idle_expires_at, absolute_expires_at, client_ip, user_agent, id_token_hint)
  SELECT $7, t.account_id, $1, t.id, $16::timestamptz, $8::jsonb, now(),
         LEAST(now() + make_interval(secs => $9), ${ABSOLUTE_EXPIRY('$10', '$18')}),
         ${ABSOLUTE_EXPIRY('$10', '$18')}, $11, $12, $17::text
    FROM touched t
  RETURNING id, account_id, identity_link_id, absolute_expires_at
), changes AS (
  SELECT t.account_id, t.id AS link_id,
         jsonb_object_agg(k, jsonb_build_object('before', COALESCE(t.before -> k, 'null'), 'after', COALESCE($4::jsonb -> k, 'null'))) AS changes
    FROM touched t, LATERAL (SELECT jsonb_object_keys(t.before) UNION SELECT jsonb_object_keys($4::jsonb)) AS keys(k)
   WHERE t.before -> k IS DISTINCT FROM $4::jsonb -> k
   GROUP BY t.account_id, t.id
), audited AS (
  ${insertAuditEvents(`
  SELECT 'identity.attributes_updated', 'system', NULL, c.account_id,
         jsonb_build_object('linkId', c.link_id, 'provider', $1, 'changes', c.changes), $13
    FROM changes c
  UNION ALL
  SELECT 'auth.login_succeeded', 'account', s.account_id, s.account_id,
         $14::jsonb || jsonb_build_object('sessionId', s.id, 'linkId', s.identity_link_id, 'provisioned', false)
           || COALESCE((SELECT jsonb_build_object('replacedSessionId', r.id) FROM replaced r LIMIT 1), '{}'::jsonb),
         $13
    FROM session s`)}
  RETURNING seq
), sermi_logged AS (
  ${sermiLoginInsert('session', { record: '$15', clientIp: '$11::inet', userAgent: '$12::text', requestId: '$13::text' })}
  RETURNING id
)
SELECT s.id, s.account_id, s.absolute_expires_at, (SELECT count(*) FROM audited) AS audit_events,
       (SELECT count(*) FROM sermi_logged) AS sermi_records FROM session s`;
