import 'reflect-metadata';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, IsUrl, Matches, Max, Min } from 'class-validator';
import { EnvBoolean, EnvInteger, EnvList } from '../config/env-transforms.js';
import { ConfigurationError, validateEnv } from '../config/validate-env.js';
import { OidcEnvironment } from '../oidc/oidc.config.js';
import { DIGIDENTITY_CONFIG } from '../providers/digidentity/digidentity.config.js';
import { ITSME_CONFIG } from '../providers/itsme/itsme.config.js';
import type { ProviderSettingsContext } from '../providers/kit/provider-settings.js';
import { SIGNICAT_EHERKENNING_CONFIG } from '../providers/signicat-eherkenning/signicat-eherkenning.config.js';
import { SIGNICAT_IDIN_CONFIG } from '../providers/signicat-idin/signicat-idin.config.js';
import { LinkingEnvironment, type LinkingSettings, linkingSettings } from '../linking/linking.config.js';
import { SermiEnvironment, type SermiSettings, sermiSettings } from '../sermi/sermi.config.js';
import { OperationsEnvironment, type OperationsSettings, operationsSettings } from '../operations/operations.config.js';
import { hostCookieName } from '../common/http/host-cookie.js';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * The HTTP listener, the database, sessions and logging.
 * @title General
 */
export class EnvironmentVariables {
  /** `development`, `test` or `production`. Production refuses insecure cookies and a plain-http `PUBLIC_BASE_URL`. */
  @IsIn(['development', 'test', 'production'])
  NODE_ENV: 'development' | 'test' | 'production' = 'development';

  /** Port of the HTTP listener. */
  @EnvInteger()
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT = 3000;

  /** Address of the HTTP listener. Use `0.0.0.0` in containers. */
  @IsString()
  @Matches(/^[0-9a-fA-F.:]+$|^localhost$/, { message: 'HOST must be an IP address or localhost' })
  HOST = '127.0.0.1';

