import type { IdentityProvider } from '../../common/identity-providers.js';

/** How the pages name each provider, and what it is for a person at a workshop. */
export const PROVIDER_NAMES: Record<IdentityProvider, { name: string; about: string }> = {
  digidentity: { name: 'Digidentity', about: 'The SERMI Trust Centre: needed for security-related repair information' },
  'signicat-idin': { name: 'iDIN', about: 'Sign in with your Dutch bank' },
  itsme: { name: 'itsme', about: 'Confirm in the itsme app' },
  'signicat-eherkenning': { name: 'eHerkenning', about: 'Your organisation’s eHerkenning login' },
};

export function providerName(provider: string): string {
  return (PROVIDER_NAMES as Record<string, { name: string } | undefined>)[provider]?.name ?? provider;
}
