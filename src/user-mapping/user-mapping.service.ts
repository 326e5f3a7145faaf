import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service.js';
import { sqlRows, jsonb } from '../database/sql.js';
import { LoginFailure } from '../common/problem/login-failure.js';
import type { PendingReason } from '../pending-identities/pending-identity.entity.js';
import type { ExternalIdentity, UnknownIdentityPolicy } from './external-identity.js';

export type MappingResult =
  | { kind: 'account'; accountId: string; linkId: string; provisioned: boolean }
  | { kind: 'pending'; pendingIdentityId: string; reason: PendingReason; suspectedAccountId: string | null };

export interface MappingContext {
  policy: UnknownIdentityPolicy;
  /** Hash of the browser binding: only that browser may later attach a pending identity itself. */
  browserBindingHash: Buffer | null;
  pendingTtlSeconds: number;
  /** The login request: the audit events of the mapping carry it. */
  requestId: string | null;
  /** The provider's auth_time of the login (null: not said); an identity held pending keeps it. */
  authenticatedAt: Date | null;
}

interface LinkRow {
  id: string;
  account_id: string;
  attributes: Record<string, unknown>;
  person_key: string | null;
  account_status: string;
}

const UNIQUE_VIOLATION = '23505';
const MAX_ATTEMPTS = 3;

/**
 * Turns a verified external identity into an account — in the caller's transaction, so the session and audit
 * events that follow commit or roll back with it.
 *
 * Known subject → its account (changed attributes updated and audited). Unknown subject → the provider's policy:
 * provision (account + link) or hold as pending. An unknown subject whose person key already belongs to another
 * account is never merged: it is held for admin review as a probable re-created identity. Two concurrent first
 * logins race on the unique constraints; the loser rolls back to a savepoint and takes the winner's account.
 */
@Injectable()
export class UserMappingService {
  constructor(private readonly audit: AuditService) {}

  async map(identity: ExternalIdentity, context: MappingContext, manager: EntityManager): Promise<MappingResult> {
    for (let attempt = 1; ; attempt += 1) {
      if (attempt > MAX_ATTEMPTS) throw new Error('identity mapping did not settle after concurrent first logins');
      const link = await this.findLink(identity, manager);
      if (link) return this.knownIdentity(identity, link, context, manager);

      if (identity.personKey) {
        const [holder] = await sqlRows<{ account_id: string; issuer: string; subject: string }>(
          manager,
          `SELECT account_id, issuer, subject FROM identity_links WHERE provider = $1 AND person_key = $2`,
          [identity.provider, identity.personKey],
        );
        // The same identity, committed by a concurrent first login since findLink looked: take that account.
        if (holder && holder.issuer === identity.issuer && holder.subject === identity.subject) continue;
        if (holder)
          return this.holdPending(identity, 'probable_recreated_identity', holder.account_id, context, manager);
      }
      if (context.policy !== 'provision') return this.holdPending(identity, 'unknown_identity', null, context, manager);

      await manager.query('SAVEPOINT provision_identity');
      try {
        const result = await this.provision(identity, context, manager);
        await manager.query('RELEASE SAVEPOINT provision_identity');
        return result;
      } catch (error) {
        await manager.query('ROLLBACK TO SAVEPOINT provision_identity');
        const lostRace =
          (error as { driverError?: { code?: string }; code?: string }).driverError?.code === UNIQUE_VIOLATION;
        if (!lostRace || attempt >= MAX_ATTEMPTS) throw error;
      }
    }
  }

  /**
   * The link, locked, with its account's status as of now. The account row is locked too (the returning-login
   * statement does the same): a login must not read "active", have an admin disable the account and revoke its
   * sessions, and then add a session the revocation never saw — it would come back to life when the account is
   * enabled again. KEY SHARE is the cheapest lock that closes this: it conflicts only with FOR UPDATE (and key
   * changes), which the disable takes (AccountsService.updateByAdmin) — a login waits for a disable in progress
   * and then re-reads the status (READ COMMITTED re-checks a locked row that changed), and a disable waits for a
   * login holding it and then revokes its session. Logins never wait for each other or for link changes (FOR NO KEY
   * UPDATE), and the session insert's foreign-key check takes this very lock anyway.
   */
  private findLink(identity: ExternalIdentity, manager: EntityManager): Promise<LinkRow | undefined> {
    return sqlRows<LinkRow>(
      manager,
      `SELECT l.id, l.account_id, l.attributes, l.person_key, a.status AS account_status
         FROM identity_links l JOIN accounts a ON a.id = l.account_id
        WHERE l.provider = $1 AND l.issuer = $2 AND l.subject = $3
        FOR UPDATE OF l FOR KEY SHARE OF a`,
      [identity.provider, identity.issuer, identity.subject],
    ).then((rows) => rows[0]);
  }

