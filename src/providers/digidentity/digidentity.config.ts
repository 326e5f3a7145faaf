import { IsBoolean, IsIn, IsInt, IsOptional, IsString, IsUrl, Matches, Max, Min } from 'class-validator';
import { EnvBoolean, EnvInteger, EnvList } from '../../config/env-transforms.js';
import { UNKNOWN_IDENTITY_POLICIES, type UnknownIdentityPolicy } from '../../user-mapping/external-identity.js';
import {
  ASYMMETRIC_JWS_ALGORITHMS,
  providerConfig,
  type ProviderConfig,
  type ProviderSettingsBase,
} from '../kit/provider-settings.js';

/**
 * Digidentity, the SERMI Trust Centre: web and passwordless (QR) login (docs/login-flows.md#digidentity). With no
 * issuer (outside production, on localhost) the local Digidentity sandbox is started.
 * @title Digidentity
 */
export class DigidentityEnvironment {
  /** `false` removes the Digidentity routes. */
  @EnvBoolean()
  @IsBoolean()
  DIGIDENTITY_ENABLED = true;

  /**
   * e.g. `https://auth.digidentity-preproduction.eu`. Required in production; unset outside it: the local sandbox
   * (partial settings stop the app instead).
   */
  @IsOptional()
  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true })
  DIGIDENTITY_ISSUER?: string;

  /** From onboarding (client authentication: `client_secret_basic`). Required with an issuer. */
  @IsOptional()
  @IsString()
  DIGIDENTITY_CLIENT_ID?: string;

  /** From onboarding. Required with an issuer; never logged. */
  @IsOptional()
  @IsString()
  DIGIDENTITY_CLIENT_SECRET?: string;

  /** The 16-character product scope from onboarding; `openid sermi` are added. Required with an issuer. */
  @IsOptional()
  @Matches(/^[A-Za-z0-9]{16}$/, {
    message: 'DIGIDENTITY_PRODUCT_SCOPE must be the 16-character alphanumeric product scope',
  })
  DIGIDENTITY_PRODUCT_SCOPE?: string;

  /** Allowed ID token signature algorithms (asymmetric only; `none` and HMAC are refused at start-up). */
  @EnvList()
  @IsIn(ASYMMETRIC_JWS_ALGORITHMS, {
    each: true,
    message: 'DIGIDENTITY_ID_TOKEN_ALGORITHMS may only list asymmetric JWS algorithms',
  })
  DIGIDENTITY_ID_TOKEN_ALGORITHMS: string[] = ['RS256', 'PS256', 'ES256'];

  /**
   * First login of an unknown identity: `provision` (account and link), `pending` (held until attached to an
   * account) or `choose` (held; the person may also create an account). See docs/linking.md.
   */
  @IsIn(UNKNOWN_IDENTITY_POLICIES)
  DIGIDENTITY_UNKNOWN_IDENTITY_POLICY: UnknownIdentityPolicy = 'provision';

  /** The poll interval told to the portal; faster polls get the stored state without calling Digidentity. */
  @EnvInteger()
  @IsInt()
  @Min(500)
  @Max(30_000)
  DIGIDENTITY_PASSWORDLESS_POLL_INTERVAL_MS = 2000;

  /** Port of the local Digidentity sandbox (sandbox mode only). */
  @EnvInteger()
  @IsInt()
  @Min(0)
  @Max(65535)
  SANDBOX_DIGIDENTITY_PORT = 3001;
}

export interface DigidentitySettings extends ProviderSettingsBase {
  /** Filled in by the sandbox in sandbox mode. */
  issuer?: URL;
  clientSecret?: string;
  productScope?: string;
  idTokenAlgorithms: string[];
  passwordlessPollIntervalMs: number;
}

export const DIGIDENTITY_CONFIG: ProviderConfig<'digidentity', DigidentityEnvironment, DigidentitySettings> =
  providerConfig({
    key: 'digidentity',
    prefix: 'DIGIDENTITY',
    name: 'Digidentity',
    environment: DigidentityEnvironment,
    url: 'DIGIDENTITY_ISSUER',
    requiredWithUrl: ['DIGIDENTITY_CLIENT_ID', 'DIGIDENTITY_CLIENT_SECRET', 'DIGIDENTITY_PRODUCT_SCOPE'],
    settings: (env) => ({
      idTokenAlgorithms: env.DIGIDENTITY_ID_TOKEN_ALGORITHMS,
      passwordlessPollIntervalMs: env.DIGIDENTITY_PASSWORDLESS_POLL_INTERVAL_MS,
    }),
    real: (env, issuer) => ({
      issuer,
      clientSecret: env.DIGIDENTITY_CLIENT_SECRET,
      productScope: env.DIGIDENTITY_PRODUCT_SCOPE,
    }),
  });
