import type { Request } from 'express';
import type { AccountRole, AccountStatus } from '../accounts/account.entity.js';
import type { IdentityProvider } from '../common/identity-providers.js';

/** An identity link as the session lookup returns it (timestamps already ISO 8601 strings). */
export interface LinkSummary {
  id: string;
  provider: IdentityProvider;
  issuer: string;
  subject: string;
  attributes: Record<string, unknown>;
  firstLoginAt: string;
  lastLoginAt: string;
}

/**
 * What a session was created with and keeps for its whole life — never a statement of whether it is still live.
 * A route marked @SessionCheckedByStatement() gets only these, and checks liveness in its own statement.
 */
export interface SessionFacts {
  sessionId: string;
  /** The raw token from the cookie; needed to derive the CSRF token. Never logged or stored. */
  token: string;
  accountId: string;
  provider: IdentityProvider;
  /** The provider's `auth_time` of the login behind the session; null when it did not say (never recent). */
  authenticatedAt: Date | null;
  authContext: Record<string, unknown>;
  absoluteExpiresAt: Date;
}

/**
 * The signed-in session, its account and the account's links: everything GET /api/me shows, loaded by the one
 * query that authenticates the request.
 */
export interface SessionPrincipal extends SessionFacts {
  roles: AccountRole[];
  identityLinkId: string | null;
  createdAt: Date;
  idleExpiresAt: Date;
  account: {
    id: string;
    displayName: string;
    status: AccountStatus;
    roles: AccountRole[];
    createdAt: Date;
    updatedAt: Date;
  };
  links: LinkSummary[];
}

export type AuthenticatedRequest = Request & { principal: SessionPrincipal };
export type SessionFactsRequest = Request & { sessionFacts: SessionFacts };