  /**
   * Where browsers reach the portal. Its origin is trusted for state-changing requests; provider redirect URIs are
   * built from it. Required in production; outside it the default follows `PORT`, and a localhost URL on another
   * port than `PORT` stops the start (unless `TRUST_PROXY` is set).
   * @default `http://localhost:<PORT>`
   */
  @IsOptional()
  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true })
  PUBLIC_BASE_URL?: string;

  /** More origins (comma-separated) allowed to send cookie-authenticated state-changing requests. */
  @EnvList()
  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true }, { each: true })
  TRUSTED_ORIGINS: string[] = [];

  /** Postgres URL (`?sslmode=verify-full` for TLS). Unset: the embedded Postgres. */
  @IsOptional()
  @Matches(/^postgres(ql)?:\/\/.+/, { message: 'DATABASE_URL must be a postgres:// connection URL' })
  DATABASE_URL?: string;

  /**
   * The table owner's URL, used only for migrations, when `DATABASE_URL` is a runtime role that owns nothing
   * (docs/operations.md#deployment). Unset: `DATABASE_URL`.
   */
  @IsOptional()
  @Matches(/^postgres(ql)?:\/\/.+/, { message: 'DATABASE_MIGRATION_URL must be a postgres:// connection URL' })
  DATABASE_MIGRATION_URL?: string;

  /**
   * Connections of the request pool per instance (readiness and metrics use two more of their own; sizing in
   * docs/operations.md#sizing-postgres).
   */
  @EnvInteger()
  @IsInt()
  @Min(1)
  @Max(200)
  DATABASE_POOL_SIZE = 10;

  /**
   * How long a connection of the request pool may stay unused before the pool closes it. A new connection costs
   * Postgres a server process (several ms of its CPU, and more while that process first touches shared memory), so the
   * pool keeps its connections through quiet spells; TCP keep-alive probes after a minute of silence keep a firewall
   * or NAT between the app and Postgres (with an idle limit above a minute) from dropping them.
   */
  @EnvInteger()
  @IsInt()
  @Min(100)
  @Max(3600000)
  DATABASE_POOL_IDLE_TIMEOUT_MS = 300000;

  /** Time allowed to open a connection, or to wait for one from the pool. */
  @EnvInteger()
  @IsInt()
  @Min(100)
  @Max(60000)
  DATABASE_CONNECT_TIMEOUT_MS = 5000;

  /**
   * How long a session lookup or a SERMI decision record may wait, under load, for more of its kind to share its
   * statement (0: never). Several instances on one database: keep it (fewer statements and commits per request, and
   * less CPU); one instance where every millisecond counts: 0. Figures: docs/operations.md#sizing-postgres.
   */
  @EnvInteger()
  @IsInt()
  @Min(0)
  @Max(100)
  DATABASE_BATCH_LINGER_MS = 15;

  /**
   * Postgres `statement_timeout` for the app's connections. A server that stops answering altogether is given 5 s
   * more, then the connection is dropped and the request answered 503.
   */
  @EnvInteger()
  @IsInt()
  @Min(100)
  @Max(600000)
  DATABASE_STATEMENT_TIMEOUT_MS = 15000;

  /** Data folder of the embedded Postgres (used when `DATABASE_URL` is unset). */
  @IsString()
  EMBEDDED_POSTGRES_DIR = '.data/postgres';

  /** Port of the embedded Postgres (127.0.0.1 only; its password is in `<dir>/password`). */
  @EnvInteger()
  @IsInt()
  @Min(1024)
  @Max(65535)
  EMBEDDED_POSTGRES_PORT = 54329;

  /**
   * Apply pending migrations at start-up (under an advisory lock). `false` for deployments that run
   * `npm run migration:run` separately.
   */
  @EnvBoolean()
  @IsBoolean()
  MIGRATIONS_RUN = true;

  /**
   * `false` only for plain-http development on a host other than localhost (Chrome and Firefox accept Secure cookies
   * on `http://localhost`); the cookies then lose their `__Host-` prefix. Refused in production.
   */
  @EnvBoolean()
  @IsBoolean()
  SESSION_COOKIE_SECURE = true;

  /** A session unused this long is dead (use extends it, never past the absolute timeout). */
  @EnvInteger()
  @IsInt()
  @Min(60)
  @Max(7 * 24 * 3600)
  SESSION_IDLE_TIMEOUT_SECONDS = 30 * 60;

  /** A session is dead this long after it was created, used or not. */
  @EnvInteger()
  @IsInt()
  @Min(60)
  @Max(30 * 24 * 3600)
  SESSION_ABSOLUTE_TIMEOUT_SECONDS = 12 * 3600;

  /** Largest accepted request body (413 `payload_too_large` above). */
  @EnvInteger()
  @IsInt()
  @Min(1024)
  @Max(10 * 1024 * 1024)
  BODY_LIMIT_BYTES = 100 * 1024;

  /**
   * Express `trust proxy`: `false`, `true`, a hop count, or proxy addresses/subnets (`loopback`, `10.0.0.0/8`, …), so
   * client addresses are right behind a load balancer (they key the limits on login starts).
   */
  @IsString()
  @Matches(
    /^(false|true|\d{1,2}|(loopback|linklocal|uniquelocal|[0-9a-fA-F.:]+(\/\d{1,3})?)(,\s*(loopback|linklocal|uniquelocal|[0-9a-fA-F.:]+(\/\d{1,3})?))*)$/,
    {
      message: 'TRUST_PROXY must be false, true, a hop count, or a comma-separated list of proxy addresses/subnets',
    },
  )
  TRUST_PROXY = 'false';

  /** `fatal`, `error`, `warn`, `info`, `debug`, `trace`, or `silent`. */
  @IsIn(LOG_LEVELS)
  LOG_LEVEL: LogLevel = 'info';

  /**
   * Swagger UI at `/api/docs` and the OpenAPI JSON at `/api/docs/openapi.json` (both or neither). Unset: served,
   * except with `NODE_ENV=production`.
   */
  @IsOptional()
  @EnvBoolean()
  @IsBoolean()
  API_DOCS_ENABLED?: boolean;

  /**
   * How long a shutdown (`SIGTERM`) may take to finish in-flight requests; keep it shorter than the orchestrator's
   * grace period.
   */
  @EnvInteger()
  @IsInt()
  @Min(1)
  @Max(120)
  SHUTDOWN_TIMEOUT_SECONDS = 10;
}

