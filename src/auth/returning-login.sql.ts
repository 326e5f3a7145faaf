import { insertAuditEvents } from '../audit/audit-events.repository.js';
import { lockLinkForLoginSql, touchLinkForLoginSql } from '../identity-links/identity-links.repository.js';
import { sermiLoginInsert } from '../sermi/access-log/sermi-access-log.repository.js';
import { forgetHintSql, keepHintSql } from '../login-transactions/sign-out-hints.repository.js';
import { consumeForCompletionSql } from '../login-transactions/login-transactions.repository.js';
import { insertSessionSql, replaceSessionSql } from '../sessions/sessions.repository.js';

/**
 * The common login — a known identity of an active account — as one statement (one round trip, atomic as any
 * single statement): lock and refresh the identity link, replace the browser's previous session, create the
 * session, and append the audit events (changed attributes first, then the login). It is assembled from the
 * statements the general path (UserMappingService + SessionsService + AuditService in one transaction) runs, taken
 * from the repositories that own them, and returns no row for every other case (unknown identity, disabled
 * account, changed person key), which then takes the general path. test/auth/returning-login-parity.test.ts runs
 * the same logins through both paths and compares the rows they leave.
 *
 * $1 provider, $2 issuer, $3 subject, $4 attributes, $5 person key, $6 previous session token hash,
 * $7 new session token hash, $8 auth context, $9 idle timeout s, $10 absolute timeout s, $11 client ip,
 * $12 user agent, $13 request id, $14 login audit details, $15 SERMI login record (or null), $16 when the person
 * authenticated at the provider (its auth_time; null: it did not say, and the session is never recent), $17 the ID
 * token, kept for RP-initiated logout (or null), $18 when the session must end at the latest (or null), $19 the hash
 * of the new handle in the browser's note for this provider, under which the ID token is kept for its next sign-out
 * (or null; SignOutHint), $20 the hash of the handle the note held before, whose token goes (or null), $21 the
 * login to consume (a login this process started, StoredLoginTransaction.consumedOnCompletion; or null).
 *
 * It always returns one row: `consumed` and `expired` tell what became of login $21, and the session's columns are
 * null when the statement wrote nothing. It writes nothing unless it consumed an unexpired $21 (when one is given).
 *
 * `replacesSession`: the browser sent a session token ($6 not null). Without one there is nothing to replace, and
 * that variant leaves `sessions` alone: as a prepared statement the UPDATE's cached generic plan cannot know $6 is
 * null, and one planned while the table was small scanned every live session on each login (docs/benchmark.md).
 */
export const returningLoginSql = (replacesSession: boolean) => `
WITH consumed AS (
  ${consumeForCompletionSql('$21::uuid')}
), link AS (
  ${lockLinkForLoginSql(
    'l.id, l.account_id, l.attributes AS before',
    // A changed person key needs the general path's checks.
    `AND a.status = 'active' AND ($5::text IS NULL OR l.person_key IS NOT DISTINCT FROM $5::text)
     AND ($21::uuid IS NULL OR EXISTS (SELECT 1 FROM consumed WHERE NOT consumed.expired))`,
  )}
), touched AS (
  ${touchLinkForLoginSql('link', { attributes: '$4::jsonb', personKey: '$5::text' })}
  RETURNING l.id, l.account_id, link.before
), replaced AS (
  ${replacesSession ? replaceSessionSql('$6', 'EXISTS (SELECT 1 FROM touched)') : 'SELECT NULL::uuid AS id WHERE $6::bytea IS NOT NULL'}
), session AS (
  ${insertSessionSql('touched t', {
    tokenHash: '$7',
    accountId: 't.account_id',
    provider: '$1',
    identityLinkId: 't.id',
    authenticatedAt: '$16',
    authContext: '$8',
    idleTimeoutSeconds: '$9',
    absoluteTimeoutSeconds: '$10',
    clientIp: '$11',
    userAgent: '$12',
    endsBy: '$18',
  })}
  RETURNING id, account_id, identity_link_id, absolute_expires_at
), hint AS (
  ${keepHintSql('session', { handleHash: '$19', provider: '$1', idToken: '$17', seconds: '$10' })}
), replaced_hint AS (
  ${forgetHintSql('$20', 'EXISTS (SELECT 1 FROM session)')}
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
       (SELECT count(*) FROM sermi_logged) AS sermi_records,
       EXISTS (SELECT 1 FROM consumed) AS consumed, EXISTS (SELECT 1 FROM consumed WHERE expired) AS expired
  FROM (SELECT 1) AS one LEFT JOIN session s ON true`;

export const RETURNING_LOGIN_SQL = returningLoginSql(true);
export const RETURNING_LOGIN_FRESH_BROWSER_SQL = returningLoginSql(false);
