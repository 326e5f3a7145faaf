import { hash, timingSafeEqual } from 'node:crypto';
import { Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Logger } from 'pino';
import { DataSource, type EntityManager } from 'typeorm';
import { logFailure } from '../common/logging/fault-log.js';
import { InjectRootLogger } from '../common/logging/logger.module.js';
import type { AppConfig } from '../app/app.config.js';
import { InjectAppConfig } from '../config/config.module.js';
import { isUniqueViolation } from '../database/postgres-errors.js';
import type { IdentityProvider } from '../common/identity-providers.js';
import { LoginFailure } from '../common/problem/login-failure.js';
import { hashBinding } from './browser-binding.js';
import { clientKey, type LoginStartKind, TooManyLoginStarts } from './login-start-limits.js';
import { LoginStartCountersRepository } from './login-start-counters.repository.js';
import type { LoginPurpose } from './login-transaction.entity.js';
import { LoginsStartedHere } from './logins-started-here.js';
import { Metrics } from '../operations/metrics.js';
import {
  type CreatedLoginRow,
  type LoginTransactionInsert,
  type LoginTransactionRow,
  LoginTransactionsRepository,
} from './login-transactions.repository.js';
import type { PurgeBatch } from './purge-lock.js';
import { SignOutHintsRepository } from './sign-out-hints.repository.js';
import { randomToken } from '../common/random-token.js';

export interface NewLoginTransaction {
  provider: IdentityProvider;
  purpose?: LoginPurpose;
  returnTo: string;
  browserBinding: string;
  /** This start minted the browser's binding (BrowserBinding.ensure): no login of the browser can be open. */
  browserBindingIsNew?: boolean;
  /**
   * A web login whose callback finds it by `state` (consumeByState) and which the statement completing it can consume
   * (LoginCompletionService): kept in LoginsStartedHere as well, so that a callback to this process needs no consume
   * statement of its own. Only with the default lifetime.
   */
  keepHere?: boolean;
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
  /**
   * When the login started on this process's monotonic clock (`performance.now()`), at the earliest: its age by the
   * database's clock, counted back from before the statement that read it was sent. With it a login's age is
   * measured without comparing two hosts' clocks (signedInDuringLogin).
   */
  startedAtLocal: number;
  /**
   * Its row is not consumed yet: this process started it and its callback came back here (LoginsStartedHere). The
   * statement that completes the login consumes it (LoginCompletionService), or `consumeAfterFailure` when the login
   * fails before that; a second callback with its `state` is refused here either way.
   */
  consumedOnCompletion: boolean;
}

function toStored(row: LoginTransactionRow, sentAt: number): StoredLoginTransaction {
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
    startedAtLocal: sentAt - row.age_ms,
    consumedOnCompletion: false,
  };
}

/** The key a login is stored and found under: the SHA-256 of its `state` (the value itself is never stored). */
export const stateHash = (state: string) => hash('sha256', state, 'buffer');

const PURGE_BATCH = 1000;
/** Logins not called back yet (abandoned ones stay until they expire) and those being completed: a few MB at most. */
const LOGINS_KEPT_HERE = 10_000;
const PURGE_MAX_BATCHES = 50;

/**
 * In-flight logins live in Postgres: any instance can finish a login another started. Each is consumed exactly once,
 * by one conditional UPDATE: before anything is sent to the provider, or — a web login whose callback comes back to
 * the instance that started it (LoginsStartedHere) — in the statement that completes it.
 */
