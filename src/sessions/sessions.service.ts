import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { preparedRows, sqlRows, jsonb } from '../database/sql.js';
import { StatementBatcher } from '../database/statement-batcher.js';
import type { AppConfig } from '../app/app.config.js';
import { InjectAppConfig } from '../config/config.module.js';
import type { IdentityProvider } from '../common/identity-providers.js';
import type { AccountStatus } from '../accounts/account.entity.js';
import type { LinkSummary, SessionPrincipal } from '../access/authenticated-request.js';
import { hashSessionToken, looksLikeSessionToken, newSessionToken } from '../access/session-token.js';

export interface NewSession {
  accountId: string;
  provider: IdentityProvider;
  identityLinkId: string | null;
  /** The provider's `auth_time`; null when it did not say (the session is then never "recent"). */
  authenticatedAt: Date | null;
  /** The ID token, when the provider offers RP-initiated logout (see Session.idTokenHint). */
  idTokenHint?: string | null;
  authContext?: Record<string, unknown>;
  clientIp?: string | null;
  userAgent?: string | null;
  /** Ends by then at the latest, before SESSION_ABSOLUTE_TIMEOUT_SECONDS: sessions whose proof expires sooner. */
  endsBy?: Date;
}

export interface IssuedSession {
  sessionId: string;
  token: string;
  absoluteExpiresAt: Date;
}

interface SessionRow {
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
  needs_touch: boolean;
  display_name: string;
  status: AccountStatus;
  account_created_at: number;
  account_updated_at: number;
  links: LinkSummary[];
}

/** A timestamp as epoch milliseconds: a float for the driver, where a timestamptz costs a date-string parse. */
const epochMs = (column: string) => `(extract(epoch FROM ${column}) * 1000)::float8`;

/** When a new session ends at the latest: the absolute timeout (seconds) from now, or an earlier end (or null). */
export const ABSOLUTE_EXPIRY = (timeoutSeconds: string, endsBy: string) =>
  `LEAST(now() + make_interval(secs => ${timeoutSeconds}), COALESCE(${endsBy}::timestamptz, 'infinity'))`;

/** A session that still lets its holder in: not revoked, neither idle- nor absolutely expired. */
const LIVE = `revoked_at IS NULL AND idle_expires_at > now() AND absolute_expires_at > now()`;

/** At most this many sessions are listed; more live at once would mean something is wrong (the answer says so). */
const MAX_LISTED_SESSIONS = 100;

export interface LiveSession {
  id: string;
  provider: string;
  createdAt: Date;
  authenticatedAt: Date | null;
  lastSeenAt: Date;
  expiresAt: Date;
  clientIp: string | null;
  userAgent: string | null;
}

