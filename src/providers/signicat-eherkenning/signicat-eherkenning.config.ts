import { IsBoolean, IsIn, IsInt, IsOptional, IsString, IsUrl, Matches, Max, Min } from 'class-validator';
import { EnvBoolean, EnvInteger } from '../../config/env-transforms.js';
import { UNKNOWN_IDENTITY_POLICIES, type UnknownIdentityPolicy } from '../../user-mapping/external-identity.js';
import { providerConfig, type ProviderConfig, type ProviderSettingsBase } from '../kit/provider-settings.js';

/** `requestedLoa` of the Authentication REST API (Signicat's API reference, "Create a new session"). */
export const EHERKENNING_LOAS = ['low', 'substantial', 'high'] as const;
export type EherkenningLoa = (typeof EHERKENNING_LOAS)[number];

export const EHERKENNING_LANGUAGES = ['nl', 'en'] as const;

/**
 * Signicat eHerkenning, organisation login through Signicat's Authentication REST API, not OIDC
 * (docs/login-flows.md#signicat-eherkenning). Optional; enabled without a base URL (outside production, on
 * localhost) it starts the local eHerkenning sandbox.
 * @title Signicat eHerkenning
 */
export class SignicatEherkenningEnvironment {
  /**
   * eHerkenning is optional. `true` without a base URL (outside production, localhost only) starts the local
   * eHerkenning sandbox.
   */
  @EnvBoolean()
  @IsBoolean()
  SIGNICAT_EHERKENNING_ENABLED = false;

  /**
   * Signicat's API host, e.g. `https://api.signicat.com` (token: `/auth/open/connect/token`, sessions: `/auth/rest`).
   * Callbacks: `<PUBLIC_BASE_URL>/auth/signicat-eherkenning/callback/{success,abort,error}`.
   */
  @IsOptional()
  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true })
  SIGNICAT_EHERKENNING_BASE_URL?: string;

  /** The Signicat API client (client credentials, scope `signicat-api`, Basic auth). Required with a base URL. */
  @IsOptional()
  @IsString()
  SIGNICAT_EHERKENNING_CLIENT_ID?: string;

  /** Its secret. Required with a base URL; never logged. */
  @IsOptional()
  @IsString()
  SIGNICAT_EHERKENNING_CLIENT_SECRET?: string;

  /**
   * `requestedLoa`: `low`, `substantial` or `high`; unset: the level configured for the Signicat account. Not yet
   * checked in the answer (docs/login-flows.md#signicat-eherkenning).
   */
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

  /** Language of Signicat's pages (`nl`, `en`). */
  @IsIn(EHERKENNING_LANGUAGES)
  SIGNICAT_EHERKENNING_LANGUAGE: (typeof EHERKENNING_LANGUAGES)[number] = 'nl';

  /**
   * As `DIGIDENTITY_UNKNOWN_IDENTITY_POLICY`. `pending`: an eHerkenning identity is attached to an account that
   * already exists, not made into a new one.
   */
  @IsIn(UNKNOWN_IDENTITY_POLICIES)
  SIGNICAT_EHERKENNING_UNKNOWN_IDENTITY_POLICY: UnknownIdentityPolicy = 'pending';

  /** Port of the local eHerkenning sandbox (sandbox mode only). */
  @EnvInteger()
  @IsInt()
  @Min(0)
  @Max(65535)
  SANDBOX_SIGNICAT_EHERKENNING_PORT = 3004;
}

export interface SignicatEherkenningSettings extends ProviderSettingsBase {
  /** Signicat's API host; filled in by the sandbox in sandbox mode. */
  baseUrl?: URL;
  clientSecret?: string;
  /** `requestedLoa`, or null to leave it to the Signicat account's configuration. */
  loa: EherkenningLoa | null;
  /** Where Signicat's authentication page may be; empty: the API host or a sibling of it. */
  authenticationHosts: string[];
  language: string;
}

/**
 * Optional, so disabled unless SIGNICAT_EHERKENNING_ENABLED=true (docs/providers.md#signicat-eherkenning); the
 * same sandbox rules as the OIDC providers with SIGNICAT_EHERKENNING_BASE_URL in place of an issuer.
 */
export const SIGNICAT_EHERKENNING_CONFIG: ProviderConfig<
  'signicatEherkenning',
  SignicatEherkenningEnvironment,
  SignicatEherkenningSettings
> = providerConfig({
  key: 'signicatEherkenning',
  prefix: 'SIGNICAT_EHERKENNING',
  name: 'eHerkenning',
  environment: SignicatEherkenningEnvironment,
  url: 'SIGNICAT_EHERKENNING_BASE_URL',
  requiredWithUrl: ['SIGNICAT_EHERKENNING_CLIENT_ID', 'SIGNICAT_EHERKENNING_CLIENT_SECRET'],
  checkUrl: (url) =>
    url.search || url.hash || url.username || url.password
      ? 'SIGNICAT_EHERKENNING_BASE_URL: must be a plain URL (no credentials, query or fragment)'
      : null,
  settings: (env) => ({
    loa: env.SIGNICAT_EHERKENNING_LOA ?? null,
    authenticationHosts: env.SIGNICAT_EHERKENNING_AUTHENTICATION_HOSTS?.split(',') ?? [],
    language: env.SIGNICAT_EHERKENNING_LANGUAGE,
  }),
  real: (env, baseUrl) => ({ baseUrl, clientSecret: env.SIGNICAT_EHERKENNING_CLIENT_SECRET }),
});
