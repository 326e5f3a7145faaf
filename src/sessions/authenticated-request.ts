import type { Request } from 'express';
import type { AccountRole } from '../accounts/account.entity.js';
import type { IdentityProvider } from '../identity-links/providers.js';

export interface SessionPrincipal {
  sessionId: string;
  /** The raw token from the cookie; needed to derive the CSRF token. Never logged or stored. */
  token: string;
  accountId: string;
  roles: AccountRole[];
  provider: IdentityProvider;
  identityLinkId: string | null;
  authenticatedAt: Date;
  authContext: Record<string, unknown>;
  createdAt: Date;
  idleExpiresAt: Date;
  absoluteExpiresAt: Date;
}

export type AuthenticatedRequest = Request & { principal: SessionPrincipal };
