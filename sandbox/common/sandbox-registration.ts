import type { AppConfig, ProviderKey } from '../../src/app/app.config.js';
import type { IdentityProvider } from '../../src/common/identity-providers.js';
import type { PersonaChoice } from './pages.js';

export type ProviderSettings<K extends ProviderKey> = NonNullable<AppConfig[K]>;

/** What every sandbox start function is given when it runs for the backend (extra fields are ignored). */
export interface SandboxStartOptions {
  port: number;
  /** Where re-created accounts' subjects are kept (see subjectStore). */
  stateFile: string;
  /** The portal's sign-in page, linked from each sandbox's home page. */
  portalUrl: string;
  /** The backend's callback, for the OIDC sandboxes' client registration. */
  redirectUris: string[];
  publicBaseUrl: URL;
}

/** What the backend start-up needs of a running sandbox: its address (`issuer`, or `baseUrl`) and its personas. */
export type RunningSandbox = { personas: PersonaChoice[]; close(): Promise<void> } & (
  { issuer: string } | { baseUrl: string }
);

/**
 * How one provider's sandbox is started for a backend without that provider's real settings: each sandbox folder
 * declares one; resolveSandboxProviders runs them, logs the warning, and points the provider's settings at it.
 */
export interface SandboxRegistration<K extends ProviderKey, S extends RunningSandbox> {
  key: K;
  provider: IdentityProvider;
  /** As the start-up warning names it, e.g. `Signicat iDIN`. */
  name: string;
  /** The backend's callback path, registered at the sandbox. */
  callbackPath?: string;
  start(options: SandboxStartOptions, settings: ProviderSettings<K>): Promise<S>;
  /** The settings that point the provider at the sandbox, on top of its own. */
  settings(sandbox: S, settings: ProviderSettings<K>): Partial<ProviderSettings<K>>;
  /** Anything else the start-up warning must say, with its log fields. */
  warning?(settings: ProviderSettings<K>): { text: string | null; fields: Record<string, unknown> };
}

export function sandboxRegistration<K extends ProviderKey, S extends RunningSandbox>(
  registration: SandboxRegistration<K, S>,
): SandboxRegistration<K, S> {
  return registration;
}