  private async knownIdentity(
    identity: ExternalIdentity,
    link: LinkRow,
    context: MappingContext,
    manager: EntityManager,
  ): Promise<MappingResult> {
    if (link.account_status !== 'active') {
      throw new LoginFailure('account_disabled', 'the account of this identity is disabled', {
        accountId: link.account_id,
      });
    }
    const personKeyChanged = identity.personKey !== null && identity.personKey !== link.person_key;
    if (personKeyChanged) {
      // The person key is supposed to never change (the SERMI authorisation UID). If another account holds the new
      // one, the two identities are not told apart by us: held for review. Otherwise the change is recorded.
      const [holder] = await sqlRows<{ account_id: string }>(
        manager,
        `SELECT account_id FROM identity_links WHERE provider = $1 AND person_key = $2 AND id <> $3`,
        [identity.provider, identity.personKey, link.id],
      );
      if (holder) {
        return this.holdPending(identity, 'probable_recreated_identity', holder.account_id, context, manager, {
          linkedToAccount: link.account_id,
        });
      }
      await this.audit.record(
        {
          type: 'identity.person_key_changed',
          actor: { type: 'system' },
          requestId: context.requestId,
          subjectAccountId: link.account_id,
          details: { linkId: link.id, provider: identity.provider, before: link.person_key, after: identity.personKey },
        },
        manager,
      );
    }
    const changed = changedAttributes(link.attributes, identity.attributes);
    await manager.query(
      `UPDATE identity_links SET last_login_at = now(), attributes = $2, person_key = COALESCE($3, person_key),
              updated_at = CASE WHEN $4 THEN now() ELSE updated_at END
        WHERE id = $1`,
      [link.id, jsonb(identity.attributes), identity.personKey, changed.length > 0],
    );
    if (changed.length > 0) {
      await this.audit.record(
        {
          type: 'identity.attributes_updated',
          actor: { type: 'system' },
          requestId: context.requestId,
          subjectAccountId: link.account_id,
          details: {
            linkId: link.id,
            provider: identity.provider,
            changes: Object.fromEntries(
              changed.map((key) => [
                key,
                { before: link.attributes[key] ?? null, after: identity.attributes[key] ?? null },
              ]),
            ),
          },
        },
        manager,
      );
    }
    return { kind: 'account', accountId: link.account_id, linkId: link.id, provisioned: false };
  }

  private async provision(
    identity: ExternalIdentity,
    context: MappingContext,
    manager: EntityManager,
  ): Promise<MappingResult> {
    const [account] = await sqlRows<{ id: string }>(
      manager,
      `INSERT INTO accounts (display_name) VALUES ($1) RETURNING id`,
      [identity.displayName.slice(0, 200) || identity.provider],
    );
    const [link] = await sqlRows<{ id: string }>(
      manager,
      `INSERT INTO identity_links (account_id, provider, issuer, subject, person_key, attributes, first_login_at, last_login_at)
       VALUES ($1, $2, $3, $4, $5, $6, now(), now()) RETURNING id`,
      [
        account.id,
        identity.provider,
        identity.issuer,
        identity.subject,
        identity.personKey,
        jsonb(identity.attributes),
      ],
    );
    await this.audit.record(
      {
        type: 'account.provisioned',
        actor: { type: 'system' },
        requestId: context.requestId,
        subjectAccountId: account.id,
        details: {
          provider: identity.provider,
          issuer: identity.issuer,
          linkId: link.id,
          attributes: identity.attributes,
        },
      },
      manager,
    );
    return { kind: 'account', accountId: account.id, linkId: link.id, provisioned: true };
  }

  private async holdPending(
    identity: ExternalIdentity,
    reason: PendingReason,
    suspectedAccountId: string | null,
    context: MappingContext,
    manager: EntityManager,
    extraFlags: Record<string, unknown> = {},
  ): Promise<MappingResult> {
    const flags = {
      ...(reason === 'probable_recreated_identity' ? { samePersonKeyAsAccount: suspectedAccountId } : {}),
      ...extraFlags,
    };
    const mayCreateAccount = context.policy === 'choose' && reason === 'unknown_identity';
    // One open pending entry per identity (a partial unique index): a repeated login refreshes it — also when two
    // logins of the same new identity race — instead of piling up rows.
    const [{ id }] = await sqlRows<{ id: string }>(
      manager,
      `INSERT INTO pending_identities (provider, issuer, subject, attributes, raw_claims, reason, flags,
                                       suspected_account_id, browser_binding_hash, person_key, expires_at,
                                       may_create_account, display_name, authenticated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, now() + make_interval(secs => $11), $12, $13, $14)
       ON CONFLICT (provider, issuer, subject) WHERE resolved_at IS NULL DO UPDATE
          SET attributes = EXCLUDED.attributes, raw_claims = EXCLUDED.raw_claims, reason = EXCLUDED.reason,
              flags = EXCLUDED.flags, suspected_account_id = EXCLUDED.suspected_account_id,
              browser_binding_hash = EXCLUDED.browser_binding_hash, person_key = EXCLUDED.person_key,
              expires_at = EXCLUDED.expires_at, may_create_account = EXCLUDED.may_create_account,
              display_name = EXCLUDED.display_name, last_seen_at = now(), held_for_session_id = NULL,
              authenticated_at = EXCLUDED.authenticated_at,
              -- An expired entry that comes back is new for its reviewers: it sorts with the newest.
              created_at = CASE WHEN pending_identities.expires_at <= now() THEN now()
                                ELSE pending_identities.created_at END
       RETURNING id`,
      [
        identity.provider,
        identity.issuer,
        identity.subject,
        jsonb(identity.attributes),
        jsonb(identity.rawClaims),
        reason,
        jsonb(flags),
        suspectedAccountId,
        context.browserBindingHash,
        identity.personKey,
        context.pendingTtlSeconds,
        mayCreateAccount,
        identity.displayName.slice(0, 200) || identity.provider,
        context.authenticatedAt,
      ],
    );
    await this.audit.record(
      {
        type: reason === 'probable_recreated_identity' ? 'identity.recreated_suspected' : 'identity.pending_created',
        actor: { type: 'system' },
        requestId: context.requestId,
        subjectAccountId: suspectedAccountId,
        details: { pendingIdentityId: id, provider: identity.provider, reason, attributes: identity.attributes },
      },
      manager,
    );
    return { kind: 'pending', pendingIdentityId: id, reason, suspectedAccountId };
  }
}

function changedAttributes(before: Record<string, unknown>, after: Record<string, unknown>): string[] {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...keys].filter((key) => JSON.stringify(before[key]) !== JSON.stringify(after[key])).sort();
}
