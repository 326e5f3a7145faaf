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

/**
 * The variables every provider's environment class has, named after its prefix: `<P>_ENABLED`,
 * `<P>_UNKNOWN_IDENTITY_POLICY`, `SANDBOX_<P>_PORT` and `<P>_CLIENT_ID`.
 */
export type ProviderEnvironment<P extends string> = Record<`${P}_ENABLED`, boolean> &
  Record<`${P}_UNKNOWN_IDENTITY_POLICY`, UnknownIdentityPolicy> &
  Record<`SANDBOX_${P}_PORT`, number> &
  Partial<Record<`${P}_CLIENT_ID`, string>>;

/** The settings every provider has, whatever else it needs. */
export interface ProviderSettingsBase {
  /** No issuer (or base URL) configured: a local sandbox provider is started (never in production). */
  sandbox: boolean;
  unknownIdentityPolicy: UnknownIdentityPolicy;
  sandboxPort: number;
  /** Filled in by the sandbox in sandbox mode. */
  clientId?: string;
}

/**
 * One provider's configuration, as its folder declares it: its environment class (documented in
 * docs/configuration.md), how the class decides between the real provider and the local sandbox, and the settings
 * it resolves to besides the ones every provider has (ProviderSettingsBase).
 */
export interface ProviderSpec<K extends string, P extends string, E extends ProviderEnvironment<P>, C, R> {
  /** Where the settings are found in the app's configuration. */
  key: K;
  /** The variable prefix, e.g. `ITSME`. */
  prefix: P;
  /** The provider as operators know it, e.g. `itsme`. */
  name: string;
  environment: new () => E;
  /** The variable that points at the real provider (its issuer, or its API base URL). */
  url: keyof E & string;
  /** Set without `url`, these mean a real provider was meant: the sandbox is refused. Default: `requiredWithUrl`. */
  sandboxConflicts?: readonly (keyof E & string)[];
  /** Required when `url` is set. */
  requiredWithUrl: readonly (keyof E & string)[];
  /** What else is wrong with the URL, if anything (checked after the plain-http rule). */
  checkUrl?: (url: URL) => string | null;
  /** The provider's own settings in either mode; resolved first, so their problems are reported first. */
  settings: (env: E, problems: string[]) => C;
  /** With a real provider: what comes from its URL and credentials. */
  real: (env: E, url: URL) => R;
}

/** What the app's configuration needs of a provider's: its key, its environment class, and the resolution. */
export interface ProviderConfig<K extends string, E extends object, S extends ProviderSettingsBase> {
  key: K;
  environment: new () => E;
  /** Null when the provider is disabled; problems go to the context. */
  resolve(env: E, context: ProviderSettingsContext): S | null;
}

const LOCAL_HOSTS = ['localhost', '127.0.0.1', '[::1]'];

type Rules<E> = Pick<ProviderSpec<string, string, never, unknown, unknown>, 'prefix' | 'name' | 'checkUrl'> & {
  url: keyof E & string;
  sandboxConflicts?: readonly (keyof E & string)[];
  requiredWithUrl: readonly (keyof E & string)[];
};

/**
 * The rules for an enabled provider without an issuer, the same for every provider: the sandbox lets anyone sign
 * in as anyone, so it is only for a developer's own machine, never by accident.
 */
function sandboxProblem<E>(rules: Rules<E>, context: ProviderSettingsContext, partial: string[]) {
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
function providerUrl<E extends object>(env: E, rules: Rules<E>, context: ProviderSettingsContext): URL | null {
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
 * A provider's configuration from its spec: disabled (`<P>_ENABLED=false`) is null; enabled, the settings every
 * provider has, the provider's own, and with a real provider what comes from its URL.
 */
export function providerConfig<
  K extends string,
  P extends string,
  E extends ProviderEnvironment<P>,
  C extends object,
  R extends object,
>(spec: ProviderSpec<K, P, E, C, R>): ProviderConfig<K, E, ProviderSettingsBase & C & Partial<R>> {
  return {
    key: spec.key,
    environment: spec.environment,
    resolve(env, context) {
      const variables = env as unknown as Record<string, unknown>;
      if (!variables[`${spec.prefix}_ENABLED`]) return null;
      const own = spec.settings(env, context.problems);
      const url = providerUrl(env, spec, context);
      const base: ProviderSettingsBase = {
        sandbox: url === null,
        unknownIdentityPolicy: variables[`${spec.prefix}_UNKNOWN_IDENTITY_POLICY`] as UnknownIdentityPolicy,
        sandboxPort: variables[`SANDBOX_${spec.prefix}_PORT`] as number,
        ...(url ? { clientId: variables[`${spec.prefix}_CLIENT_ID`] as string | undefined } : {}),
      };
      return url ? { ...base, ...own, ...spec.real(env, url) } : { ...base, ...own };
    },
  };
}