@Injectable()
export class LoginTransactionsService implements OnModuleInit, OnModuleDestroy {
  private purgeTimer?: NodeJS.Timeout;
  private readonly startedHere: LoginsStartedHere;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectAppConfig() private readonly config: AppConfig,
    @InjectRootLogger() private readonly logger: Logger,
    private readonly logins: LoginTransactionsRepository,
    private readonly startCounters: LoginStartCountersRepository,
    private readonly signOutHints: SignOutHintsRepository,
    metrics: Metrics,
  ) {
    this.startedHere = new LoginsStartedHere(LOGINS_KEPT_HERE, config.login.transactionTtlSeconds);
    metrics.countLoginsKeptHereWith(() => this.startedHere.count());
  }

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
    const state = randomToken();
    const defaultTtl = this.config.login.transactionTtlSeconds;
    const login: LoginTransactionInsert = {
      provider: input.provider,
      purpose: input.purpose ?? 'login',
      stateHash: stateHash(state),
      nonce: input.nonce ?? null,
      pkceVerifier: input.pkceVerifier ?? null,
      returnTo: input.returnTo,
      browserBindingHash: hashBinding(input.browserBinding),
      accountId: input.accountId ?? null,
      providerData: input.providerData ?? {},
      ttlSeconds: input.ttlSeconds ?? defaultTtl,
      openPerBrowser: this.config.login.openPerBrowser,
      browserBindingIsNew: input.browserBindingIsNew ?? false,
    };
    const manager = this.dataSource.manager;
    const sentAt = performance.now();
    let created: CreatedLoginRow;
    if (input.startLimit === 'counted') {
      created = await this.logins.insert(manager, login);
    } else {
      const client = clientKey(input.startLimit.clientIp);
      const limit = this.config.login.startLimitPerMinute;
      const row = await this.logins.insertCountingStart(manager, login, client, limit);
      if (row.id === null || row.created_at === null || row.expires_at === null) {
        throw this.refused('login', client, limit, row);
      }
      created = { id: row.id, created_at: row.created_at, expires_at: row.expires_at };
    }
    if (input.keepHere && login.ttlSeconds === defaultTtl) this.keepHere(login, created, sentAt);
    return { id: created.id, state, expiresAt: created.expires_at };
  }

  /** Keeps a stored web login in LoginsStartedHere; `sentAt`: when the statement that stored it was sent. */
  private keepHere(login: LoginTransactionInsert, created: CreatedLoginRow, sentAt: number): void {
    const stored: StoredLoginTransaction = {
      id: created.id,
      provider: login.provider,
      purpose: login.purpose,
      nonce: login.nonce,
      pkceVerifier: login.pkceVerifier,
      returnTo: login.returnTo,
      accountId: login.accountId,
      providerData: login.providerData,
      createdAt: created.created_at,
      expiresAt: created.expires_at,
      // This process's own clock, no lock wait of the statement counted in (as a row read later must).
      startedAtLocal: sentAt,
      consumedOnCompletion: true,
    };
    this.startedHere.keep(login.stateHash, stored, login.browserBindingHash);
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
    const row = await this.startCounters.countStart(this.dataSource.manager, kind, client, limit);
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
    const updated = await this.logins
      .setStateHash(this.dataSource.manager, id, stateHash(providerState))
      .catch((error: unknown) => {
        if (!isUniqueViolation(error)) throw error;
        throw new LoginFailure('provider_error', 'the provider answered with a session reference it used before');
      });
    if (!updated) throw new LoginFailure('login_expired', 'the login transaction is gone or already used');
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
    const taken = this.startedHere.take(hash, provider);
    if (taken.kind === 'replayed') {
      throw new LoginFailure('login_replayed', 'this login response was already used', {
        loginTransactionId: taken.id,
      });
    }
    if (taken.kind === 'taken') {
      const { transaction } = taken;
      const sameBrowser = browserBinding && timingSafeEqual(hashBinding(browserBinding), taken.browserBindingHash);
      if (sameBrowser) return transaction;
      await this.consumeAfterFailure(transaction);
      throw wrongBrowser(transaction.id);
    }
    const sentAt = performance.now();
    const row = await this.logins.consumeByStateHash(this.dataSource.manager, hash, provider);
    if (!row) {
      const known = await this.logins.findIdByStateHash(this.dataSource.manager, hash, provider);
      throw known
        ? new LoginFailure('login_replayed', 'this login response was already used', { loginTransactionId: known })
        : new LoginFailure('login_state_invalid', 'no login was started with this state');
    }
    this.assertUsable(row, browserBinding);
    return toStored(row, sentAt);
  }

  /** A transaction of this browser, not consumed (passwordless polling); null for any other browser. */
  async findForBrowser(
    id: string,
    provider: IdentityProvider,
    browserBinding: string | undefined,
  ): Promise<(StoredLoginTransaction & { consumed: boolean; expired: boolean }) | null> {
    if (!browserBinding) return null;
    const sentAt = performance.now();
    const row = await this.logins.findForBrowser(this.dataSource.manager, id, provider, hashBinding(browserBinding));
    return row ? { ...toStored(row, sentAt), consumed: row.consumed_at !== null, expired: row.expired } : null;
  }

  /**
   * Takes the right to call the provider for this login (passwordless polling) until `leaseSeconds` from now, in
   * database time so that instances with skewed clocks agree. False while another request holds it.
   */
  async claimPoll(id: string, leaseSeconds: number): Promise<boolean> {
    return this.logins.claimPoll(this.dataSource.manager, id, leaseSeconds);
  }

  /** Gives the poll right back: the next call to the provider may happen `afterSeconds` from now. */
  async releasePoll(id: string, afterSeconds: number): Promise<void> {
    await this.logins.releasePoll(this.dataSource.manager, id, afterSeconds);
  }

  /** Records the final state of a consumed transaction (e.g. a passwordless login's outcome, for later polls). */
  async setProviderDataOfConsumed(id: string, patch: Record<string, unknown>): Promise<void> {
    await this.logins.mergeProviderDataOfConsumed(this.dataSource.manager, id, patch);
  }

  /**
   * Consumes by id (passwordless completion); false when it was already consumed. `providerData` is merged in the
   * same statement, so nobody ever sees the transaction consumed without the state its consumer left.
   */
  async consumeById(id: string, providerData: Record<string, unknown> = {}): Promise<boolean> {
    this.startedHere.forget(id);
    return this.logins.consumeById(this.dataSource.manager, id, providerData);
  }

  /**
   * Consumes a login taken from LoginsStartedHere (`consumedOnCompletion`) in the completing transaction, before it
   * writes anything: refused as replayed when another instance consumed it first (a copy of the callback), as
   * expired when the browser's cap on open logins expired it.
   */
  async consumeForCompletion(manager: EntityManager, transaction: StoredLoginTransaction): Promise<void> {
    if (!transaction.consumedOnCompletion) return;
    refuseUnlessConsumed(transaction.id, await this.logins.consumeForCompletion(manager, transaction.id));
  }

  /**
   * Uses up a login taken from LoginsStartedHere that failed before the statement completing it ran: like any login,
   * it cannot be used again, on any instance. Best effort (the failure may be the database's): logged, never thrown.
   */
  async consumeAfterFailure(transaction: StoredLoginTransaction): Promise<void> {
    if (!transaction.consumedOnCompletion) return;
    await this.logins.consumeForCompletion(this.dataSource.manager, transaction.id).then(
      () => this.settled(transaction),
      (error: unknown) =>
        logFailure(this.logger, error, { loginTransactionId: transaction.id }, 'consuming a failed login failed'),
    );
  }

  /**
   * The row of a login taken from LoginsStartedHere is consumed (its completion committed, or consumeAfterFailure):
   * this process need not refuse its `state` itself any longer, the database does.
   */
  settled(transaction: StoredLoginTransaction): void {
    if (transaction.consumedOnCompletion) this.startedHere.forget(transaction.id);
  }

  /**
   * Deletes login transactions expired for longer than LOGIN_TRANSACTION_PURGE_GRACE_SECONDS and finished
   * rate-limit windows and expired sign-out hints, in bounded batches. Every instance runs it; each batch holds an
   * advisory lock, so a batch that finds another instance's batch running stops this run (`skipped`) instead of
   * competing for the same rows.
   */
  async purgeExpired(): Promise<{ transactions: number; counters: number; hints: number; skipped: boolean }> {
    const manager = this.dataSource.manager;
    const grace = this.config.login.purgeGraceSeconds;
    const purged = { transactions: 0, counters: 0, hints: 0, skipped: false };
    const steps: [table: 'transactions' | 'counters' | 'hints', (batchSize: number) => Promise<PurgeBatch>][] = [
      ['transactions', (batchSize) => this.logins.deleteExpired(manager, batchSize, grace)],
      ['counters', (batchSize) => this.startCounters.deleteFinishedWindows(manager, batchSize)],
      ['hints', (batchSize) => this.signOutHints.deleteExpired(manager, batchSize)],
    ];
    for (const [table, deleteBatch] of steps) {
      const step = await purgeInBatches(deleteBatch);
      purged[table] = step.deleted;
      if (step.skipped) return { ...purged, skipped: true };
    }
    return purged;
  }

  private assertUsable(row: LoginTransactionRow, browserBinding: string | undefined): void {
    if (!browserBinding || !timingSafeEqual(hashBinding(browserBinding), row.browser_binding_hash)) {
      throw wrongBrowser(row.id);
    }
    if (row.expired) throw expired(row.id);
  }
}

const wrongBrowser = (id: string) =>
  new LoginFailure('login_wrong_browser', 'the login was started in another browser', { loginTransactionId: id });
const expired = (id: string) =>
  new LoginFailure('login_expired', 'the login was started too long ago', { loginTransactionId: id });

/** What the statement completing a login kept here found (consumeForCompletionSql): throws unless it consumed it. */
export function refuseUnlessConsumed(id: string, consumed: { expired: boolean } | undefined): void {
  if (!consumed) {
    throw new LoginFailure('login_replayed', 'this login response was already used', { loginTransactionId: id });
  }
  if (consumed.expired) throw expired(id);
}

/** Runs a bounded DELETE until it deletes less than a batch or finds another instance purging. */
async function purgeInBatches(
  deleteBatch: (batchSize: number) => Promise<PurgeBatch>,
): Promise<{ deleted: number; skipped: boolean }> {
  let deleted = 0;
  for (let batch = 0; batch < PURGE_MAX_BATCHES; batch += 1) {
    const row = await deleteBatch(PURGE_BATCH);
    if (!row.locked) return { deleted, skipped: true };
    deleted += row.deleted;
    if (row.deleted < PURGE_BATCH) break;
  }
  return { deleted, skipped: false };
}
