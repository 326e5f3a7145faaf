import { IsBoolean, IsInt, IsOptional, IsString, Max, Min, MinLength } from 'class-validator';
import { EnvBoolean, EnvInteger } from '../config/env-transforms.js';

/**
 * Settings shared by every OIDC provider and by the login flow around all providers: provider calls and caches,
 * login transactions, where browsers land, and the limits on login starts (docs/login-flows.md).
 * @title OIDC and logins
 */
export class OidcEnvironment {
  /**
   * Accept `http://` issuers and an `http://` eHerkenning base URL (development only; refused in production). The
   * local sandboxes need no such setting.
   */
  @EnvBoolean()
  @IsBoolean()
  OIDC_ALLOW_INSECURE_HTTP = false;

  /** Timeout of every call to a provider (discovery, JWKS, token, user-info, passwordless, Signicat's REST API). */
  @EnvInteger()
  @IsInt()
  @Min(100)
  @Max(60_000)
  OIDC_HTTP_TIMEOUT_MS = 5000;

  /** How long a provider's discovery document is cached (the last good copy is kept while the provider is down). */
  @EnvInteger()
  @IsInt()
  @Min(10)
  @Max(86_400)
  OIDC_METADATA_TTL_SECONDS = 3600;

  /** How long a provider's signing keys are cached (the last good copy is kept while the provider is down). */
  @EnvInteger()
  @IsInt()
  @Min(10)
  @Max(86_400)
  OIDC_JWKS_TTL_SECONDS = 600;

  /** An unknown `kid` re-fetches the JWKS at most this often, so forged tokens cannot hammer the provider. */
  @EnvInteger()
  @IsInt()
  @Min(0)
  @Max(3600)
  OIDC_JWKS_REFETCH_COOLDOWN_SECONDS = 30;

  /** How long a started login (state, nonce, PKCE verifier, browser binding) stays valid. */
  @EnvInteger()
  @IsInt()
  @Min(60)
  @Max(3600)
  LOGIN_TRANSACTION_TTL_SECONDS = 600;

  /**
   * Sent as `max_age` with every ordinary login, so the provider reports when the person signed in (`auth_time`)
   * and answers from a single sign-on session no older than this. SERMI, link and re-authentication logins always
   * ask for a new sign-in instead.
   */
  @EnvInteger()
  @IsInt()
  @Min(60)
  @Max(86_400)
  LOGIN_MAX_AGE_SECONDS = 3600;

  /**
   * Refused logins audited one by one per client (IPv4 address or IPv6 /64) and minute; beyond that one
   * `auth.login_failures_throttled` event (the refusals go on).
   */
  @EnvInteger()
  @IsInt()
  @Min(1)
  @Max(100_000)
  LOGIN_FAILURE_AUDIT_LIMIT_PER_MINUTE = 120;

  /**
   * Browser login starts (every provider, link and re-authentication starts too) per client address (IPv6: /64)
   * and minute; beyond that 429 `too_many_login_attempts` until the minute is over
   * (docs/login-flows.md#limits-on-login-starts).
   */
  @EnvInteger()
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  LOGIN_START_LIMIT_PER_MINUTE = 60;

  /** The same for passwordless (QR) starts, each of which calls Digidentity; refused before it is called. */
  @EnvInteger()
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  PASSWORDLESS_START_LIMIT_PER_MINUTE = 30;

  /**
   * Open (unconsumed, unexpired) logins per browser binding; a newer start in the same browser expires the oldest
   * beyond this.
   */
  @EnvInteger()
  @IsInt()
  @Min(1)
  @Max(100)
  LOGIN_OPEN_PER_BROWSER = 5;

  /**
   * Expired login transactions are deleted this long after they expire; until then a late QR poll still gets
   * `expired`, a replayed callback `login_replayed`.
   */
  @EnvInteger()
  @IsInt()
  @Min(0)
  @Max(86_400)
  LOGIN_TRANSACTION_PURGE_GRACE_SECONDS = 300;

  /**
   * How often each instance deletes expired login transactions and finished rate-limit windows (one instance at a
   * time, advisory lock); `0` turns it off.
   */
  @EnvInteger()
  @IsInt()
  @Min(0)
  @Max(3600)
  LOGIN_TRANSACTION_PURGE_INTERVAL_SECONDS = 60;

  /**
   * Where browsers go when a login fails (the error page); `?code=<stable code>` is appended. A path is relative to
   * `PUBLIC_BASE_URL`.
   */
  @IsString()
  LOGIN_ERROR_URL = '/auth/login-error';

  /**
   * Where browsers land after signing out (also after the provider's own sign-out page). A path is relative to
   * `PUBLIC_BASE_URL`.
   */
  @IsString()
  LOGOUT_REDIRECT_URL = '/';

  /**
   * Where a login that named no page to return to lands (the account page by default). A portal with its own front
   * end points it at its page. A path is relative to `PUBLIC_BASE_URL`.
   */
  @IsString()
  LOGIN_SUCCESS_URL = '/account';

  /**
   * Where browsers go when a login is held as a pending identity (the pending page);
   * `?code=identity_pending&reference=<short reference>` is appended. A path is relative to `PUBLIC_BASE_URL`.
   */
  @IsString()
  LOGIN_PENDING_URL = '/pending';

  /**
   * Signs the login-binding cookie, so only values this portal minted bind a login to a browser (at least 32
   * characters, the same on every instance). Unset: a key generated once and kept in the database (`server_secrets`),
   * shared by every instance on it.
   */
  @IsOptional()
  @IsString()
  @MinLength(32, { message: 'LOGIN_BINDING_KEY must be at least 32 characters (e.g. openssl rand -base64 32)' })
  LOGIN_BINDING_KEY?: string;
}