/** The configuration of everything but the identity providers (each provider's settings: PROVIDER_CONFIGS). */
export interface CoreAppConfig {
  env: EnvironmentVariables['NODE_ENV'];
  http: {
    port: number;
    host: string;
    publicBaseUrl: URL;
    /** Origins allowed to send cookie-authenticated state-changing requests. */
    trustedOrigins: ReadonlySet<string>;
    bodyLimitBytes: number;
    trustProxy: boolean | number | string;
    shutdownTimeoutMs: number;
    /** Swagger UI and the OpenAPI JSON are served (API_DOCS_ENABLED; off in production unless set). */
    apiDocs: boolean;
  };
  database: {
    /** Undefined means: start the embedded Postgres. */
    url?: string;
    /** The table owner's connection for migrations, when the app itself runs as a less privileged role. */
    migrationUrl?: string;
    poolSize: number;
    poolIdleTimeoutMs: number;
    /** DATABASE_BATCH_LINGER_MS (hotStatementBatcher). */
    batchLingerMs: number;
    connectTimeoutMs: number;
    statementTimeoutMs: number;
    runMigrations: boolean;
    embedded: { dataDir: string; port: number };
  };
  session: {
    cookieSecure: boolean;
    cookieName: string;
    idleTimeoutSeconds: number;
    absoluteTimeoutSeconds: number;
  };
  logLevel: LogLevel;
  oidc: {
    allowInsecureHttp: boolean;
    httpTimeoutMs: number;
    metadataTtlSeconds: number;
    jwksTtlSeconds: number;
    jwksRefetchCooldownSeconds: number;
  };
  login: {
    transactionTtlSeconds: number;
    /** `max_age` of ordinary logins (LOGIN_MAX_AGE_SECONDS). */
    maxAgeSeconds: number;
    /** Absolute URL of the portal page for failed logins; `?code=` is appended. */
    errorUrl: URL;
    /** Absolute URL of the page browsers land on after signing out. */
    afterLogoutUrl: URL;
    /** Absolute URL where a login without a page to return to lands (LOGIN_SUCCESS_URL). */
    successUrl: URL;
    /** Absolute URL of the page for a login held as a pending identity; `?code=&reference=` are appended. */
    pendingUrl: URL;
    /** Cookie that binds a started login to the browser that started it. */
    bindingCookieName: string;
    /** Signs that cookie (LOGIN_BINDING_KEY); null: the key kept in the database. */
    bindingKey: Buffer | null;
    failureAuditLimitPerMinute: number;
    startLimitPerMinute: number;
    passwordlessStartLimitPerMinute: number;
    openPerBrowser: number;
    purgeGraceSeconds: number;
    purgeIntervalSeconds: number;
  };
  sermi: SermiSettings;
  linking: LinkingSettings;
  operations: OperationsSettings;
}

/**
 * The identity providers, in the order their problems are reported. Each provider folder owns its environment class
 * and how it resolves (see src/providers/kit/provider-settings.ts); its settings land under its `key`, null when
 * the provider is disabled. Adding a provider: docs/new-provider.md.
 */
export const PROVIDER_CONFIGS = [
  DIGIDENTITY_CONFIG,
  SIGNICAT_IDIN_CONFIG,
  ITSME_CONFIG,
  SIGNICAT_EHERKENNING_CONFIG,
] as const;

type ProviderConfigs = (typeof PROVIDER_CONFIGS)[number];
export type ProviderKey = ProviderConfigs['key'];
/** Each provider's settings under its key (null: disabled). */
export type ProviderSettingsMap = {
  [C in ProviderConfigs as C['key']]: ReturnType<C['resolve']>;
};

export type AppConfig = CoreAppConfig & ProviderSettingsMap;

/** A provider runs as a local sandbox (development without credentials). */
export function usesSandbox(config: AppConfig): boolean {
  return PROVIDER_CONFIGS.some(({ key }) => config[key]?.sandbox);
}

/**
 * Every class of environment variables the app reads. In each, the property names are the variable names and the
 * initial values the defaults (repeated in .env.example); the JSDoc above a property is its only description, from
 * which `npm run docs:config` writes docs/configuration.md (a class's JSDoc gives its section `@title` and intro).
 */
export const ENVIRONMENT_SCHEMAS = [
  EnvironmentVariables,
  OidcEnvironment,
  ...PROVIDER_CONFIGS.map((provider) => provider.environment),
  SermiEnvironment,
  LinkingEnvironment,
  OperationsEnvironment,
] as const;

function parseTrustProxy(value: string): boolean | number | string {
  if (value === 'false') return false;
  if (value === 'true') return true;
  if (/^\d+$/.test(value)) return Number(value);
  return value;
}

function validateAll(env: Record<string, string | undefined>) {
  const problems: string[] = [];
  const attempt = <T extends object>(schema: new () => T): T | undefined => {
    try {
      return validateEnv(schema, env);
    } catch (error) {
      if (!(error instanceof ConfigurationError)) throw error;
      problems.push(...error.problems);
      return undefined;
    }
  };
  const vars = attempt(EnvironmentVariables);
  const oidc = attempt(OidcEnvironment);
  const providers = PROVIDER_CONFIGS.map((provider) => attempt<object>(provider.environment));
  const sermi = attempt(SermiEnvironment);
  const linking = attempt(LinkingEnvironment);
  const operations = attempt(OperationsEnvironment);
  if (!vars || !oidc || !sermi || !linking || !operations || providers.some((env) => !env)) {
    throw new ConfigurationError(problems);
  }
  return { vars, oidc, providers: providers as object[], sermi, linking, operations };
}

