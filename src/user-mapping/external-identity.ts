import type { IdentityProvider } from '../identity-links/providers.js';

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

export type UnknownIdentityPolicy = 'provision' | 'pending';
