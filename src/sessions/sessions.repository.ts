import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { LinkSummary } from '../access/authenticated-request.js';
import type { AccountStatus } from '../accounts/account.entity.js';
import type { IdentityProvider } from '../common/identity-providers.js';
import { jsonb, preparedRows, sqlRows } from '../database/sql.js';

/** Every statement on `sessions`, and the fragments of the returning-login statement that touch it. */

/** A session as every authenticated request looks it up, with its account and the account's links. */
export interface SessionLookupRow {
  token_hash: Buffer;
  id: string;
  account_id: string;
  roles: string[];
  provider: IdentityProvider;
  identity_link_id: string | null;
  authenticated_at: number | null;
  auth_context: Record<string, unknown>;
  created_at: number;
  idle_expires_at: number;
  absolute_expires_at: number;
  display_name: string;
  status: AccountStatus;
  account_created_at: number;
  account_updated_at: number;
  links: LinkSummary[];
}

export interface LiveSessionRow {
  id: string;
  provider: string;
  created_at: Date;
  authenticated_at: Date | null;
  last_seen_at: Date;
  expires_at: Date;
  client_ip: string | null;
  user_agent: string | null;
}

export interface NewSessionRow {
  tokenHash: Buffer;
  accountId: string;
  provider: IdentityProvider;
  identityLinkId: string | null;
  authenticatedAt: Date | null;
  authContext: Record<string, unknown>;
  idleTimeoutSeconds: number;
  absoluteTimeoutSeconds: number;
  clientIp: string | null;
  userAgent: string | null;
  endsBy: Date | null;
}

/** A timestamp as epoch milliseconds: a float for the driver, where a timestamptz costs a date-string parse. */
const epochMs = (column: string) => `(extract(epoch FROM ${column}) * 1000)::float8`;

/** When a new session ends at the latest: the absolute timeout (seconds) from now, or an earlier end (or null). */
const absoluteExpiry = (timeoutSeconds: string, endsBy: string) =>
  `LEAST(now() + make_interval(secs => ${timeoutSeconds}), COALESCE(${endsBy}::timestamptz, 'infinity'))`;

/** A session (its table or alias) that is not revoked, neither idle- nor absolutely expired. */
const live = (s: string) =>
  `${s}.revoked_at IS NULL AND ${s}.idle_expires_at > now() AND ${s}.absolute_expires_at > now()`;
const LIVE = live('sessions');

/** A session (`s`) that lets its holder in: live, and its account (`a`, joined) active. */
const letsHolderIn = (s: string, a: string) => `${live(s)} AND ${a}.status = 'active'`;

/**
 * True while the session (SQL expressions for its id and its account's) lets its holder in — the lookup's
 * condition, for a statement that checks the session itself in the same statement that does its work (routes
 * marked @SessionCheckedByStatement()).
 */
export const sessionIsLiveSql = (sessionId: string, accountId: string) => `EXISTS (
  SELECT 1 FROM sessions live_s JOIN accounts live_a ON live_a.id = live_s.account_id
   WHERE live_s.id = ${sessionId} AND live_s.account_id = ${accountId} AND ${letsHolderIn('live_s', 'live_a')})`;

/** Live sessions, all instances: what the rmi_sessions_live gauge shows. */
export const COUNT_LIVE_SESSIONS_SQL = `SELECT count(*)::int AS live FROM sessions WHERE ${LIVE}`;

const REVOKE = (reason: string) => `revoked_at = now(), revoke_reason = ${reason}`;

/**
 * The browser's previous session (its token hash) is replaced by a new login — no session fixation. `guard` is a
 * condition the statement adds (the returning-login statement: only when its login goes ahead).
 */
export const replaceSessionSql = (tokenHash: string, guard = 'TRUE') => `
  UPDATE sessions SET ${REVOKE(`'replaced_by_login'`)}
   WHERE token_hash = ${tokenHash} AND revoked_at IS NULL AND ${guard}
  RETURNING id`;

/**
 * A new session; `rows` names the relation it is inserted from: one row for a plain insert, the link of a returning
 * login in that statement. The other arguments are SQL expressions.
 */
