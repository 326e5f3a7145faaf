import type { UnknownIdentityPolicy } from '../../user-mapping/external-identity.js';

/** Asymmetric signature algorithms only: `none` and HMAC (which would turn a public key into a secret) never. */
export const ASYMMETRIC_JWS_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
];

/** What a provider's settings resolution needs from the general settings, and where it reports problems. */
export interface ProviderSettingsContext {
  nodeEnv: 'development' | 'test' | 'production';
  publicBaseUrl: URL;
  /** OIDC_ALLOW_INSECURE_HTTP. */
  allowInsecureHttp: boolean;
  problems: string[];
}

/** The settings every provider has, whatever else it needs. */
export interface ProviderSettingsBase {
  /** No issuer (or base URL) configured: a local sandbox provider is started (never in production). */
  sandbox: boolean;
  unknownIdentityPolicy: UnknownIdentityPolicy;
  sandboxPort: number;
}

/** How a provider's environment variables decide between the real provider and the local sandbox. */
export interface ProviderRules<E> {
  /** `<PREFIX>_ENABLED`: false leaves the provider out (its settings are null). */
  enabled: keyof E & string;
  /** The variable prefix, e.g. `ITSME`. */
  prefix: string;
  /** The provider as operators know it, e.g. `itsme`. */
  name: string;
  /** The variable that points at the real provider (its issuer, or its API base URL). */
  url: keyof E & string;
  /** Set without `url`, these mean a real provider was meant: the sandbox is refused. Default: `requiredWithUrl`. */
  sandboxConflicts?: readonly (keyof E & string)[];
  /** Required when `url` is set. */
  requiredWithUrl: readonly (keyof E & string)[];
  /** What else is wrong with the URL, if anything (checked after the plain-http rule). */
  checkUrl?: (url: URL) => string | null;
}

const LOCAL_HOSTS = ['localhost', '127.0.0.1', '[::1]'];

/**
 * The rules for an enabled provider without an issuer, the same for every provider: the sandbox lets anyone sign
 * in as anyone, so it is only for a developer's own machine, never by accident.
 */
function sandboxProblem<E>(rules: ProviderRules<E>, context: ProviderSettingsContext, partial: string[]) {
  if (context.nodeEnv === 'production') {
    return `${rules.url}: required in production (set ${rules.prefix}_ENABLED=false to run without ${rules.name})`;
  }
  if (partial.length > 0) {
    return `${rules.url}: required when ${partial.join(', ')} ${partial.length > 1 ? 'are' : 'is'} set (without it the local sandbox would be used)`;
  }
  if (!LOCAL_HOSTS.includes(context.publicBaseUrl.hostname)) {
    return `${rules.url}: required unless PUBLIC_BASE_URL is on localhost (the sandbox is for local development only)`;
  }
  return null;
}

/** The real provider's URL, or null for the sandbox; every broken rule is added to the context's problems. */
function providerUrl<E extends object>(env: E, rules: ProviderRules<E>, context: ProviderSettingsContext): URL | null {
  const value = env[rules.url] as string | undefined;
  const isSet = (name: keyof E) => Boolean(env[name]);
  if (!value) {
    const problem = sandboxProblem(rules, context, (rules.sandboxConflicts ?? rules.requiredWithUrl).filter(isSet));
    if (problem) context.problems.push(problem);
    return null;
  }
  const url = new URL(value);
  if (url.protocol === 'http:' && (!context.allowInsecureHttp || context.nodeEnv === 'production')) {
    const what = rules.url.endsWith('_ISSUER') ? 'issuers' : 'URLs';
    context.problems.push(
      `${rules.url}: http:// ${what} need OIDC_ALLOW_INSECURE_HTTP=true and are refused in production`,
    );
  }
  const urlProblem = rules.checkUrl?.(url);
  if (urlProblem) context.problems.push(urlProblem);
  for (const name of rules.requiredWithUrl) {
    if (!isSet(name)) context.problems.push(`${name}: required when ${rules.url} is set`);
  }
  return url;
}

/**
 * A provider's settings: null when disabled; otherwise what it needs in either mode (`common`, resolved first so
 * its problems come first), plus, with a real provider, what comes from its URL and credentials (`real`).
 */
export function resolveProviderSettings<E extends object, C extends object, R extends object>(
  env: E,
  rules: ProviderRules<E>,
  context: ProviderSettingsContext,
  common: () => C,
  real: (url: URL) => R,
): (C & { sandbox: true }) | (C & R & { sandbox: false }) | null {
  if (!env[rules.enabled]) return null;
  const shared = common();
  const url = providerUrl(env, rules, context);
  return url ? { sandbox: false, ...shared, ...real(url) } : { sandbox: true, ...shared };
}

/**
 * One provider's part of the configuration: its environment class (documented in docs/configuration.md) and how it
 * becomes the provider's settings, found under `key` in the app's configuration.
 */
export interface ProviderConfig<K extends string, E extends object, S extends ProviderSettingsBase> {
  key: K;
  environment: new () => E;
  resolve(env: E, context: ProviderSettingsContext): S | null;
}

export function providerConfig<K extends string, E extends object, S extends ProviderSettingsBase>(
  config: ProviderConfig<K, E, S>,
): ProviderConfig<K, E, S> {
  return config;
}
