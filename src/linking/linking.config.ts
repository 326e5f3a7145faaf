import { IsBoolean, IsInt, Max, Min } from 'class-validator';
import { EnvBoolean, EnvInteger } from '../config/env-transforms.js';

export class LinkingEnvironment {
  /** Adding or removing a login method needs a login of the current session at most this old. */
  @EnvInteger()
  @IsInt()
  @Min(60)
  @Max(3600)
  LINK_RECENT_AUTH_SECONDS = 10 * 60;

  /** How long the browser that produced a pending identity may attach it (or create an account from it). */
  @EnvInteger()
  @IsInt()
  @Min(60)
  @Max(24 * 3600)
  PENDING_IDENTITY_SELF_SERVICE_SECONDS = 30 * 60;

  /** An admin may re-bind a pending identity only while its last login is at most this old. */
  @EnvInteger()
  @IsInt()
  @Min(300)
  @Max(30 * 24 * 3600)
  REBIND_PENDING_MAX_AGE_SECONDS = 3 * 24 * 3600;

  /** Four-eyes: a re-bind is only requested by one admin and applied when a different admin approves it. */
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
