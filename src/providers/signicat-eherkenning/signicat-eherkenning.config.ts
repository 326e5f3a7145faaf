import { IsBoolean, IsIn, IsInt, IsOptional, IsString, IsUrl, Matches, Max, Min } from 'class-validator';
import { EnvBoolean, EnvInteger } from '../../config/env-transforms.js';
import { UNKNOWN_IDENTITY_POLICIES, type UnknownIdentityPolicy } from '../../user-mapping/external-identity.js';

/** `requestedLoa` of the Authentication REST API (Signicat's API reference, "Create a new session"). */
export const EHERKENNING_LOAS = ['low', 'substantial', 'high'] as const;
export type EherkenningLoa = (typeof EHERKENNING_LOAS)[number];

export const EHERKENNING_LANGUAGES = ['nl', 'en'] as const;

export class SignicatEherkenningEnvironment {
  /** eHerkenning is optional. Enabled without SIGNICAT_EHERKENNING_BASE_URL (outside production): a local sandbox. */
  @EnvBoolean()
  @IsBoolean()
  SIGNICAT_EHERKENNING_ENABLED = false;

  /** Signicat's API host, e.g. https://api.signicat.com (token: /auth/open/connect/token, sessions: /auth/rest). */
  @IsOptional()
  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true })
  SIGNICAT_EHERKENNING_BASE_URL?: string;

  @IsOptional()
  @IsString()
  SIGNICAT_EHERKENNING_CLIENT_ID?: string;

  @IsOptional()
  @IsString()
  SIGNICAT_EHERKENNING_CLIENT_SECRET?: string;

  /** Sent as `requestedLoa`; unset: the level configured for the Signicat account. */
  @IsOptional()
  @IsIn(EHERKENNING_LOAS)
  SIGNICAT_EHERKENNING_LOA?: EherkenningLoa;

  /**
   * Hosts (host[:port], comma-separated) where Signicat's authentication page may be, e.g. a custom domain. Unset:
   * the API host or a sibling of it.
   */
  @IsOptional()
  @IsString()
  @Matches(/^[a-z0-9.-]+(:\d+)?(,[a-z0-9.-]+(:\d+)?)*$/, {
    message: 'SIGNICAT_EHERKENNING_AUTHENTICATION_HOSTS must be host[:port] names, comma-separated, lower case',
  })
  SIGNICAT_EHERKENNING_AUTHENTICATION_HOSTS?: string;

  /** Language of Signicat's pages. */
  @IsIn(EHERKENNING_LANGUAGES)
  SIGNICAT_EHERKENNING_LANGUAGE: (typeof EHERKENNING_LANGUAGES)[number] = 'nl';

  /** `pending`: an eHerkenning identity is attached to an account that already exists, not made into a new one. */
  @IsIn(UNKNOWN_IDENTITY_POLICIES)
  SIGNICAT_EHERKENNING_UNKNOWN_IDENTITY_POLICY: UnknownIdentityPolicy = 'pending';

  /** Port of the local sandbox (sandbox mode only). */
  @EnvInteger()
  @IsInt()
  @Min(0)
  @Max(65535)
  SANDBOX_SIGNICAT_EHERKENNING_PORT = 3004;
}
