import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { hotStatementBatcher, type StatementBatcher } from '../database/statement-batcher.js';
import { Metrics } from '../operations/metrics.js';
import type { AppConfig } from '../app/app.config.js';
import { InjectAppConfig } from '../config/config.module.js';
import type { IdentityProvider } from '../common/identity-providers.js';
import type { SessionFacts, SessionPrincipal } from '../access/authenticated-request.js';
import { hashSessionToken, looksLikeSessionToken, newSessionToken } from '../access/session-token.js';
import { type SessionLookupRow, SessionsRepository } from './sessions.repository.js';

export interface NewSession {
  accountId: string;
  provider: IdentityProvider;
  identityLinkId: string | null;
  /** The provider's `auth_time`; null when it did not say (the session is then never "recent"). */
  authenticatedAt: Date | null;
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

/** Sessions whose facts one instance keeps (SessionsService.facts()): a few MB at most, the oldest go first. */
const REMEMBERED_SESSIONS = 10_000;

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
  /** When a lookup extends a session's idle expiry: last seen longer ago than a tenth of it (1–60 s). */
  private readonly touch: { intervalSeconds: number; idleTimeoutSeconds: number };

  /**
   * The lookup behind authenticate(), batched: requests arriving while a lookup runs are answered by the next one
   * together, and under load a lookup lingers briefly for more (StatementBatcher). Every request is still checked
   * against the database, never a cache, so a revocation takes effect at once. The same statement touches sessions
   * that are due (their idle expiry), so a request never waits for a touch of its own.
   */
  private readonly lookups: StatementBatcher<Buffer, SessionLookupRow | undefined>;