@Injectable()
export class SessionsService {
  /** Last-seen is written at most this often per session, so reads do not each cost a write. */
  private readonly touchIntervalSeconds: number;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectAppConfig() private readonly config: AppConfig,
  ) {
    this.touchIntervalSeconds = Math.max(1, Math.min(60, Math.floor(config.session.idleTimeoutSeconds / 10)));
  }

  /**
   * The lookup behind authenticate(), batched: requests arriving while a lookup runs are answered by the next one
   * together (StatementBatcher). Every request is still checked against the database, never a cache, so a
   * revocation takes effect at once.
   */
  private readonly lookups = new StatementBatcher<Buffer, SessionRow | undefined>(
    async (tokenHashes) => {
      const rows = await preparedRows<SessionRow>(
        this.dataSource.manager,
        'rmi_session_lookup',
        `SELECT s.token_hash, s.id, s.account_id, a.roles, s.provider, s.identity_link_id, s.auth_context,
              ${epochMs('s.authenticated_at')} AS authenticated_at, ${epochMs('s.created_at')} AS created_at,
              ${epochMs('s.idle_expires_at')} AS idle_expires_at, ${epochMs('s.absolute_expires_at')} AS absolute_expires_at,
              s.last_seen_at < now() - make_interval(secs => $2) AS needs_touch,
              a.display_name, a.status, ${epochMs('a.created_at')} AS account_created_at,
              ${epochMs('a.updated_at')} AS account_updated_at,
              COALESCE((SELECT jsonb_agg(jsonb_build_object(
                          'id', l.id, 'provider', l.provider, 'issuer', l.issuer, 'subject', l.subject,
                          'attributes', l.attributes,
                          'firstLoginAt', to_char(l.first_login_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                          'lastLoginAt', to_char(l.last_login_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))
                          ORDER BY l.created_at)
                          FROM identity_links l WHERE l.account_id = a.id), '[]') AS links
         FROM sessions s JOIN accounts a ON a.id = s.account_id
        WHERE s.token_hash = ANY($1::bytea[]) AND s.revoked_at IS NULL AND a.status = 'active'
          AND s.idle_expires_at > now() AND s.absolute_expires_at > now()`,
        [tokenHashes, this.touchIntervalSeconds],
      );
      const byHash = new Map(rows.map((row) => [row.token_hash.toString('hex'), row]));
      return tokenHashes.map((hash) => byHash.get(hash.toString('hex')));
    },
    { maxBatch: 200, maxInFlight: 2 },
  );

  async create(input: NewSession, manager: EntityManager = this.dataSource.manager): Promise<IssuedSession> {
    const token = newSessionToken();
    const { idleTimeoutSeconds } = this.config.session;
    const { absoluteTimeoutSeconds } = this.config.session;
    const rows: { id: string; absolute_expires_at: Date }[] = await sqlRows(
      manager,
      `INSERT INTO sessions (token_hash, account_id, provider, identity_link_id, authenticated_at, auth_context,
                             last_seen_at, idle_expires_at, absolute_expires_at, client_ip, user_agent, id_token_hint)
       VALUES ($1, $2, $3, $4, $5, $6, now(),
               LEAST(now() + make_interval(secs => $7), ${ABSOLUTE_EXPIRY('$8', '$12')}),
               ${ABSOLUTE_EXPIRY('$8', '$12')}, $9, $10, $11)
       RETURNING id, absolute_expires_at`,
      [
        hashSessionToken(token),
        input.accountId,
        input.provider,
        input.identityLinkId,
        input.authenticatedAt,
        jsonb(input.authContext ?? {}),
        idleTimeoutSeconds,
        absoluteTimeoutSeconds,
        input.clientIp ?? null,
        input.userAgent?.slice(0, 512) ?? null,
        input.idTokenHint ?? null,
        input.endsBy ?? null,
      ],
    );
    return { sessionId: rows[0].id, token, absoluteExpiresAt: rows[0].absolute_expires_at };
  }

  /**
   * The session behind a cookie value, or null when it is unknown, revoked, idle or past its absolute
   * lifetime, or its account is disabled. Extends the idle expiry (never beyond the absolute one).
   */
  async authenticate(token: unknown): Promise<SessionPrincipal | null> {
    if (!looksLikeSessionToken(token)) return null;
    const row = await this.lookups.submit(hashSessionToken(token));
    if (!row) return null;
    let idleExpiresAt = new Date(row.idle_expires_at);
    if (row.needs_touch) {
      const touched = await sqlRows<{ idle_expires_at: Date }>(
        this.dataSource.manager,
        `UPDATE sessions SET last_seen_at = now(),
                idle_expires_at = LEAST(now() + make_interval(secs => $2), absolute_expires_at)
          WHERE id = $1 RETURNING idle_expires_at`,
        [row.id, this.config.session.idleTimeoutSeconds],
      );
      idleExpiresAt = touched[0]?.idle_expires_at ?? idleExpiresAt;
    }
    return {
      sessionId: row.id,
      token,
      accountId: row.account_id,
      roles: row.roles as SessionPrincipal['roles'],
      provider: row.provider,
      identityLinkId: row.identity_link_id,
      authenticatedAt: row.authenticated_at === null ? null : new Date(row.authenticated_at),
      authContext: row.auth_context,
      createdAt: new Date(row.created_at),
      idleExpiresAt,
      absoluteExpiresAt: new Date(row.absolute_expires_at),
      account: {
        id: row.account_id,
        displayName: row.display_name,
        status: row.status,
        roles: row.roles as SessionPrincipal['roles'],
        createdAt: new Date(row.account_created_at),
        updatedAt: new Date(row.account_updated_at),
      },
      links: row.links,
    };
  }

  /**
   * The account's live sessions, most recently used first (for the person to review and end them); at most
   * MAX_LISTED_SESSIONS, and whether there were more.
   */
  async listLive(accountId: string): Promise<{ sessions: LiveSession[]; truncated: boolean }> {
    const rows = await sqlRows<{
      id: string;
      provider: string;
      created_at: Date;
      authenticated_at: Date | null;
      last_seen_at: Date;
      expires_at: Date;
      client_ip: string | null;
      user_agent: string | null;
    }>(
      this.dataSource.manager,
      `SELECT id, provider, created_at, authenticated_at, last_seen_at,
              least(idle_expires_at, absolute_expires_at) AS expires_at, host(client_ip) AS client_ip, user_agent
         FROM sessions
        WHERE account_id = $1 AND ${LIVE}
        ORDER BY last_seen_at DESC, id
        LIMIT ${MAX_LISTED_SESSIONS + 1}`,
      [accountId],
    );
    const sessions = rows.slice(0, MAX_LISTED_SESSIONS).map((row) => ({
      id: row.id,
      provider: row.provider,
      createdAt: row.created_at,
      authenticatedAt: row.authenticated_at,
      lastSeenAt: row.last_seen_at,
      expiresAt: row.expires_at,
      clientIp: row.client_ip,
      userAgent: row.user_agent,
    }));
    return { sessions, truncated: rows.length > MAX_LISTED_SESSIONS };
  }

  /**
   * Ends live sessions of one account: the one given, or (`allBut`) every other one. Returns the ids it ended;
   * a session of another account, or one already over, is never touched.
   */
  async revokeOwn(
    accountId: string,
    target: { sessionId: string } | { allBut: string },
    reason: string,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<string[]> {
    const [condition, sessionId] = 'sessionId' in target ? ['id = $2', target.sessionId] : ['id <> $2', target.allBut];
    const rows = await sqlRows<{ id: string }>(
      manager,
      `UPDATE sessions SET revoked_at = now(), revoke_reason = $3, id_token_hint = NULL
        WHERE account_id = $1 AND ${condition}
          AND ${LIVE}
        RETURNING id`,
      [accountId, sessionId, reason],
    );
    return rows.map((row) => row.id);
  }

  /** Returns false when the session was already revoked (revocation is idempotent). */
  async revoke(sessionId: string, reason: string, manager: EntityManager = this.dataSource.manager): Promise<boolean> {
    return (await this.end(sessionId, reason, manager)) !== undefined;
  }

  /**
   * Revokes the session and hands back what ending the provider's session too needs (its provider and ID token,
   * which the row forgets now); undefined when it was already revoked.
   */
  async end(
    sessionId: string,
    reason: string,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<{ provider: IdentityProvider; idTokenHint: string | null } | undefined> {
    const [row] = await sqlRows<{ provider: IdentityProvider; id_token_hint: string | null }>(
      manager,
      `UPDATE sessions s SET revoked_at = now(), revoke_reason = $2, id_token_hint = NULL
         FROM sessions old WHERE s.id = $1 AND old.id = s.id AND s.revoked_at IS NULL
       RETURNING s.provider, old.id_token_hint`,
      [sessionId, reason],
    );
    return row ? { provider: row.provider, idTokenHint: row.id_token_hint } : undefined;
  }

  /**
   * The live session behind a cookie value (in the caller's transaction), without touching its expiry; with
   * `createdBy`, only a session that already existed at that time.
   */
  async liveSession(
    token: string | undefined,
    manager: EntityManager = this.dataSource.manager,
    createdBy?: Date,
  ): Promise<{ id: string; accountId: string } | undefined> {
    if (!looksLikeSessionToken(token)) return undefined;
    const [row] = await sqlRows<{ id: string; account_id: string }>(
      manager,
      `SELECT id, account_id FROM sessions
        WHERE token_hash = $1 AND ${LIVE}
          AND ($2::timestamptz IS NULL OR created_at <= $2::timestamptz)`,
      [hashSessionToken(token), createdBy ?? null],
    );
    return row ? { id: row.id, accountId: row.account_id } : undefined;
  }

  /** A new login replaces the browser's previous session (no session fixation); returns its id if it was live. */
  async replaceByLogin(
    token: string | undefined,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<string | undefined> {
    if (!looksLikeSessionToken(token)) return undefined;
    const [row] = await sqlRows<{ id: string }>(
      manager,
      `UPDATE sessions SET revoked_at = now(), revoke_reason = 'replaced_by_login', id_token_hint = NULL
        WHERE token_hash = $1 AND revoked_at IS NULL RETURNING id`,
      [hashSessionToken(token)],
    );
    return row?.id;
  }

  /** Revokes every live session authenticated through one identity link (unlinked or re-bound); returns their ids. */
  revokeForLink(linkId: string, reason: string, manager: EntityManager = this.dataSource.manager): Promise<string[]> {
    return this.revokeLive('identity_link_id', linkId, reason, manager);
  }

  /** Revokes every live session of an account; returns their ids. */
  revokeAllForAccount(
    accountId: string,
    reason: string,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<string[]> {
    return this.revokeLive('account_id', accountId, reason, manager);
  }

  private async revokeLive(
    column: 'account_id' | 'identity_link_id',
    id: string,
    reason: string,
    manager: EntityManager,
  ): Promise<string[]> {
    const rows = await sqlRows<{ id: string }>(
      manager,
      `UPDATE sessions SET revoked_at = now(), revoke_reason = $2, id_token_hint = NULL
        WHERE ${column} = $1 AND revoked_at IS NULL AND absolute_expires_at > now() RETURNING id`,
      [id, reason],
    );
    return rows.map((row) => row.id);
  }
}
