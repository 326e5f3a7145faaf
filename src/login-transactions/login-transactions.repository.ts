// Owns every statement on `login_transactions` (and calls login_transactions_make_room, its migration's function).
import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { IdentityProvider } from '../common/identity-providers.js';
import { jsonb, type OrNull, preparedRows, sqlRows } from '../database/sql.js';
import { countStartSql, RETRY_AFTER_SQL, type LoginStartCountRow } from './login-start-counters.repository.js';
import type { LoginPurpose } from './login-transaction.entity.js';
import { underPurgeLock, type PurgeBatch } from './purge-lock.js';

export interface LoginTransactionRow {
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
  /** How long ago the login started, by the database's clock, as the statement that read it ran. */
  age_ms: number;
}

/** A login to store; hashes are computed by the caller, only they are stored. */
export interface LoginTransactionInsert {
  provider: IdentityProvider;
  purpose: LoginPurpose;
  stateHash: Buffer;
  nonce: string | null;
  pkceVerifier: string | null;
  returnTo: string;
  browserBindingHash: Buffer;
  accountId: string | null;
  providerData: Record<string, unknown>;
  ttlSeconds: number;
  /** The browser's open logins beyond this many (oldest first) are expired in the same statement. */
  openPerBrowser: number;
  /** The binding was minted by this very start: the browser can have no open login, so there is nothing to expire. */
  browserBindingIsNew: boolean;
}

const COLUMNS = `id, provider, purpose, nonce, pkce_verifier, return_to, account_id, provider_data, created_at, expires_at,
                 browser_binding_hash, consumed_at, expires_at <= now() AS expired,
                 (extract(epoch FROM clock_timestamp() - created_at) * 1000)::float8 AS age_ms`;

/** What a start learns of the login it stored. */
const CREATED = `id, created_at, expires_at`;

export interface CreatedLoginRow {
  id: string;
  created_at: Date;
  expires_at: Date;
}

/**
 * Consumes the login with id `id` (a parameter) for the statement that completes it: no row when it was consumed
 * already; `expired` (LOGIN_OPEN_PER_BROWSER expires a browser's older logins early) refuses the login, consumed.
 */
export const consumeForCompletionSql = (id: string) => `
  UPDATE login_transactions SET consumed_at = now() WHERE id = ${id} AND consumed_at IS NULL
  RETURNING expires_at <= now() AS expired`;

/** No login lives longer than this (LOGIN_TRANSACTION_TTL_SECONDS ≤ 3600, passwordless 300 s). */
const LONGEST_TTL_SECONDS = 3600;

const INSERT_LOGIN = `
  INSERT INTO login_transactions (provider, purpose, state_hash, nonce, pkce_verifier, return_to, browser_binding_hash,
                                  account_id, provider_data, expires_at)
  SELECT $1::text, $2::text, $3::bytea, $4::text, $5::text, $6::text, $7::bytea, $8::uuid, $9::jsonb,
         now() + make_interval(secs => $10::int)`;
const MAKE_ROOM = `CASE WHEN $12::boolean THEN 0
                        ELSE login_transactions_make_room($7::bytea, $11::int, ${LONGEST_TTL_SECONDS}) END`;

/** The login's own parameters ($1–$12), then the client key and the limit: counted in the same statement. */
const CREATE_COUNTED_HERE = `
  WITH hit AS (${countStartSql(`'login'`, '$13::text', '$14::int')}),
       room AS (SELECT ${MAKE_ROOM} FROM hit WHERE hit.hits <= $14::int),
       created AS (${INSERT_LOGIN} FROM room RETURNING ${CREATED})
  SELECT created.id, created.created_at, created.expires_at, (SELECT hits FROM hit) AS hits,
         ${RETRY_AFTER_SQL} AS retry_after
    FROM (SELECT 1) AS one LEFT JOIN created ON true`;

const CREATE_COUNTED_BEFORE = `
  WITH room AS (SELECT ${MAKE_ROOM})
  ${INSERT_LOGIN} FROM room RETURNING ${CREATED}`;

function insertParameters(login: LoginTransactionInsert): unknown[] {
  return [
    login.provider,
    login.purpose,
    login.stateHash,
    login.nonce,
    login.pkceVerifier,
    login.returnTo,
    login.browserBindingHash,
    login.accountId,
    jsonb(login.providerData),
    login.ttlSeconds,
    login.openPerBrowser,
    login.browserBindingIsNew,
  ];
}

@Injectable()
export class LoginTransactionsRepository {
  /**
   * Counts a login start of `client` against `limit` and, unless that refuses it (id null), stores the login: one
   * statement (countStartSql).
   */
  async insertCountingStart(
    manager: EntityManager,
    login: LoginTransactionInsert,
    client: string,
    limit: number,
  ): Promise<LoginStartCountRow & OrNull<CreatedLoginRow>> {
    const [row] = await preparedRows<LoginStartCountRow & OrNull<CreatedLoginRow>>(
      manager,
      'rmi_login_transaction_create',
      CREATE_COUNTED_HERE,
      [...insertParameters(login), client, limit],
    );
    return row;
  }

