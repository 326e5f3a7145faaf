import type { IdentityProvider } from '../../common/identity-providers.js';

/** What the sign-in page shows about the local sandbox providers (only while they run, never in production). */
export interface SandboxInfo {
  providers: Array<{
    provider: IdentityProvider;
    /** The sandbox's own home page (persona list, "re-create this account"). */
    homeUrl: string;
    /** Which sandbox people to pick for what. */
    personaHints: string[];
  }>;
}

export const SANDBOX_INFO = Symbol('SANDBOX_INFO');