/** Each enabled provider's settings, resolved from its own environment class by its own rules. */
function providerSettings(envs: object[], context: ProviderSettingsContext): ProviderSettingsMap {
  return Object.fromEntries(
    PROVIDER_CONFIGS.map((provider, index) => [
      provider.key,
      (provider.resolve as (env: object, context: ProviderSettingsContext) => unknown)(envs[index], context),
    ]),
  ) as ProviderSettingsMap;
}

/**
 * A PUBLIC_BASE_URL on this machine whose port is not the one the app listens on can only work behind a local
 * proxy (TRUST_PROXY); otherwise every login would redirect browsers to a port nobody answers.
 */
function unreachablePublicPort(publicBaseUrl: URL, port: number, trustProxy: string): string | undefined {
  if (!['localhost', '127.0.0.1', '[::1]'].includes(publicBaseUrl.hostname) || port === 0) return undefined;
  if (trustProxy !== 'false') return undefined;
  const publicPort = Number(publicBaseUrl.port || (publicBaseUrl.protocol === 'https:' ? 443 : 80));
  if (publicPort === port) return undefined;
  return `PUBLIC_BASE_URL: ${publicBaseUrl.origin} names port ${publicPort}, but the app listens on PORT=${port}: browsers would be sent to a port nobody answers (unset PUBLIC_BASE_URL to follow PORT, or set TRUST_PROXY behind a local proxy)`;
}