  /** Stores a login whose start was counted already. */
  async insert(manager: EntityManager, login: LoginTransactionInsert): Promise<CreatedLoginRow> {
    const [row] = await preparedRows<CreatedLoginRow>(
      manager,
      'rmi_login_transaction_create_counted',
      CREATE_COUNTED_BEFORE,
      insertParameters(login),
    );
    return row;
  }

  /** False when the login is gone or consumed. Throws a unique violation when another login has that state. */
  async setStateHash(manager: EntityManager, id: string, stateHash: Buffer): Promise<boolean> {
    const rows = await sqlRows<{ id: string }>(
      manager,
      `UPDATE login_transactions SET state_hash = $2 WHERE id = $1 AND consumed_at IS NULL RETURNING id`,
      [id, stateHash],
    );
    return rows.length > 0;
  }

  /** Consumes the provider's unconsumed login with this state; undefined when there is none. */
  async consumeByStateHash(
    manager: EntityManager,
    stateHash: Buffer,
    provider: IdentityProvider,
  ): Promise<LoginTransactionRow | undefined> {
    const [row] = await preparedRows<LoginTransactionRow>(
      manager,
      'rmi_login_transaction_consume',
      `UPDATE login_transactions SET consumed_at = now()
        WHERE state_hash = $1 AND provider = $2 AND consumed_at IS NULL
        RETURNING ${COLUMNS}`,
      [stateHash, provider],
    );
    return row;
  }

  /** Consumes a login taken from LoginsStartedHere (consumeForCompletionSql); undefined when it was consumed already. */
  async consumeForCompletion(manager: EntityManager, id: string): Promise<{ expired: boolean } | undefined> {
    const [row] = await sqlRows<{ expired: boolean }>(manager, consumeForCompletionSql('$1::uuid'), [id]);
    return row;
  }

  /** The id of the provider's login with this state, consumed or not. */
  async findIdByStateHash(
    manager: EntityManager,
    stateHash: Buffer,
    provider: IdentityProvider,
  ): Promise<string | undefined> {
    const [row] = await sqlRows<{ id: string }>(
      manager,
      `SELECT id FROM login_transactions WHERE state_hash = $1 AND provider = $2`,
      [stateHash, provider],
    );
    return row?.id;
  }

  async findForBrowser(
    manager: EntityManager,
    id: string,
    provider: IdentityProvider,
    browserBindingHash: Buffer,
  ): Promise<LoginTransactionRow | undefined> {
    const [row] = await sqlRows<LoginTransactionRow>(
      manager,
      `SELECT ${COLUMNS} FROM login_transactions WHERE id = $1 AND provider = $2 AND browser_binding_hash = $3`,
      [id, provider, browserBindingHash],
    );
    return row;
  }

  /** Sets `pollNotBefore` to `leaseSeconds` from now unless an unexpired one is set; false when one is. */
  async claimPoll(manager: EntityManager, id: string, leaseSeconds: number): Promise<boolean> {
    const rows = await sqlRows<{ id: string }>(
      manager,
      `UPDATE login_transactions
          SET provider_data = provider_data || jsonb_build_object('pollNotBefore', now() + make_interval(secs => $2))
        WHERE id = $1 AND consumed_at IS NULL
          AND (provider_data->>'pollNotBefore' IS NULL OR (provider_data->>'pollNotBefore')::timestamptz <= now())
        RETURNING id`,
      [id, leaseSeconds],
    );
    return rows.length > 0;
  }

  /** Sets `pollNotBefore` to `afterSeconds` from now, unless the login was consumed. */
  async releasePoll(manager: EntityManager, id: string, afterSeconds: number): Promise<void> {
    await sqlRows(
      manager,
      `UPDATE login_transactions
          SET provider_data = provider_data || jsonb_build_object('pollNotBefore', now() + make_interval(secs => $2))
        WHERE id = $1 AND consumed_at IS NULL RETURNING id`,
      [id, afterSeconds],
    );
  }

  async mergeProviderDataOfConsumed(manager: EntityManager, id: string, patch: Record<string, unknown>): Promise<void> {
    await sqlRows(
      manager,
      `UPDATE login_transactions SET provider_data = provider_data || $2::jsonb WHERE id = $1 AND consumed_at IS NOT NULL RETURNING id`,
      [id, jsonb(patch)],
    );
  }

  /** Consumes by id and merges `providerData` in the same statement; false when it was consumed already. */
  async consumeById(manager: EntityManager, id: string, providerData: Record<string, unknown>): Promise<boolean> {
    const rows = await sqlRows<{ id: string }>(
      manager,
      `UPDATE login_transactions SET consumed_at = now(), provider_data = provider_data || $2::jsonb
        WHERE id = $1 AND consumed_at IS NULL RETURNING id`,
      [id, jsonb(providerData)],
    );
    return rows.length > 0;
  }

  /** Deletes up to `batchSize` logins expired for longer than `graceSeconds`, under the purge lock. */
  deleteExpired(manager: EntityManager, batchSize: number, graceSeconds: number): Promise<PurgeBatch> {
    return underPurgeLock(
      manager,
      `DELETE FROM login_transactions
        WHERE id IN (SELECT id FROM login_transactions WHERE expires_at < now() - make_interval(secs => $2::int)
                      ORDER BY expires_at LIMIT $1::int FOR UPDATE SKIP LOCKED)`,
      [batchSize, graceSeconds],
    );
  }
}
