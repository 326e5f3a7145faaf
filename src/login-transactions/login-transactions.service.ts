import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { logFailure } from '../common/logging/fault-log.js';
import { InjectRootLogger } from '../common/logging/logger.module.js';
import type { AppConfig } from '../app/app.config.js';
import { InjectAppConfig } from '../config/config.module.js';
import { preparedRows, sqlRows, jsonb } from '../database/sql.js';
import type { IdentityProvider } from '../common/identity-providers.js';
import { LoginFailure } from '../common/problem/login-failure.js';
import { hashBinding } from './browser-binding.js';
import { clientKey, type LoginStartKind, TooManyLoginStarts } from './login-start-limits.js';
import type { LoginPurpose } from './login-transaction.entity.js';

export interface NewLoginTransaction {
  provider: IdentityProvider;
  purpose?: LoginPurpose;
  returnTo: string;
  browserBinding: string;
  nonce?: string | null;
  pkceVerifier?: string | null;
  accountId?: string | null;
  providerData?: Record<string, unknown>;
  ttlSeconds?: number;
  /**
   * The client whose login-start limit this start counts against, in the statement that stores it; `counted` when
   * the caller already did (admitStart, before a passwordless start calls the provider).
   */
  startLimit: { clientIp: string | null } | 'counted';
}

export interface StoredLoginTransaction {
  id: string;
  provider: IdentityProvider;
  purpose: LoginPurpose;
  nonce: string | null;
  pkceVerifier: string | null;
  returnTo: string;
  accountId: string | null;
  providerData: Record<string, unknown>;
  createdAt: Date;
  expiresAt: Date;
}

interface Row {
  id: string;
  provider: IdentityProvider;
  purpose: LoginPurpose;
  nonce: string | null;
  pkce_verifier: string | null;
  return_to: string;
  account_id: string | null;
  provider_data: Record<string, unknown>;
  created_at: Date;
  expires_at: Date;
  browser_binding_hash: Buffer;
  consumed_at: Date | null;
  expired: boolean;
}

const COLUMNS = `id, provider, purpose, nonce, pkce_verifier, return_to, account_id, provider_data, created_at, expires_at,
                 browser_binding_hash, consumed_at, expires_at <= now() AS expired`;

function toStored(row: Row): StoredLoginTransaction {
  return {
    id: row.id,
    provider: row.provider,
    purpose: row.purpose,
    nonce: row.nonce,
    pkceVerifier: row.pkce_verifier,
    returnTo: row.return_to,
    accountId: row.account_id,
    providerData: row.provider_data,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
  };
}

const stateHash = (state: string) => createHash('sha256').update(state, 'utf8').digest();

/** No login lives longer than this (LOGIN_TRANSACTION_TTL_SECONDS ≤ 3600, passwordless 300 s). */
const LONGEST_TTL_SECONDS = 3600;

/**
 * Counts a start in the client's current one-minute window (placeholders: kind, client key, limit). Once the window
 * is full, the first refused start takes `hits` to limit + 1 (so that it is logged once); later ones see that in
 * their snapshot and leave the row alone: no row lock, no write, no WAL flush at commit, so a flood from one
 * address does not queue on its counter row. No row comes back for a refused start.
 */
const countStart = (kind: string, client: string, limit: string) => `
  INSERT INTO login_start_counters AS c (kind, client_key, window_start)
  SELECT ${kind}, ${client}, date_trunc('minute', now())
   WHERE NOT EXISTS (SELECT FROM login_start_counters
                      WHERE kind = ${kind} AND client_key = ${client} AND window_start = date_trunc('minute', now())
                        AND hits > ${limit})
  ON CONFLICT (kind, client_key, window_start) DO UPDATE SET hits = c.hits + 1 WHERE c.hits <= ${limit}
  RETURNING hits`;

/** Seconds until the current window ends (1–60), in database time like the windows themselves. */
const RETRY_AFTER = `ceil(extract(epoch FROM date_trunc('minute', now()) + interval '1 minute' - now()))::int`;

const INSERT_LOGIN = `
  INSERT INTO login_transactions (provider, purpose, state_hash, nonce, pkce_verifier, return_to, browser_binding_hash,
                                  account_id, provider_data, expires_at)
  SELECT $1::text, $2::text, $3::bytea, $4::text, $5::text, $6::text, $7::bytea, $8::uuid, $9::jsonb,
         now() + make_interval(secs => $10::int)`;
const MAKE_ROOM = `login_transactions_make_room($7::bytea, $11::int, ${LONGEST_TTL_SECONDS})`;