  /**
   * Sessions this instance looked up lately (by token hash, oldest first): their fixed facts, for the routes that
   * check liveness in their own statement (facts()). Nothing here says a session is live. Entries older than the
   * touch interval are looked up again — which also touches the session, as any request's lookup does.
   */
  private readonly lookedUp = new Map<string, { facts: Omit<SessionFacts, 'token'>; at: number }>();

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectAppConfig() private readonly config: AppConfig,
    private readonly sessions: SessionsRepository,
    private readonly metrics: Metrics,
  ) {
    const { idleTimeoutSeconds } = config.session;
    this.touch = {
      intervalSeconds: Math.max(1, Math.min(60, Math.floor(idleTimeoutSeconds / 10))),
      idleTimeoutSeconds,
    };
    this.lookups = hotStatementBatcher(
      config.database.batchLingerMs,
      (tokenHashes) => this.sessions.lookup(this.dataSource.manager, tokenHashes, this.touch),
      { input: (hash) => hash.toString('hex'), row: (row) => row.token_hash.toString('hex') },
      { onStatement: (calls) => this.metrics.sessionLookupBatch.observe(calls) },
    );
  }

  async create(input: NewSession, manager: EntityManager = this.dataSource.manager): Promise<IssuedSession> {
    const token = newSessionToken();
    const { idleTimeoutSeconds } = this.config.session;
    const { absoluteTimeoutSeconds } = this.config.session;
    const row = await this.sessions.insert(manager, {
      tokenHash: hashSessionToken(token),
      accountId: input.accountId,
      provider: input.provider,
      identityLinkId: input.identityLinkId,
      authenticatedAt: input.authenticatedAt,
      authContext: input.authContext ?? {},
      idleTimeoutSeconds,
      absoluteTimeoutSeconds,
      clientIp: input.clientIp ?? null,
      userAgent: input.userAgent?.slice(0, 512) ?? null,
      endsBy: input.endsBy ?? null,
    });
    return { sessionId: row.id, token, absoluteExpiresAt: row.absolute_expires_at };
  }

  /**
   * The session behind a cookie value, or null when it is unknown, revoked, idle or past its absolute
   * lifetime, or its account is disabled. Extends the idle expiry (never beyond the absolute one).
   */
  async authenticate(token: unknown): Promise<SessionPrincipal | null> {
    if (!looksLikeSessionToken(token)) return null;
    return this.lookUp(token, hashSessionToken(token));
  }

  private async lookUp(token: string, tokenHash: Buffer): Promise<SessionPrincipal | null> {
    const row = await this.lookups.submit(tokenHash);
    if (!row) return null;
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
      idleExpiresAt: new Date(row.idle_expires_at),
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
   * The fixed facts of the session behind a cookie value, for a route whose own statement checks that the session
   * is live (@SessionCheckedByStatement(), sessionIsLiveSql): from memory when this instance looked it up within the
   * touch interval, else by the lookup (null when that finds no live session). Whoever uses them must check.
   */
  async facts(token: unknown): Promise<SessionFacts | null> {
    if (!looksLikeSessionToken(token)) return null;
    const tokenHash = hashSessionToken(token);
    const known = this.lookedUp.get(tokenHash.toString('hex'));
    if (known && performance.now() - known.at < this.touch.intervalSeconds * 1000) return { ...known.facts, token };
    return this.lookUpFacts(token, tokenHash);
  }

  /**
   * The lookup again, remembered or forgotten by its answer: after a statement found the session of facts() no
   * longer live, this says whether it ended (null) or something else kept the statement from writing.
   */
  async lookUpFacts(token: string, tokenHash = hashSessionToken(token)): Promise<SessionFacts | null> {
    const key = tokenHash.toString('hex');
    const principal = await this.lookUp(token, tokenHash);
    this.lookedUp.delete(key);
    if (!principal) return null;
    const { sessionId, accountId, provider, authenticatedAt, authContext, absoluteExpiresAt } = principal;
    const facts = { sessionId, accountId, provider, authenticatedAt, authContext, absoluteExpiresAt };
    this.lookedUp.set(key, { facts, at: performance.now() });
    if (this.lookedUp.size > REMEMBERED_SESSIONS) this.lookedUp.delete(this.lookedUp.keys().next().value!);
    return { ...facts, token };
  }

  /**
   * The account's live sessions, most recently used first (for the person to review and end them); at most
   * MAX_LISTED_SESSIONS, and whether there were more.
   */
  async listLive(accountId: string): Promise<{ sessions: LiveSession[]; truncated: boolean }> {
    const rows = await this.sessions.listLive(this.dataSource.manager, accountId, MAX_LISTED_SESSIONS + 1);
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
    return this.sessions.revokeOwn(manager, accountId, target, reason);
  }

  /** Returns false when the session was already revoked (revocation is idempotent). */
  async revoke(sessionId: string, reason: string, manager: EntityManager = this.dataSource.manager): Promise<boolean> {
    return (await this.end(sessionId, reason, manager)) !== undefined;
  }

  /**
   * Revokes the session and hands back the provider whose session a sign-out ends first; undefined when it was
   * already revoked.
   */
  async end(
    sessionId: string,
    reason: string,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<{ provider: IdentityProvider } | undefined> {
    return this.sessions.revoke(manager, sessionId, reason);
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
    const row = await this.sessions.findLive(manager, hashSessionToken(token), createdBy ?? null);
    return row ? { id: row.id, accountId: row.account_id } : undefined;
  }

  /** A new login replaces the browser's previous session (no session fixation); returns its id if it was live. */
  async replaceByLogin(
    token: string | undefined,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<string | undefined> {
    if (!looksLikeSessionToken(token)) return undefined;
    return this.sessions.replaceByLogin(manager, hashSessionToken(token));
  }

  /** Revokes every live session authenticated through one identity link (unlinked or re-bound); returns their ids. */
  revokeForLink(linkId: string, reason: string, manager: EntityManager = this.dataSource.manager): Promise<string[]> {
    return this.sessions.revokeAllOf(manager, { identityLinkId: linkId }, reason);
  }

  /** Revokes every live session of an account; returns their ids. */
  revokeAllForAccount(
    accountId: string,
    reason: string,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<string[]> {
    return this.sessions.revokeAllOf(manager, { accountId }, reason);
  }
}