export const insertSessionSql = (
  rows: string,
  s: {
    tokenHash: string;
    accountId: string;
    provider: string;
    identityLinkId: string;
    authenticatedAt: string;
    authContext: string;
    idleTimeoutSeconds: string;
    absoluteTimeoutSeconds: string;
    clientIp: string;
    userAgent: string;
    endsBy: string;
  },
) => `
  INSERT INTO sessions (token_hash, account_id, provider, identity_link_id, authenticated_at, auth_context,
                        last_seen_at, idle_expires_at, absolute_expires_at, client_ip, user_agent)
  SELECT ${s.tokenHash}, ${s.accountId}, ${s.provider}, ${s.identityLinkId}, ${s.authenticatedAt}::timestamptz,
         ${s.authContext}::jsonb, now(),
         LEAST(now() + make_interval(secs => ${s.idleTimeoutSeconds}), ${absoluteExpiry(s.absoluteTimeoutSeconds, s.endsBy)}),
         ${absoluteExpiry(s.absoluteTimeoutSeconds, s.endsBy)}, ${s.clientIp}::inet, ${s.userAgent}::text
    FROM ${rows}`;

@Injectable()
export class SessionsRepository {
  /**
   * The live sessions behind these token hashes, of active accounts: one prepared statement for a batch of
   * requests. A session last seen more than `touchIntervalSeconds` ago is touched by the same statement (its idle
   * expiry extended by `idleTimeoutSeconds`, never beyond the absolute one) — unless another transaction holds its
   * row right now (SKIP LOCKED): that one is touching it already, so concurrent requests on several instances never
   * queue behind each other's touch.
   */
  lookup(
    manager: EntityManager,
    tokenHashes: Buffer[],
    touch: { intervalSeconds: number; idleTimeoutSeconds: number },
  ): Promise<SessionLookupRow[]> {
    return preparedRows<SessionLookupRow>(
      manager,
      'rmi_session_lookup',
      `WITH found AS MATERIALIZED (
         SELECT s.token_hash, s.id, s.account_id, a.roles, s.provider, s.identity_link_id, s.auth_context,
                s.authenticated_at, s.created_at, s.idle_expires_at, s.absolute_expires_at,
                s.last_seen_at < now() - make_interval(secs => $2) AS due,
                a.display_name, a.status, a.created_at AS account_created_at, a.updated_at AS account_updated_at
           FROM sessions s JOIN accounts a ON a.id = s.account_id
          WHERE s.token_hash = ANY($1::bytea[]) AND ${letsHolderIn('s', 'a')}
       ),
       touched AS (
         UPDATE sessions t SET last_seen_at = now(),
                idle_expires_at = LEAST(now() + make_interval(secs => $3), t.absolute_expires_at)
           FROM (SELECT id FROM sessions WHERE id IN (SELECT id FROM found WHERE due)
                   FOR NO KEY UPDATE SKIP LOCKED) due
          WHERE t.id = due.id
         RETURNING t.id, t.idle_expires_at
       )
       SELECT f.token_hash, f.id, f.account_id, f.roles, f.provider, f.identity_link_id, f.auth_context,
              ${epochMs('f.authenticated_at')} AS authenticated_at, ${epochMs('f.created_at')} AS created_at,
              ${epochMs('COALESCE(touched.idle_expires_at, f.idle_expires_at)')} AS idle_expires_at,
              ${epochMs('f.absolute_expires_at')} AS absolute_expires_at,
              f.display_name, f.status, ${epochMs('f.account_created_at')} AS account_created_at,
              ${epochMs('f.account_updated_at')} AS account_updated_at,
              COALESCE((SELECT jsonb_agg(jsonb_build_object(
                          'id', l.id, 'provider', l.provider, 'issuer', l.issuer, 'subject', l.subject,
                          'attributes', l.attributes,
                          'firstLoginAt', to_char(l.first_login_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                          'lastLoginAt', to_char(l.last_login_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))
                          ORDER BY l.created_at)
                          FROM identity_links l WHERE l.account_id = f.account_id), '[]') AS links
         FROM found f LEFT JOIN touched ON touched.id = f.id`,
      [tokenHashes, touch.intervalSeconds, touch.idleTimeoutSeconds],
    );
  }

  async insert(manager: EntityManager, session: NewSessionRow): Promise<{ id: string; absolute_expires_at: Date }> {
    const [row] = await sqlRows<{ id: string; absolute_expires_at: Date }>(
      manager,
      `${insertSessionSql('(SELECT 1) AS one', {
        tokenHash: '$1::bytea',
        accountId: '$2::uuid',
        provider: '$3::text',
        identityLinkId: '$4::uuid',
        authenticatedAt: '$5',
        authContext: '$6',
        idleTimeoutSeconds: '$7',
        absoluteTimeoutSeconds: '$8',
        clientIp: '$9',
        userAgent: '$10',
        endsBy: '$11',
      })}
       RETURNING id, absolute_expires_at`,
      [
        session.tokenHash,
        session.accountId,
        session.provider,
        session.identityLinkId,
        session.authenticatedAt,
        jsonb(session.authContext),
        session.idleTimeoutSeconds,
        session.absoluteTimeoutSeconds,
        session.clientIp,
        session.userAgent,
        session.endsBy,
      ],
    );
    return row;
  }