/** The login's own parameters ($1–$11), then the client key and the limit: counted in the same statement. */
const CREATE_COUNTED_HERE = `
  WITH hit AS (${countStart(`'login'`, '$12::text', '$13::int')}),
       room AS (SELECT ${MAKE_ROOM} FROM hit WHERE hit.hits <= $13::int),
       created AS (${INSERT_LOGIN} FROM room RETURNING id, expires_at)
  SELECT created.id, created.expires_at, (SELECT hits FROM hit) AS hits, ${RETRY_AFTER} AS retry_after
    FROM (SELECT 1) AS one LEFT JOIN created ON true`;

const CREATE_COUNTED_BEFORE = `
  WITH room AS (SELECT ${MAKE_ROOM})
  ${INSERT_LOGIN} FROM room RETURNING id, expires_at`;

const PURGE_LOCK = `hashtext('login_transactions.purge')`;
const PURGE_BATCH = 1000;
const PURGE_MAX_BATCHES = 50;

/**
 * In-flight logins live in Postgres, never in process memory: any instance can finish a login another started.
 * Each is consumed exactly once, by one conditional UPDATE, before anything is sent to the provider.
 */
@Injectable()
export class LoginTransactionsService implements OnModuleInit, OnModuleDestroy {
  private purgeTimer?: NodeJS.Timeout;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectAppConfig() private readonly config: AppConfig,
    @InjectRootLogger() private readonly logger: Logger,
  ) {}

  onModuleInit() {
    const { purgeIntervalSeconds } = this.config.login;
    if (purgeIntervalSeconds === 0) return;
    this.purgeTimer = setInterval(() => {
      this.purgeExpired().catch((error: unknown) =>
        logFailure(this.logger, error, {}, 'purging expired login transactions failed'),
      );
    }, purgeIntervalSeconds * 1000);
    this.purgeTimer.unref();
  }

  onModuleDestroy() {
    clearInterval(this.purgeTimer);
  }

  /**
   * Stores a new login and returns its id and the `state` value to send to the provider (only its hash is stored).
   * In the same statement: the start is counted against the client's limit (TooManyLoginStarts when over it, and
   * nothing is stored), and the browser's oldest open logins beyond LOGIN_OPEN_PER_BROWSER are expired.
   */
  async create(input: NewLoginTransaction): Promise<{ id: string; state: string; expiresAt: Date }> {
    const state = randomBytes(32).toString('base64url');
    const parameters = [
      input.provider,
      input.purpose ?? 'login',
      stateHash(state),
      input.nonce ?? null,
      input.pkceVerifier ?? null,
      input.returnTo,
      hashBinding(input.browserBinding),
      input.accountId ?? null,
      jsonb(input.providerData ?? {}),
      input.ttlSeconds ?? this.config.login.transactionTtlSeconds,
      this.config.login.openPerBrowser,
    ];
    if (input.startLimit === 'counted') {
      const [row] = await preparedRows<{ id: string; expires_at: Date }>(
        this.dataSource.manager,
        'rmi_login_transaction_create_counted',
        CREATE_COUNTED_BEFORE,
        parameters,
      );
      return { id: row.id, state, expiresAt: row.expires_at };
    }
    const client = clientKey(input.startLimit.clientIp);
    const limit = this.config.login.startLimitPerMinute;
    const [row] = await preparedRows<{
      id: string | null;
      expires_at: Date | null;
      hits: number | null;
      retry_after: number;
    }>(this.dataSource.manager, 'rmi_login_transaction_create', CREATE_COUNTED_HERE, [...parameters, client, limit]);
    if (row.id === null || row.expires_at === null) throw this.refused('login', client, limit, row);
    return { id: row.id, state, expiresAt: row.expires_at };
  }

  /**
   * Counts a start that calls the provider before anything is stored (passwordless): refused with
   * TooManyLoginStarts before the provider is called. One statement; the start is then stored with
   * `startLimit: 'counted'`.
   */
  async admitStart(kind: LoginStartKind, clientIp: string | null): Promise<void> {
    const client = clientKey(clientIp);
    const limit =
      kind === 'passwordless'
        ? this.config.login.passwordlessStartLimitPerMinute
        : this.config.login.startLimitPerMinute;
    const [row] = await preparedRows<{ hits: number | null; retry_after: number }>(
      this.dataSource.manager,
      'rmi_login_start_admit',
      `WITH hit AS (${countStart('$1::text', '$2::text', '$3::int')})
       SELECT (SELECT hits FROM hit) AS hits, ${RETRY_AFTER} AS retry_after`,
      [kind, client, limit],
    );
    if (row.hits === null || row.hits > limit) throw this.refused(kind, client, limit, row);
  }

  private refused(
    kind: LoginStartKind,
    client: string,
    limit: number,
    row: { hits: number | null; retry_after: number },
  ): TooManyLoginStarts {
    // Logged once per client and window (the first refusal), never audited: the flood would queue on the chain.
    if (row.hits === limit + 1) {
      this.logger.warn({ kind, client, limitPerMinute: limit }, 'login starts of a client are being refused');
    }
    return new TooManyLoginStarts(kind, Math.max(1, row.retry_after));
  }

  /**
   * Makes a provider's own reference (e.g. a Signicat REST session id) the value its callback is found by, in place
   * of the generated `state`: for providers that send the browser back with their id instead of our state.
   */
  async useProviderState(id: string, providerState: string): Promise<void> {
    // The provider chose the value: anything unusable (or one it handed out before) is its error, never a 500.
    if (providerState.length === 0 || providerState.length > 512) {
      throw new LoginFailure('provider_error', 'the provider answered with an unusable session reference');
    }
    const rows = await sqlRows<{ id: string }>(
      this.dataSource.manager,
      `UPDATE login_transactions SET state_hash = $2 WHERE id = $1 AND consumed_at IS NULL RETURNING id`,
      [id, stateHash(providerState)],
    ).catch((error: unknown) => {
      const { code, driverError } = error as { code?: string; driverError?: { code?: string } };
      if ((driverError?.code ?? code) !== '23505') throw error;
      throw new LoginFailure('provider_error', 'the provider answered with a session reference it used before');
    });
    if (rows.length === 0) throw new LoginFailure('login_expired', 'the login transaction is gone or already used');
  }

  /**
   * Consumes the transaction a callback's `state` belongs to. Whatever the outcome, the transaction cannot be used
   * again: a replayed callback, one from another browser or one that came too late is refused here, before the
   * provider's token endpoint is called.
   */
  async consumeByState(
    provider: IdentityProvider,
    state: unknown,
    browserBinding: string | undefined,
  ): Promise<StoredLoginTransaction> {
    if (typeof state !== 'string' || state.length === 0 || state.length > 512) {
      throw new LoginFailure('login_state_invalid', 'the login response carries no valid state');
    }
    const hash = stateHash(state);
    const [row] = await preparedRows<Row>(
      this.dataSource.manager,
      'rmi_login_transaction_consume',
      `UPDATE login_transactions SET consumed_at = now()
        WHERE state_hash = $1 AND provider = $2 AND consumed_at IS NULL
        RETURNING ${COLUMNS}`,
      [hash, provider],
    );
    if (!row) {
      const [known] = await sqlRows<{ id: string }>(
        this.dataSource.manager,
        `SELECT id FROM login_transactions WHERE state_hash = $1 AND provider = $2`,
        [hash, provider],
      );
      throw known
        ? new LoginFailure('login_replayed', 'this login response was already used', { loginTransactionId: known.id })
        : new LoginFailure('login_state_invalid', 'no login was started with this state');
    }
    this.assertUsable(row, browserBinding);
    return toStored(row);
  }

  /** A transaction of this browser, not consumed (passwordless polling); null for any other browser. */
  async findForBrowser(
    id: string,
    provider: IdentityProvider,
    browserBinding: string | undefined,
  ): Promise<(StoredLoginTransaction & { consumed: boolean; expired: boolean }) | null> {
    if (!browserBinding) return null;
    const [row] = await sqlRows<Row>(
      this.dataSource.manager,
      `SELECT ${COLUMNS} FROM login_transactions WHERE id = $1 AND provider = $2 AND browser_binding_hash = $3`,
      [id, provider, hashBinding(browserBinding)],
    );
    return row ? { ...toStored(row), consumed: row.consumed_at !== null, expired: row.expired } : null;
  }

  /**
   * Takes the right to call the provider for this login (passwordless polling) until `leaseSeconds` from now, in
   * database time so that instances with skewed clocks agree. False while another request holds it.
   */
  async claimPoll(id: string, leaseSeconds: number): Promise<boolean> {
    const rows = await sqlRows<{ id: string }>(
      this.dataSource.manager,
      `UPDATE login_transactions
          SET provider_data = provider_data || jsonb_build_object('pollNotBefore', now() + make_interval(secs => $2))
        WHERE id = $1 AND consumed_at IS NULL
          AND (provider_data->>'pollNotBefore' IS NULL OR (provider_data->>'pollNotBefore')::timestamptz <= now())
        RETURNING id`,
      [id, leaseSeconds],
    );
    return rows.length > 0;
  }

  /** Gives the poll right back: the next call to the provider may happen `afterSeconds` from now. */
  async releasePoll(id: string, afterSeconds: number): Promise<void> {
    await sqlRows(
      this.dataSource.manager,
      `UPDATE login_transactions
          SET provider_data = provider_data || jsonb_build_object('pollNotBefore', now() + make_interval(secs => $2))
        WHERE id = $1 AND consumed_at IS NULL RETURNING id`,
      [id, afterSeconds],
    );
  }

  /** Records the final state of a consumed transaction (e.g. a passwordless login's outcome, for later polls). */
  async setProviderDataOfConsumed(id: string, patch: Record<string, unknown>): Promise<void> {
    await sqlRows(
      this.dataSource.manager,
      `UPDATE login_transactions SET provider_data = provider_data || $2::jsonb WHERE id = $1 AND consumed_at IS NOT NULL RETURNING id`,
      [id, jsonb(patch)],
    );
  }

  /**
   * Consumes by id (passwordless completion); false when it was already consumed. `providerData` is merged in the
   * same statement, so nobody ever sees the transaction consumed without the state its consumer left.
   */
  async consumeById(id: string, providerData: Record<string, unknown> = {}): Promise<boolean> {
    const rows = await sqlRows<{ id: string }>(
      this.dataSource.manager,
      `UPDATE login_transactions SET consumed_at = now(), provider_data = provider_data || $2::jsonb
        WHERE id = $1 AND consumed_at IS NULL RETURNING id`,
      [id, jsonb(providerData)],
    );
    return rows.length > 0;
  }

  /**
   * Deletes login transactions expired for longer than LOGIN_TRANSACTION_PURGE_GRACE_SECONDS and finished
   * rate-limit windows, in bounded batches. Every instance runs it; each batch holds an advisory lock, so a batch
   * that finds another instance's batch running stops this run (`skipped`) instead of competing for the same rows.
   */
  async purgeExpired(): Promise<{ transactions: number; counters: number; skipped: boolean }> {
    const grace = this.config.login.purgeGraceSeconds;
    const transactions = await this.purgeInBatches(
      `DELETE FROM login_transactions
        WHERE id IN (SELECT id FROM login_transactions WHERE expires_at < now() - make_interval(secs => $2::int)
                      ORDER BY expires_at LIMIT $1::int FOR UPDATE SKIP LOCKED)`,
      [grace],
    );
    if (transactions.skipped) return { transactions: transactions.deleted, counters: 0, skipped: true };
    const counters = await this.purgeInBatches(
      `DELETE FROM login_start_counters
        WHERE (kind, client_key, window_start) IN (
              SELECT kind, client_key, window_start FROM login_start_counters
               WHERE window_start < date_trunc('minute', now()) LIMIT $1::int FOR UPDATE SKIP LOCKED)`,
      [],
    );
    return { transactions: transactions.deleted, counters: counters.deleted, skipped: counters.skipped };
  }

  /** Runs a bounded DELETE (`$1` is the batch size) until it deletes less than a batch or another instance purges. */
  private async purgeInBatches(
    deleteStatement: string,
    parameters: unknown[],
  ): Promise<{ deleted: number; skipped: boolean }> {
    let deleted = 0;
    for (let batch = 0; batch < PURGE_MAX_BATCHES; batch += 1) {
      const [row] = await sqlRows<{ locked: boolean; deleted: number }>(
        this.dataSource.manager,
        `WITH leader AS (SELECT pg_try_advisory_xact_lock(${PURGE_LOCK}) AS locked),
              gone AS (${deleteStatement} AND (SELECT locked FROM leader) RETURNING 1)
         SELECT (SELECT locked FROM leader) AS locked, (SELECT count(*)::int FROM gone) AS deleted`,
        [PURGE_BATCH, ...parameters],
      );
      if (!row.locked) return { deleted, skipped: true };
      deleted += row.deleted;
      if (row.deleted < PURGE_BATCH) break;
    }
    return { deleted, skipped: false };
  }

  private assertUsable(row: Row, browserBinding: string | undefined): void {
    const audit = { loginTransactionId: row.id };
    if (!browserBinding || !timingSafeEqual(hashBinding(browserBinding), row.browser_binding_hash)) {
      throw new LoginFailure('login_wrong_browser', 'the login was started in another browser', audit);
    }
    if (row.expired) throw new LoginFailure('login_expired', 'the login was started too long ago', audit);
  }
}
