import { IsInt, Max, Min } from 'class-validator';
import { EnvInteger } from '../config/env-transforms.js';

/** Settings for running several instances behind a load balancer. */
export class OperationsEnvironment {
  /**
   * How long an idle keep-alive connection stays open. Longer than the idle timeout of the proxy in front (60 s for
   * AWS ALB, nginx' upstream keep-alive, Google's 600 s needs more), so the proxy, never the app, closes it.
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

  /** Time allowed to receive a whole request, body included; 0: no limit. */
  @EnvInteger()
  @IsInt()
  @Min(0)
  @Max(3_600_000)
  HTTP_REQUEST_TIMEOUT_MS = 120_000;

  /** Sealing of the SERMI access log behind by more than this is logged as a warning and shown on /ready. */
  @EnvInteger()
  @IsInt()
  @Min(1)
  @Max(7 * 24 * 3600)
  SERMI_LOG_SEAL_LAG_WARN_SECONDS = 60;
}

export interface OperationsSettings {
  http: { keepAliveTimeoutMs: number; headersTimeoutMs: number; requestTimeoutMs: number };
  sealLagWarnSeconds: number;
}

export function operationsSettings(
  env: OperationsEnvironment,
  nodeEnv: string,
  appPort: number,
  problems: string[],
): OperationsSettings {
  if (env.HTTP_REQUEST_TIMEOUT_MS > 0 && env.HTTP_HEADERS_TIMEOUT_MS > env.HTTP_REQUEST_TIMEOUT_MS) {
    problems.push('HTTP_HEADERS_TIMEOUT_MS: must not be longer than HTTP_REQUEST_TIMEOUT_MS');
  }
  return {
    http: {
      keepAliveTimeoutMs: env.HTTP_KEEP_ALIVE_TIMEOUT_MS,
      headersTimeoutMs: env.HTTP_HEADERS_TIMEOUT_MS,
      requestTimeoutMs: env.HTTP_REQUEST_TIMEOUT_MS,
    },
    sealLagWarnSeconds: env.SERMI_LOG_SEAL_LAG_WARN_SECONDS,
  };
}
