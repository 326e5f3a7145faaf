import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service.js';
import { isUniqueViolation } from '../database/postgres-errors.js';
import { AccountsRepository } from '../accounts/accounts.repository.js';
import { IdentityLinksRepository, type LoginLinkRow } from '../identity-links/identity-links.repository.js';
import { PendingIdentitiesRepository } from '../pending-identities/pending-identities.repository.js';
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
  constructor(
    private readonly audit: AuditService,
    private readonly accounts: AccountsRepository,
    private readonly links: IdentityLinksRepository,
    private readonly pending: PendingIdentitiesRepository,
  ) {}

  async map(identity: ExternalIdentity, context: MappingContext, manager: EntityManager): Promise<MappingResult> {
    for (let attempt = 1; ; attempt += 1) {
      if (attempt > MAX_ATTEMPTS) throw new Error('identity mapping did not settle after concurrent first logins');
      const link = await this.links.lockForLogin(manager, identity);
      if (link) return this.knownIdentity(identity, link, context, manager);

      if (identity.personKey) {
        const holder = await this.links.holderOfPersonKey(manager, identity.provider, identity.personKey);
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
        if (!isUniqueViolation(error) || attempt >= MAX_ATTEMPTS) throw error;
      }
    }
  }

  private async knownIdentity(
    identity: ExternalIdentity,
    link: LoginLinkRow,
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
      const holder = await this.links.holderOfPersonKey(manager, identity.provider, identity.personKey, link.id);
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
    await this.links.touchForLogin(manager, link.id, identity.attributes, identity.personKey);
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
    const accountId = await this.accounts.insert(manager, identity.displayName.slice(0, 200) || identity.provider);
    const linkId = await this.links.insert(manager, accountId, identity);
    await this.audit.record(
      {
        type: 'account.provisioned',
        actor: { type: 'system' },
        requestId: context.requestId,
        subjectAccountId: accountId,
        details: {
          provider: identity.provider,
          issuer: identity.issuer,
          linkId,
          attributes: identity.attributes,
        },
      },
      manager,
    );
    return { kind: 'account', accountId, linkId, provisioned: true };
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
    const id = await this.pending.hold(manager, {
      ...identity,
      reason,
      flags,
      suspectedAccountId,
      browserBindingHash: context.browserBindingHash,
      ttlSeconds: context.pendingTtlSeconds,
      mayCreateAccount,
      displayName: identity.displayName.slice(0, 200) || identity.provider,
      authenticatedAt: context.authenticatedAt,
    });
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
