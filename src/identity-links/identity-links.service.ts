import { Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { InjectRootLogger } from '../common/logging/logger.module.js';
import { logFailure } from '../common/logging/fault-log.js';
import type { EntityManager } from 'typeorm';
import type { AuditEventInput, AuditOrigin } from '../audit/audit-event-types.js';
import { AuditService } from '../audit/audit.service.js';
import { AppException } from '../common/problem/app-exception.js';
import type { ErrorCode } from '../common/problem/error-codes.js';
import { isUniqueViolation, violatedConstraint } from '../database/postgres-errors.js';
import { AccountsRepository } from '../accounts/accounts.repository.js';
import { type BoundIdentity, IdentityLinksRepository, ONE_LINK_PER_PROVIDER } from './identity-links.repository.js';
import { SessionsService } from '../sessions/sessions.service.js';

/** What is bound to an account: a verified identity, never one typed in. */
export type LinkableIdentity = BoundIdentity;

export interface LinkChange {
  linkId: string;
  /** The subject the link had before a re-bind; null when the link was added. */
  previous: { issuer: string; subject: string } | null;
  revokedSessionIds: string[];
}

/**
 * A refused link change. The transaction it happened in rolls back, so its audit event is written afterwards by
 * whoever owns the transaction (IdentityLinksService.auditRefusal).
 */
export class LinkRefused extends AppException {
  constructor(
    code: ErrorCode,
    detail: string,
    readonly audit: AuditEventInput,
  ) {
    super(code, detail);
    this.name = 'LinkRefused';
  }
}

/**
 * Every change of an account's identity links — add, re-bind, remove — in the caller's transaction, each with its
 * audit event, so a link never changes without a record of who changed it and why. The unique constraints on
 * identity_links stay the last word; these checks turn their violations into answers a person can act on.
 */
@Injectable()
export class IdentityLinksService {
  constructor(
    private readonly audit: AuditService,
    private readonly sessions: SessionsService,
    private readonly accounts: AccountsRepository,
    private readonly links: IdentityLinksRepository,
    @InjectRootLogger() private readonly logger: Logger,
  ) {}

  /** Adds the identity to the account. Refused when another account holds it (or its person key) or the provider. */
  async add(
    accountId: string,
    identity: LinkableIdentity,
    origin: AuditOrigin,
    details: Record<string, unknown>,
    manager: EntityManager,
  ): Promise<LinkChange> {
    await this.lockAccount(accountId, manager);
    await this.assertNotHeldElsewhere(accountId, identity, origin, details, manager);
    const existing = await this.links.forProvider(manager, accountId, identity.provider);
    if (existing) {
      throw refusal(accountId, identity, 'provider_already_linked', origin, details, {
        detail: `the account already signs in with ${identity.provider}`,
      });
    }
    const linkId = await this.links
      .insert(manager, accountId, identity)
      .catch(raceLost(accountId, identity, origin, details));
    await this.audit.record(
      {
        type: 'identity.linked',
        ...origin,
        subjectAccountId: accountId,
        details: { ...details, linkId, provider: identity.provider, issuer: identity.issuer },
      },
      manager,
    );
    return { linkId, previous: null, revokedSessionIds: [] };
  }

  /**
   * Re-binding: the account's link for this provider now names the new identity (added when there was none).
   * Sessions that were authenticated through the old subject are revoked. The audit event keeps old and new.
   */
  async rebind(
    accountId: string,
    identity: LinkableIdentity,
    origin: AuditOrigin,
    details: Record<string, unknown>,
    manager: EntityManager,
  ): Promise<LinkChange> {
    await this.lockAccount(accountId, manager);
    await this.assertNotHeldElsewhere(accountId, identity, origin, details, manager);
    const current = await this.links.forProvider(manager, accountId, identity.provider, { forUpdate: true });
    if (current && current.issuer === identity.issuer && current.subject === identity.subject) {
      throw refusal(accountId, identity, 'identity_already_linked', origin, details, {
        detail: 'the account is already bound to this identity',
        alreadyBound: true,
        linkId: current.id,
      });
    }
    let linkId: string;
    let revokedSessionIds: string[] = [];
    if (current) {
      revokedSessionIds = await this.sessions.revokeForLink(current.id, 'identity_rebound', manager);
      await this.links.rebind(manager, current.id, identity).catch(raceLost(accountId, identity, origin, details));
      linkId = current.id;
    } else {
      linkId = await this.links
        .insert(manager, accountId, identity)
        .catch(raceLost(accountId, identity, origin, details));
    }
    const previous = current ? { issuer: current.issuer, subject: current.subject } : null;
    await this.audit.record(
      {
        type: 'identity.rebound',
        ...origin,
        subjectAccountId: accountId,
        details: {
          ...details,
          linkId,
          provider: identity.provider,
          oldIssuer: previous?.issuer ?? null,
          oldSubject: previous?.subject ?? null,
          newIssuer: identity.issuer,
          newSubject: identity.subject,
          revokedSessionIds,
        },
      },
      manager,
    );
    return { linkId, previous, revokedSessionIds };
  }

  /**
   * Removes a login method; never the last one the person can still sign in with here (`signInProviders`, the
   * providers this portal has enabled): they would be locked out for good. The account's links are locked first,
   * so a login through this link that is committing now ends before its sessions are revoked, not after.
   */
  async remove(
    accountId: string,
    linkId: string,
    signInProviders: readonly string[],
    origin: AuditOrigin,
    details: Record<string, unknown>,
    manager: EntityManager,
  ): Promise<LinkChange> {
    await this.lockAccount(accountId, manager);
    const links = await this.links.lockAllOf(manager, accountId);
    const link = links.find((candidate) => candidate.id === linkId);
    if (!link) throw new AppException('link_not_found', 'the account has no login method with this id');
    const usableAfter = links.filter((other) => other.id !== linkId && signInProviders.includes(other.provider));
    if (usableAfter.length === 0) {
      throw new LinkRefused('last_login_method', 'add another login method before removing this one', {
        type: 'identity.unlink_refused',
        ...origin,
        subjectAccountId: accountId,
        details: { ...details, linkId, provider: link.provider, code: 'last_login_method' },
      });
    }
    const revokedSessionIds = await this.sessions.revokeForLink(linkId, 'link_removed', manager);
    await this.links.delete(manager, linkId);
    await this.audit.record(
      {
        type: 'identity.unlinked',
        ...origin,
        subjectAccountId: accountId,
        details: { ...details, linkId, provider: link.provider, issuer: link.issuer, revokedSessionIds },
      },
      manager,
    );
    return { linkId, previous: { issuer: link.issuer, subject: link.subject }, revokedSessionIds };
  }

  /** Never moved silently: an identity (or its person key) bound to another account stays where it is. */
  private async assertNotHeldElsewhere(
    accountId: string,
    identity: LinkableIdentity,
    origin: AuditOrigin,
    details: Record<string, unknown>,
    manager: EntityManager,
  ): Promise<void> {
    const holders = await this.links.holders(manager, identity);
    const elsewhere = holders.find((holder) => holder.account_id !== accountId);
    if (!elsewhere) return;
    throw refusal(accountId, identity, 'identity_already_linked', origin, details, {
      detail: 'this identity belongs to another account',
      heldByAccountId: elsewhere.account_id,
    });
  }

  /** Link changes of one account happen one at a time (two removals at once could otherwise remove both). */
  private async lockAccount(accountId: string, manager: EntityManager): Promise<void> {
    if (!(await this.accounts.lockForLinkChange(manager, accountId))) {
      throw new AppException('account_not_found', 'no account with this id');
    }
  }

  /**
   * Writes the audit event of a refused link change, after its transaction rolled back; other errors pass. Best
   * effort: if the audit write fails too, the caller still answers with the refusal, not with that failure.
   */
  async auditRefusal(error: unknown): Promise<void> {
    if (!(error instanceof LinkRefused)) return;
    await this.audit.record(error.audit).catch((auditError: unknown) => {
      logFailure(
        this.logger,
        auditError,
        { requestId: error.audit.requestId, refusal: error.code },
        'could not audit a refused link change',
      );
    });
  }
}

/** A concurrent change took the identity (or the provider slot) first: the same answer as when we had seen it. */
function raceLost(
  accountId: string,
  identity: LinkableIdentity,
  origin: AuditOrigin,
  details: Record<string, unknown>,
) {
  return (error: unknown): never => {
    if (!isUniqueViolation(error)) throw error;
    if (violatedConstraint(error) === ONE_LINK_PER_PROVIDER) {
      throw refusal(accountId, identity, 'provider_already_linked', origin, details, {
        detail: `a ${identity.provider} login was added to the account a moment ago`,
        concurrent: true,
      });
    }
    throw refusal(accountId, identity, 'identity_already_linked', origin, details, {
      detail: 'this identity was linked to an account a moment ago',
      concurrent: true,
    });
  };
}

function refusal(
  accountId: string,
  identity: LinkableIdentity,
  code: ErrorCode,
  origin: AuditOrigin,
  details: Record<string, unknown>,
  { detail, ...extra }: { detail: string } & Record<string, unknown>,
): LinkRefused {
  return new LinkRefused(code, detail, {
    type: 'identity.link_refused',
    ...origin,
    subjectAccountId: accountId,
    details: { ...details, ...extra, provider: identity.provider, issuer: identity.issuer, code },
  });
}
