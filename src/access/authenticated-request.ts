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
 * The signed-in session, its account and the account's links: everything GET /api/me shows, loaded by the one
 * query that authenticates the request.
 */
export interface SessionPrincipal {
  sessionId: string;
  /** The raw token from the cookie; needed to derive the CSRF token. Never logged or stored. */
  token: string;
  accountId: string;
  roles: AccountRole[];
  provider: IdentityProvider;
  identityLinkId: string | null;
  /** The provider's `auth_time` of the login behind the session; null when it did not say (never recent). */
  authenticatedAt: Date | null;
  authContext: Record<string, unknown>;
  createdAt: Date;
  idleExpiresAt: Date;
  absoluteExpiresAt: Date;
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
