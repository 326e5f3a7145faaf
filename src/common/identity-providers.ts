/**
 * The identity providers the portal knows. The database refuses any other value (check constraints in the
 * migrations), so adding a provider is a migration plus a module.
 */
export const IDENTITY_PROVIDERS = ['digidentity', 'itsme', 'signicat-idin', 'signicat-eherkenning'] as const;
export type IdentityProvider = (typeof IDENTITY_PROVIDERS)[number];

export const PROVIDER_CHECK_SQL = `"provider" IN (${IDENTITY_PROVIDERS.map((p) => `'${p}'`).join(', ')})`;
