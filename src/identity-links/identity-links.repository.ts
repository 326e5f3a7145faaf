import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { IdentityProvider } from '../common/identity-providers.js';
import { jsonb, sqlRows } from '../database/sql.js';

/** Every statement on `identity_links`, and the fragments of the returning-login statement that touch it. */

/** A link as a login finds it, with its account's status as of now. */
export interface LoginLinkRow {
  id: string;
  account_id: string;
  attributes: Record<string, unknown>;
  person_key: string | null;
  account_status: string;
}

export interface LinkRow {
  id: string;
  account_id: string;
  provider: IdentityProvider;
  issuer: string;
  subject: string;
}

/** What is bound to an account: a verified identity, never one typed in. */
export interface BoundIdentity {
  provider: IdentityProvider;
  issuer: string;
  subject: string;
  personKey: string | null;
  attributes: Record<string, unknown>;
}

type Subject = { provider: string; issuer: string; subject: string };

/** The constraint that allows one link per provider and account (the others are on the identity). */
export const ONE_LINK_PER_PROVIDER = 'identity_links_account_provider_key';

/**
 * The link of a login, locked, with its account. The account row is locked too: a login must not read "active",
 * have an admin disable the account and revoke its sessions, and then add a session the revocation never saw — it
 * would come back to life when the account is enabled again. KEY SHARE is the cheapest lock that closes this: it
 * conflicts only with FOR UPDATE (and key changes), which the disable takes (AccountsRepository.lockForAdministration)
 * — a login waits for a disable in progress and then re-reads the status (READ COMMITTED re-checks a locked row that
 * changed), and a disable waits for a login holding it and then revokes its session. Logins never wait for each
 * other or for link changes (FOR NO KEY UPDATE), and the session insert's foreign-key check takes this very lock.
 * `$1..$3` provider, issuer, subject; `where` adds conditions.
 */
export const lockLinkForLoginSql = (select: string, where = '') => `
  SELECT ${select}
    FROM identity_links l JOIN accounts a ON a.id = l.account_id
   WHERE l.provider = $1 AND l.issuer = $2 AND l.subject = $3 ${where}
   FOR UPDATE OF l FOR KEY SHARE OF a`;

/**
 * Refreshes a link at login: attributes and person key as the provider said them now, updated_at only when the
 * attributes changed. `link` names a relation with the link's `id`; the others are SQL expressions.
 */
export const touchLinkForLoginSql = (link: string, p: { attributes: string; personKey: string }) => `
  UPDATE identity_links l
     SET last_login_at = now(), attributes = ${p.attributes}, person_key = COALESCE(${p.personKey}, l.person_key),
         updated_at = CASE WHEN l.attributes IS DISTINCT FROM ${p.attributes} THEN now() ELSE l.updated_at END
    FROM ${link} WHERE l.id = ${link}.id`;

@Injectable()
export class IdentityLinksRepository {
  async lockForLogin(manager: EntityManager, identity: Subject): Promise<LoginLinkRow | undefined> {
    const [row] = await sqlRows<LoginLinkRow>(
      manager,
      lockLinkForLoginSql('l.id, l.account_id, l.attributes, l.person_key, a.status AS account_status'),
      [identity.provider, identity.issuer, identity.subject],
    );
    return row;
  }

  async touchForLogin(
    manager: EntityManager,
    id: string,
    attributes: Record<string, unknown>,
    personKey: string | null,
  ): Promise<void> {
    await manager.query(
      `WITH link AS (SELECT $1::uuid AS id) ${touchLinkForLoginSql('link', { attributes: '$2::jsonb', personKey: '$3::text' })}`,
      [id, jsonb(attributes), personKey],
    );
  }

  /** The link that holds this person key at the provider, other than `exceptId`. */
  async holderOfPersonKey(
    manager: EntityManager,
    provider: IdentityProvider,
    personKey: string | null,
    exceptId: string | null = null,
  ): Promise<LinkRow | undefined> {
    const [row] = await sqlRows<LinkRow>(
      manager,
      `SELECT id, account_id, provider, issuer, subject FROM identity_links
        WHERE provider = $1 AND person_key = $2 AND ($3::uuid IS NULL OR id <> $3::uuid)`,
      [provider, personKey, exceptId],
    );
    return row;
  }

  /** The links that hold this identity or its person key. */
  holders(manager: EntityManager, identity: BoundIdentity): Promise<LinkRow[]> {
    return sqlRows<LinkRow>(
      manager,
      `SELECT id, account_id, provider, issuer, subject FROM identity_links
        WHERE provider = $1 AND ((issuer = $2 AND subject = $3) OR (person_key IS NOT NULL AND person_key = $4))`,
      [identity.provider, identity.issuer, identity.subject, identity.personKey],
    );
  }

  /** The account's link for a provider, locked with `forUpdate`. */
  async forProvider(
    manager: EntityManager,
    accountId: string,
    provider: IdentityProvider,
    { forUpdate = false } = {},
  ): Promise<LinkRow | undefined> {
    const [row] = await sqlRows<LinkRow>(
      manager,
      `SELECT id, account_id, provider, issuer, subject FROM identity_links WHERE account_id = $1 AND provider = $2
       ${forUpdate ? 'FOR UPDATE' : ''}`,
      [accountId, provider],
    );
    return row;
  }

  /** Every link of the account, locked. */
  lockAllOf(manager: EntityManager, accountId: string): Promise<LinkRow[]> {
    return sqlRows<LinkRow>(
      manager,
      `SELECT id, account_id, provider, issuer, subject FROM identity_links WHERE account_id = $1 FOR UPDATE`,
      [accountId],
    );
  }

  /** A new link; a unique violation means a concurrent change took the identity or the provider slot. */
  async insert(manager: EntityManager, accountId: string, identity: BoundIdentity): Promise<string> {
    const [link] = await sqlRows<{ id: string }>(
      manager,
      `INSERT INTO identity_links (account_id, provider, issuer, subject, person_key, attributes, first_login_at, last_login_at)
       VALUES ($1, $2, $3, $4, $5, $6, now(), now()) RETURNING id`,
      [accountId, identity.provider, identity.issuer, identity.subject, identity.personKey, jsonb(identity.attributes)],
    );
    return link.id;
  }

  /** The link now names another subject of its provider (a re-bind). */
  async rebind(manager: EntityManager, id: string, identity: BoundIdentity): Promise<void> {
    await manager.query(
      `UPDATE identity_links SET issuer = $2, subject = $3, person_key = $4, attributes = $5,
              first_login_at = now(), last_login_at = now(), updated_at = now()
        WHERE id = $1`,
      [id, identity.issuer, identity.subject, identity.personKey, jsonb(identity.attributes)],
    );
  }

  async delete(manager: EntityManager, id: string): Promise<void> {
    await manager.query(`DELETE FROM identity_links WHERE id = $1`, [id]);
  }
}
