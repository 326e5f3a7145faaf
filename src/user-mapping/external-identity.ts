import type { IdentityProvider } from '../common/identity-providers.js';

/**
 * What every provider module hands to the user mapping, whatever its protocol: one verified identity.
 * Built only from what the backend received from the provider itself, never from the browser.
 */
export interface ExternalIdentity {
  provider: IdentityProvider;
  issuer: string;
  subject: string;
  /** Stays the same for the person when the subject changes (Digidentity: the SERMI authorisation UID). */
  personKey: string | null;
  /** Kept on the identity link and shown to admins (e.g. the SERMI UIDs). Never tokens. */
  attributes: Record<string, unknown>;
  /** Everything the provider said; kept only on pending identities, for review. */
  rawClaims: Record<string, unknown>;
  /** Name for a newly provisioned account. */
  displayName: string;
}

/**
 * What the first login of an unknown identity does: `provision` creates the account; `pending` holds the identity
 * until the person attaches it to an account they can already sign in to (or an admin re-binds it); `choose` holds
 * it too, and also lets the person create a new account from it.
 */
export const UNKNOWN_IDENTITY_POLICIES = ['provision', 'pending', 'choose'] as const;
export type UnknownIdentityPolicy = (typeof UNKNOWN_IDENTITY_POLICIES)[number];
