import { IsBoolean, IsInt, Max, Min } from 'class-validator';
import { EnvBoolean, EnvInteger } from '../config/env-transforms.js';

/**
 * Account linking and re-binding (docs/linking.md): how recent a login must be, how long a pending identity may be
 * used, and the four-eyes re-bind.
 * @title Linking and re-binding
 */
export class LinkingEnvironment {
  /**
   * Adding or removing a login method, attaching a pending identity and ending another session need a login of the
   * session at most this old; otherwise `reauthentication_required`.
   */
  @EnvInteger()
  @IsInt()
  @Min(60)
  @Max(3600)
  LINK_RECENT_AUTH_SECONDS = 10 * 60;

  /** How long the browser that produced a pending identity may attach it or create an account from it. */
  @EnvInteger()
  @IsInt()
  @Min(60)
  @Max(24 * 3600)
  PENDING_IDENTITY_SELF_SERVICE_SECONDS = 30 * 60;

  /**
   * An admin may re-bind a pending identity only while its latest login is at most this old (3 days); older: ask the
   * person to sign in again.
   */
  @EnvInteger()
  @IsInt()
  @Min(300)
  @Max(30 * 24 * 3600)
  REBIND_PENDING_MAX_AGE_SECONDS = 3 * 24 * 3600;

  /**
   * `true` (four-eyes): a re-bind is a request that a **different** admin must approve before it is applied, and only
   * the operator appoints administrators (`npm run admin:grant`): an admin who could make a second account of their own
   * an administrator could approve their own re-binds.
   */
  @EnvBoolean()
  @IsBoolean()
  REBIND_FOUR_EYES = false;

  /** A four-eyes re-bind request not approved within this time expires. */
  @EnvInteger()
  @IsInt()
  @Min(300)
  @Max(7 * 24 * 3600)
  REBIND_APPROVAL_TTL_SECONDS = 24 * 3600;
}

export interface LinkingSettings {
  recentAuthSeconds: number;
  pendingSelfServiceSeconds: number;
  rebindPendingMaxAgeSeconds: number;
  fourEyes: boolean;
  approvalTtlSeconds: number;
}

export function linkingSettings(env: LinkingEnvironment): LinkingSettings {
  return {
    recentAuthSeconds: env.LINK_RECENT_AUTH_SECONDS,
    pendingSelfServiceSeconds: env.PENDING_IDENTITY_SELF_SERVICE_SECONDS,
    rebindPendingMaxAgeSeconds: env.REBIND_PENDING_MAX_AGE_SECONDS,
    fourEyes: env.REBIND_FOUR_EYES,
    approvalTtlSeconds: env.REBIND_APPROVAL_TTL_SECONDS,
  };
}