  /** The account's live sessions, most recently used first, at most `limit`. */
  listLive(manager: EntityManager, accountId: string, limit: number): Promise<LiveSessionRow[]> {
    return sqlRows<LiveSessionRow>(
      manager,
      `SELECT id, provider, created_at, authenticated_at, last_seen_at,
              least(idle_expires_at, absolute_expires_at) AS expires_at, host(client_ip) AS client_ip, user_agent
         FROM sessions
        WHERE account_id = $1 AND ${LIVE}
        ORDER BY last_seen_at DESC, id
        LIMIT $2`,
      [accountId, limit],
    );
  }

  /** The live session behind a token hash, created by `createdBy` at the latest (when given). */
  async findLive(
    manager: EntityManager,
    tokenHash: Buffer,
    createdBy: Date | null,
  ): Promise<{ id: string; account_id: string } | undefined> {
    const [row] = await sqlRows<{ id: string; account_id: string }>(
      manager,
      `SELECT id, account_id FROM sessions
        WHERE token_hash = $1 AND ${LIVE}
          AND ($2::timestamptz IS NULL OR created_at <= $2::timestamptz)`,
      [tokenHash, createdBy],
    );
    return row;
  }

  /** Ends live sessions of one account: the one given, or (`allBut`) every other one; returns their ids. */
  async revokeOwn(
    manager: EntityManager,
    accountId: string,
    target: { sessionId: string } | { allBut: string },
    reason: string,
  ): Promise<string[]> {
    const [condition, sessionId] = 'sessionId' in target ? ['id = $2', target.sessionId] : ['id <> $2', target.allBut];
    const rows = await sqlRows<{ id: string }>(
      manager,
      `UPDATE sessions SET ${REVOKE('$3')}
        WHERE account_id = $1 AND ${condition} AND ${LIVE}
        RETURNING id`,
      [accountId, sessionId, reason],
    );
    return rows.map((row) => row.id);
  }

  /** Revokes the session; returns its provider, or undefined if it was already revoked. */
  async revoke(
    manager: EntityManager,
    id: string,
    reason: string,
  ): Promise<{ provider: IdentityProvider } | undefined> {
    const [row] = await sqlRows<{ provider: IdentityProvider }>(
      manager,
      `UPDATE sessions SET ${REVOKE('$2')} WHERE id = $1 AND revoked_at IS NULL RETURNING provider`,
      [id, reason],
    );
    return row;
  }

  /** Revokes the browser's previous session for a new login; returns its id if it was not revoked yet. */
  async replaceByLogin(manager: EntityManager, tokenHash: Buffer): Promise<string | undefined> {
    const [row] = await sqlRows<{ id: string }>(manager, replaceSessionSql('$1'), [tokenHash]);
    return row?.id;
  }

  /** Revokes every unexpired session of an account or authenticated through an identity link; returns their ids. */
  async revokeAllOf(
    manager: EntityManager,
    owner: { accountId: string } | { identityLinkId: string },
    reason: string,
  ): Promise<string[]> {
    const [column, id] =
      'accountId' in owner ? ['account_id', owner.accountId] : ['identity_link_id', owner.identityLinkId];
    const rows = await sqlRows<{ id: string }>(
      manager,
      `UPDATE sessions SET ${REVOKE('$2')}
        WHERE ${column} = $1 AND revoked_at IS NULL AND absolute_expires_at > now() RETURNING id`,
      [id, reason],
    );
    return rows.map((row) => row.id);
  }

  /**
   * Deletes up to `batch` sessions idle-expired more than `retentionDays` ago, if this transaction gets the purge
   * lock (one instance purges at a time; `locked: false` — another one is at it).
   */
  async purgeBatch(
    manager: EntityManager,
    retentionDays: number,
    batch: number,
  ): Promise<{ locked: boolean; deleted: number }> {
    const [row] = await sqlRows<{ locked: boolean; deleted: number }>(
      manager,
      `WITH leader AS (SELECT pg_try_advisory_xact_lock(hashtext('sessions.purge')) AS locked),
            gone AS (
              DELETE FROM sessions
               WHERE id IN (SELECT id FROM sessions
                             WHERE idle_expires_at < now() - make_interval(days => $1::int)
                             ORDER BY idle_expires_at LIMIT $2::int FOR UPDATE SKIP LOCKED)
                 AND (SELECT locked FROM leader)
              RETURNING 1)
       SELECT (SELECT locked FROM leader) AS locked, (SELECT count(*)::int FROM gone) AS deleted`,
      [retentionDays, batch],
    );
    return row;
  }
}
