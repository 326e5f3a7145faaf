import 'reflect-metadata';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, IsUrl, Matches, Max, Min } from 'class-validator';
import { EnvBoolean, EnvInteger, EnvList } from './env-transforms.js';
import { ConfigurationError, validateEnv } from './validate-env.js';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * Every environment variable the foundation reads. Property names are the variable names; defaults are the
 * property initialisers and are repeated in `.env.example`.
 */
export class EnvironmentVariables {
  @IsIn(['development', 'test', 'production'])
  NODE_ENV: 'development' | 'test' | 'production' = 'development';

  @EnvInteger()
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT = 3000;

  @IsString()
  @Matches(/^[0-9a-fA-F.:]+$|^localhost$/, { message: 'HOST must be an IP address or localhost' })
  HOST = '127.0.0.1';

  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true })
  PUBLIC_BASE_URL = 'http://localhost:3000';

  @EnvList()
  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true }, { each: true })
  TRUSTED_ORIGINS: string[] = [];

  @IsOptional()
  @Matches(/^postgres(ql)?:\/\/.+/, { message: 'DATABASE_URL must be a postgres:// connection URL' })
  DATABASE_URL?: string;

  @IsOptional()
  @Matches(/^postgres(ql)?:\/\/.+/, { message: 'DATABASE_MIGRATION_URL must be a postgres:// connection URL' })
  DATABASE_MIGRATION_URL?: string;

  @EnvInteger()
  @IsInt()
  @Min(1)
  @Max(200)
  DATABASE_POOL_SIZE = 10;

  @EnvInteger()
  @IsInt()
  @Min(100)
  @Max(60000)
  DATABASE_CONNECT_TIMEOUT_MS = 5000;

  @EnvInteger()
  @IsInt()
  @Min(100)
  @Max(600000)
  DATABASE_STATEMENT_TIMEOUT_MS = 15000;

  @IsString()
  EMBEDDED_POSTGRES_DIR = '.data/postgres';

  @EnvInteger()
  @IsInt()
  @Min(1024)
  @Max(65535)
  EMBEDDED_POSTGRES_PORT = 54329;

  @EnvBoolean()
  @IsBoolean()
  MIGRATIONS_RUN = true;

  @EnvBoolean()
  @IsBoolean()
  SESSION_COOKIE_SECURE = true;

  @EnvInteger()
  @IsInt()
  @Min(60)
  @Max(7 * 24 * 3600)
  SESSION_IDLE_TIMEOUT_SECONDS = 30 * 60;

  @EnvInteger()
  @IsInt()
  @Min(60)
  @Max(30 * 24 * 3600)
  SESSION_ABSOLUTE_TIMEOUT_SECONDS = 12 * 3600;

  @EnvInteger()
  @IsInt()
  @Min(1024)
  @Max(10 * 1024 * 1024)
  BODY_LIMIT_BYTES = 100 * 1024;

  @IsString()
  @Matches(
    /^(false|true|\d{1,2}|(loopback|linklocal|uniquelocal|[0-9a-fA-F.:]+(\/\d{1,3})?)(,\s*(loopback|linklocal|uniquelocal|[0-9a-fA-F.:]+(\/\d{1,3})?))*)$/,
    {
      message: 'TRUST_PROXY must be false, true, a hop count, or a comma-separated list of proxy addresses/subnets',
    },
  )
  TRUST_PROXY = 'false';

  @IsIn(LOG_LEVELS)
  LOG_LEVEL: LogLevel = 'info';

  @EnvInteger()
  @IsInt()
  @Min(1)
  @Max(120)
  SHUTDOWN_TIMEOUT_SECONDS = 10;
}

export interface AppConfig {
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
  };
  database: {
    /** Undefined means: start the embedded Postgres. */
    url?: string;
    /** The table owner's connection for migrations, when the app itself runs as a less privileged role. */
    migrationUrl?: string;
    poolSize: number;
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
}

function parseTrustProxy(value: string): boolean | number | string {
  if (value === 'false') return false;
  if (value === 'true') return true;
  if (/^\d+$/.test(value)) return Number(value);
  return value;
}

export function loadConfig(env: Record<string, string | undefined> = process.env): AppConfig {
  const vars = validateEnv(EnvironmentVariables, env);
  const publicBaseUrl = new URL(vars.PUBLIC_BASE_URL);
  const problems: string[] = [];
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
    },
    database: {
      url: vars.DATABASE_URL,
      migrationUrl: vars.DATABASE_MIGRATION_URL,
      poolSize: vars.DATABASE_POOL_SIZE,
      connectTimeoutMs: vars.DATABASE_CONNECT_TIMEOUT_MS,
      statementTimeoutMs: vars.DATABASE_STATEMENT_TIMEOUT_MS,
      runMigrations: vars.MIGRATIONS_RUN,
      embedded: { dataDir: vars.EMBEDDED_POSTGRES_DIR, port: vars.EMBEDDED_POSTGRES_PORT },
    },
    session: {
      cookieSecure: vars.SESSION_COOKIE_SECURE,
      // The __Host- prefix makes browsers refuse the cookie unless it is Secure, host-only and Path=/.
      cookieName: vars.SESSION_COOKIE_SECURE ? '__Host-rmi_session' : 'rmi_session',
      idleTimeoutSeconds: vars.SESSION_IDLE_TIMEOUT_SECONDS,
      absoluteTimeoutSeconds: vars.SESSION_ABSOLUTE_TIMEOUT_SECONDS,
    },
    logLevel: vars.LOG_LEVEL,
  };
}
