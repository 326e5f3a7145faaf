import { IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { EnvInteger } from '../config/env-transforms.js';

/**
 * Running several instances behind a load balancer: connection timeouts, metrics, retention of ended sessions and
 * the sealing of the audit trail and the access log's seal lag warning (docs/operations.md).
 * @title Operations
 */
export class OperationsEnvironment {
  /**
   * How long an idle keep-alive connection stays open. Longer than the idle timeout of the proxy in front (60 s for
   * AWS ALB, nginx' upstream keep-alive, Google's 600 s needs more), so the proxy, never the app, closes it (Node's
   * 5 s made proxies answer 502).
   */
  @EnvInteger()
  @IsInt()
  @Min(1)
  @Max(3_600_000)
  HTTP_KEEP_ALIVE_TIMEOUT_MS = 65_000;

  /** Time allowed to receive a request's headers (slow-header clients are cut off). */
  @EnvInteger()
  @IsInt()
  @Min(1)
  @Max(3_600_000)
  HTTP_HEADERS_TIMEOUT_MS = 66_000;

  /** Time allowed to receive a whole request, body included (`0`: no limit; not shorter than the headers timeout). */
  @EnvInteger()
  @IsInt()
  @Min(0)
  @Max(3_600_000)
  HTTP_REQUEST_TIMEOUT_MS = 120_000;

  /**
   * Port of the Prometheus metrics listener (`GET /metrics`), a listener of its own, never the public port; unset:
   * no metrics are served (docs/operations.md#metrics).
   */
  @IsOptional()
  @EnvInteger()
  @IsInt()
  @Min(1)
  @Max(65535)
  METRICS_PORT?: number;

  /** Address of the metrics listener. */
  @IsString()
  @Matches(/^[0-9a-fA-F.:]+$|^localhost$/, { message: 'METRICS_HOST must be an IP address or localhost' })
  METRICS_HOST = '127.0.0.1';

  /**
   * A bearer token (at least 32 characters) scrapes must send; required in production when `METRICS_HOST` is not a
   * loopback address.
   */
  @IsOptional()
  @IsString()
  @Matches(/^[\x21-\x7e]{32,}$/, { message: 'METRICS_TOKEN must be at least 32 printable characters, no spaces' })
  METRICS_TOKEN?: string;

  /**
   * Ended sessions (expired or revoked) are deleted this many days after their idle expiry, the last moment they
   * could have been used (audited as `session.purged`).
   */
  @EnvInteger()
  @IsInt()
  @Min(1)
  @Max(3650)
  SESSION_RETENTION_DAYS = 30;

  /** How often that purge runs on every instance, one instance at a time; `0` turns it off. */
  @EnvInteger()
  @IsInt()
  @Min(0)
  @Max(7 * 24 * 3600)
  SESSION_PURGE_INTERVAL_SECONDS = 3600;

  /**
   * Sealing of the SERMI access log behind by more than this (the oldest unsealed record's wait) is logged as a
   * warning and shown on `/ready` (`accessLogSealing`).
   */
  @EnvInteger()
  @IsInt()
  @Min(1)
  @Max(7 * 24 * 3600)
  SERMI_LOG_SEAL_LAG_WARN_SECONDS = 60;

  /**
   * How often each instance seals the audit trail's new events into its hash chain (one instance at a time; an
   * event is covered by `npm run audit:verify` from then on). `0` turns scheduled sealing off: verification still
   * seals before it checks.
   */
  @EnvInteger()
  @IsInt()
  @Min(0)
  @Max(3600 * 1000)
  AUDIT_SEAL_INTERVAL_MS = 1000;

  /**
   * Sealing of the audit trail behind by more than this (the oldest unsealed event's wait) is logged as a warning
   * and shown on `/ready` (`auditSealing`).
   */
  @EnvInteger()
  @IsInt()
  @Min(1)
  @Max(7 * 24 * 3600)
  AUDIT_SEAL_LAG_WARN_SECONDS = 60;
}

export interface OperationsSettings {
  http: { keepAliveTimeoutMs: number; headersTimeoutMs: number; requestTimeoutMs: number };
  /** Null: no metrics listener. */
  metrics: { port: number; host: string; token: string | null } | null;
  sessionRetention: { retentionDays: number; purgeIntervalSeconds: number };
  sealLagWarnSeconds: number;
  auditSealing: { intervalMs: number; lagWarnSeconds: number };
}

const LOOPBACK = /^(127\.|::1$|localhost$)/;

export function operationsSettings(
  env: OperationsEnvironment,
  nodeEnv: string,
  appPort: number,
  problems: string[],
): OperationsSettings {
  if (env.HTTP_REQUEST_TIMEOUT_MS > 0 && env.HTTP_HEADERS_TIMEOUT_MS > env.HTTP_REQUEST_TIMEOUT_MS) {
    problems.push('HTTP_HEADERS_TIMEOUT_MS: must not be longer than HTTP_REQUEST_TIMEOUT_MS');
  }
  if (env.METRICS_PORT !== undefined && env.METRICS_PORT === appPort) {
    problems.push('METRICS_PORT: must differ from PORT (metrics are never served on the public listener)');
  }
  if (nodeEnv === 'production' && env.METRICS_PORT !== undefined && !LOOPBACK.test(env.METRICS_HOST)) {
    if (!env.METRICS_TOKEN) {
      problems.push('METRICS_TOKEN: required in production when METRICS_HOST is not a loopback address');
    }
  }
  return {
    http: {
      keepAliveTimeoutMs: env.HTTP_KEEP_ALIVE_TIMEOUT_MS,
      headersTimeoutMs: env.HTTP_HEADERS_TIMEOUT_MS,
      requestTimeoutMs: env.HTTP_REQUEST_TIMEOUT_MS,
    },
    metrics:
      env.METRICS_PORT === undefined
        ? null
        : { port: env.METRICS_PORT, host: env.METRICS_HOST, token: env.METRICS_TOKEN ?? null },
    sessionRetention: {
      retentionDays: env.SESSION_RETENTION_DAYS,
      purgeIntervalSeconds: env.SESSION_PURGE_INTERVAL_SECONDS,
    },
    sealLagWarnSeconds: env.SERMI_LOG_SEAL_LAG_WARN_SECONDS,
    auditSealing: { intervalMs: env.AUDIT_SEAL_INTERVAL_MS, lagWarnSeconds: env.AUDIT_SEAL_LAG_WARN_SECONDS },
  };
}
