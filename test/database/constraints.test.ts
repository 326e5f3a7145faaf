import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { createAccount, createLink } from '../support/factories.js';
import { IDENTITY_PROVIDERS } from '../../src/common/identity-providers.js';
import { openTestDataSource, settle } from '../support/test-data-source.js';

const UNIQUE_VIOLATION = '23505';
const CHECK_VIOLATION = '23514';

describe('database constraints', () => {
  let dataSource: DataSource;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ dataSource, close } = await openTestDataSource(20));
  });
  afterAll(async () => close());

  const insertLink = (accountId: string, provider: string, issuer: string, subject: string) =>
    dataSource.query(
      `INSERT INTO identity_links (account_id, provider, issuer, subject, first_login_at, last_login_at)
       VALUES ($1, $2, $3, $4, now(), now())`,
      [accountId, provider, issuer, subject],
    );

  it('lets exactly one of many concurrent inserts bind the same provider subject', async () => {
    const accounts = await Promise.all(Array.from({ length: 12 }, () => createAccount(dataSource)));
    const outcome = await settle(
      accounts.map((a) => insertLink(a.id, 'itsme', 'https://idp.prd.itsme.services/v2', 'same-subject')),
    );
    expect(outcome.fulfilled).toBe(1);
    expect(outcome.errorCodes).toEqual(Array(11).fill(UNIQUE_VIOLATION));
    const [{ count }] = await dataSource.query(
      `SELECT count(*)::int AS count FROM identity_links WHERE subject = 'same-subject'`,
    );
    expect(count).toBe(1);
  });

  it('lets an account have at most one link per provider, even when inserted concurrently', async () => {
    const account = await createAccount(dataSource);
    const outcome = await settle(
      Array.from({ length: 8 }, (_, i) =>
        insertLink(account.id, 'digidentity', 'https://auth.digidentity.eu', `subject-${i}`),
      ),
    );
    expect(outcome.fulfilled).toBe(1);
    expect(outcome.errorCodes).toEqual(Array(7).fill(UNIQUE_VIOLATION));
  });

  it('treats the same subject at another issuer or provider as a different identity', async () => {
    const [a, b, c] = await Promise.all([
      createAccount(dataSource),
      createAccount(dataSource),
      createAccount(dataSource),
    ]);
    await insertLink(a.id, 'itsme', 'https://issuer-one.example', 'shared');
    await insertLink(b.id, 'itsme', 'https://issuer-two.example', 'shared');
    await insertLink(c.id, 'signicat-idin', 'https://issuer-one.example', 'shared');
    const [{ count }] = await dataSource.query(
      `SELECT count(*)::int AS count FROM identity_links WHERE subject = 'shared'`,
    );
    expect(count).toBe(3);
  });

  it('refuses unknown providers, statuses and roles, and empty names', async () => {
    const account = await createAccount(dataSource);
    const outcome = await settle([
      insertLink(account.id, 'facebook', 'https://facebook.com', 'x'),
      dataSource.query(`UPDATE accounts SET status = 'deleted' WHERE id = $1`, [account.id]),
      dataSource.query(`UPDATE accounts SET roles = '{admin,root}' WHERE id = $1`, [account.id]),
      dataSource.query(`UPDATE accounts SET display_name = '' WHERE id = $1`, [account.id]),
      dataSource.query(
        `INSERT INTO sessions (token_hash, account_id, provider, authenticated_at, last_seen_at, idle_expires_at, absolute_expires_at)
                        VALUES ('\\x00', $1, 'itsme', now(), now(), now(), now())`,
        [account.id],
      ),
    ]);
    expect(outcome.fulfilled).toBe(0);
    expect(outcome.errorCodes).toEqual(Array(5).fill(CHECK_VIOLATION));
  });

  it('refuses a session whose idle expiry lies beyond its absolute expiry', async () => {
    const account = await createAccount(dataSource);
    const outcome = await settle([
      dataSource.query(
        `INSERT INTO sessions (token_hash, account_id, provider, authenticated_at, last_seen_at, idle_expires_at, absolute_expires_at)
         VALUES (sha256('t'::bytea), $1, 'itsme', now(), now(), now() + interval '2 hours', now() + interval '1 hour')`,
        [account.id],
      ),
    ]);
    expect(outcome.errorCodes).toEqual([CHECK_VIOLATION]);
  });

  it('refuses a login transaction that returns to another site or links without an account', async () => {
    const insert = (returnTo: string, purpose: string, accountId: string | null) =>
      dataSource.query(
        `INSERT INTO login_transactions (provider, purpose, state_hash, return_to, browser_binding_hash, account_id, expires_at)
         VALUES ('digidentity', $2, sha256(gen_random_uuid()::text::bytea), $1, sha256('b'::bytea), $3, now() + interval '10 minutes')`,
        [returnTo, purpose, accountId],
      );
    const account = await createAccount(dataSource);
    const outcome = await settle([
      insert('//evil.example/', 'login', null),
      insert('https://evil.example/', 'login', null),
      insert('/\\evil.example/', 'login', null),
      insert('/\t/evil.example', 'login', null),
      insert('/ok/../\\x', 'login', null),
      insert('/', 'link', null),
    ]);
    expect(outcome.errorCodes).toEqual(Array(6).fill(CHECK_VIOLATION));
    await expect(insert('/', 'login', null)).resolves.toBeDefined();
    await expect(insert('/portal/jobs', 'link', account.id)).resolves.toBeDefined();
  });

  // TypeORM compares CHECKs by name only: a provider added to IDENTITY_PROVIDERS needs a migration written by hand.
  it('accepts exactly the known providers in every provider column', async () => {
    const checks = await dataSource.query<{ name: string; rule: string }[]>(
      `SELECT conname AS name, pg_get_constraintdef(oid) AS rule FROM pg_constraint
        WHERE contype = 'c' AND conname LIKE '%\\_provider\\_check' ORDER BY conname`,
    );
    expect(checks.map(({ name }) => name)).toEqual([
      'identity_links_provider_check',
      'login_transactions_provider_check',
      'pending_identities_provider_check',
      'sessions_provider_check',
      'sign_out_hints_provider_check',
    ]);
    for (const { rule } of checks) {
      expect([...rule.matchAll(/'([^']+)'::text/g)].map(([, name]) => name).sort()).toEqual(
        [...IDENTITY_PROVIDERS].sort(),
      );
    }
  });

  it('deletes links and sessions with their account but keeps the audit trail', async () => {
    const account = await createAccount(dataSource);
    await createLink(dataSource, account.id);
    await dataSource.query(
      `INSERT INTO sessions (token_hash, account_id, provider, authenticated_at, last_seen_at, idle_expires_at, absolute_expires_at)
       VALUES (sha256('cascade'::bytea), $1, 'digidentity', now(), now(), now() + interval '1 hour', now() + interval '2 hours')`,
      [account.id],
    );
    await dataSource.query(
      `INSERT INTO audit_events (type, actor_type, subject_account_id) VALUES ('account.test', 'system', $1)`,
      [account.id],
    );
    await dataSource.query(`DELETE FROM accounts WHERE id = $1`, [account.id]);
    const [counts] = await dataSource.query(
      `SELECT (SELECT count(*)::int FROM identity_links WHERE account_id = $1) AS links,
              (SELECT count(*)::int FROM sessions WHERE account_id = $1) AS sessions,
              (SELECT count(*)::int FROM audit_events WHERE subject_account_id = $1) AS audit`,
      [account.id],
    );
    expect(counts).toEqual({ links: 0, sessions: 0, audit: 1 });
  });
});