export function loadConfig(env: Record<string, string | undefined> = process.env): AppConfig {
  const {
    vars,
    oidc,
    providers: providerEnvs,
    sermi: sermiEnv,
    linking: linkingEnv,
    operations: operationsEnv,
  } = validateAll(env);
  const problems: string[] = [];
  if (vars.PUBLIC_BASE_URL === undefined && vars.NODE_ENV === 'production') {
    problems.push('PUBLIC_BASE_URL: required when NODE_ENV=production (the https:// address browsers use)');
  }
  // Outside production the default follows PORT, so changing the port alone keeps every redirect right.
  vars.PUBLIC_BASE_URL ??= `http://localhost:${vars.PORT || 3000}`;
  const publicBaseUrl = new URL(vars.PUBLIC_BASE_URL);
  const portProblem = unreachablePublicPort(publicBaseUrl, vars.PORT, vars.TRUST_PROXY);
  if (portProblem) problems.push(portProblem);
  if (vars.NODE_ENV === 'production' && oidc.OIDC_ALLOW_INSECURE_HTTP) {
    problems.push('OIDC_ALLOW_INSECURE_HTTP: cannot be true when NODE_ENV=production');
  }
  let errorUrl: URL | undefined;
  try {
    errorUrl = new URL(oidc.LOGIN_ERROR_URL, publicBaseUrl);
  } catch {
    problems.push('LOGIN_ERROR_URL: must be a URL or a path');
  }
  let afterLogoutUrl: URL | undefined;
  try {
    afterLogoutUrl = new URL(oidc.LOGOUT_REDIRECT_URL, publicBaseUrl);
  } catch {
    problems.push('LOGOUT_REDIRECT_URL: must be a URL or a path');
  }
  const pageUrl = (name: 'LOGIN_SUCCESS_URL' | 'LOGIN_PENDING_URL'): URL | undefined => {
    try {
      return new URL(oidc[name], publicBaseUrl);
    } catch {
      problems.push(`${name}: must be a URL or a path`);
      return undefined;
    }
  };
  const successUrl = pageUrl('LOGIN_SUCCESS_URL');
  const pendingUrl = pageUrl('LOGIN_PENDING_URL');
  const providers = providerSettings(providerEnvs, {
    nodeEnv: vars.NODE_ENV,
    publicBaseUrl,
    allowInsecureHttp: oidc.OIDC_ALLOW_INSECURE_HTTP,
    problems,
  });
  const sermi = sermiSettings(sermiEnv, vars.NODE_ENV, problems);
  const operations = operationsSettings(operationsEnv, vars.NODE_ENV, vars.PORT, problems);
  const writerPort = sermi.log.writer?.listen?.port;
  if (writerPort !== undefined && (writerPort === vars.PORT || writerPort === operations.metrics?.port)) {
    problems.push('SERMI_LOG_WRITER_PORT: must differ from PORT and METRICS_PORT (a listener of its own)');
  }
  if (vars.NODE_ENV === 'production' && publicBaseUrl.protocol !== 'https:') {
    problems.push('PUBLIC_BASE_URL: must be an https:// URL when NODE_ENV=production');
  }
  if (vars.NODE_ENV === 'production' && !vars.SESSION_COOKIE_SECURE) {
    problems.push('SESSION_COOKIE_SECURE: cannot be false when NODE_ENV=production (plain-http development only)');
  }
  if (vars.SESSION_IDLE_TIMEOUT_SECONDS > vars.SESSION_ABSOLUTE_TIMEOUT_SECONDS) {
    problems.push('SESSION_IDLE_TIMEOUT_SECONDS: must not be longer than SESSION_ABSOLUTE_TIMEOUT_SECONDS');
  }
  if (problems.length > 0) throw new ConfigurationError(problems);
  return {
    env: vars.NODE_ENV,
    http: {
      port: vars.PORT,
      host: vars.HOST,
      publicBaseUrl,
      trustedOrigins: new Set([publicBaseUrl.origin, ...vars.TRUSTED_ORIGINS.map((origin) => new URL(origin).origin)]),
      bodyLimitBytes: vars.BODY_LIMIT_BYTES,
      trustProxy: parseTrustProxy(vars.TRUST_PROXY),
      shutdownTimeoutMs: vars.SHUTDOWN_TIMEOUT_SECONDS * 1000,
      apiDocs: vars.API_DOCS_ENABLED ?? vars.NODE_ENV !== 'production',
    },
    database: {
      url: vars.DATABASE_URL,
      migrationUrl: vars.DATABASE_MIGRATION_URL,
      poolSize: vars.DATABASE_POOL_SIZE,
      poolIdleTimeoutMs: vars.DATABASE_POOL_IDLE_TIMEOUT_MS,
      batchLingerMs: vars.DATABASE_BATCH_LINGER_MS,
      connectTimeoutMs: vars.DATABASE_CONNECT_TIMEOUT_MS,
      statementTimeoutMs: vars.DATABASE_STATEMENT_TIMEOUT_MS,
      runMigrations: vars.MIGRATIONS_RUN,
      embedded: { dataDir: vars.EMBEDDED_POSTGRES_DIR, port: vars.EMBEDDED_POSTGRES_PORT },
    },
    session: {
      cookieSecure: vars.SESSION_COOKIE_SECURE,
      cookieName: hostCookieName('rmi_session', vars.SESSION_COOKIE_SECURE),
      idleTimeoutSeconds: vars.SESSION_IDLE_TIMEOUT_SECONDS,
      absoluteTimeoutSeconds: vars.SESSION_ABSOLUTE_TIMEOUT_SECONDS,
    },
    logLevel: vars.LOG_LEVEL,
    oidc: {
      allowInsecureHttp: oidc.OIDC_ALLOW_INSECURE_HTTP,
      httpTimeoutMs: oidc.OIDC_HTTP_TIMEOUT_MS,
      metadataTtlSeconds: oidc.OIDC_METADATA_TTL_SECONDS,
      jwksTtlSeconds: oidc.OIDC_JWKS_TTL_SECONDS,
      jwksRefetchCooldownSeconds: oidc.OIDC_JWKS_REFETCH_COOLDOWN_SECONDS,
    },
    login: {
      transactionTtlSeconds: oidc.LOGIN_TRANSACTION_TTL_SECONDS,
      maxAgeSeconds: oidc.LOGIN_MAX_AGE_SECONDS,
      errorUrl: errorUrl!,
      afterLogoutUrl: afterLogoutUrl!,
      successUrl: successUrl!,
      pendingUrl: pendingUrl!,
      bindingCookieName: hostCookieName('rmi_login', vars.SESSION_COOKIE_SECURE),
      bindingKey: oidc.LOGIN_BINDING_KEY ? Buffer.from(oidc.LOGIN_BINDING_KEY, 'utf8') : null,
      failureAuditLimitPerMinute: oidc.LOGIN_FAILURE_AUDIT_LIMIT_PER_MINUTE,
      startLimitPerMinute: oidc.LOGIN_START_LIMIT_PER_MINUTE,
      passwordlessStartLimitPerMinute: oidc.PASSWORDLESS_START_LIMIT_PER_MINUTE,
      openPerBrowser: oidc.LOGIN_OPEN_PER_BROWSER,
      purgeGraceSeconds: oidc.LOGIN_TRANSACTION_PURGE_GRACE_SECONDS,
      purgeIntervalSeconds: oidc.LOGIN_TRANSACTION_PURGE_INTERVAL_SECONDS,
    },
    ...providers,
    sermi,
    linking: linkingSettings(linkingEnv),
    operations,
  };
}
