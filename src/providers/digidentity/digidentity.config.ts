import { IsBoolean, IsIn, IsInt, IsOptional, IsString, IsUrl, Matches, Max, Min } from 'class-validator';
import { EnvBoolean, EnvInteger, EnvList } from '../../config/env-transforms.js';
import { UNKNOWN_IDENTITY_POLICIES, type UnknownIdentityPolicy } from '../../user-mapping/external-identity.js';

/** Asymmetric signature algorithms only: `none` and HMAC (which would turn a public key into a secret) never. */
export const ASYMMETRIC_JWS_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
];

export class DigidentityEnvironment {
  @EnvBoolean()
  @IsBoolean()
  DIGIDENTITY_ENABLED = true;

  /** Unset outside production: a local Digidentity sandbox is started instead. */
  @IsOptional()
  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true })
  DIGIDENTITY_ISSUER?: string;

  @IsOptional()
  @IsString()
  DIGIDENTITY_CLIENT_ID?: string;

  @IsOptional()
  @IsString()
  DIGIDENTITY_CLIENT_SECRET?: string;

  /** The 16-character product scope from onboarding; `openid sermi` are added. */
  @IsOptional()
  @Matches(/^[A-Za-z0-9]{16}$/, {
    message: 'DIGIDENTITY_PRODUCT_SCOPE must be the 16-character alphanumeric product scope',
  })
  DIGIDENTITY_PRODUCT_SCOPE?: string;

  @EnvList()
  @IsIn(ASYMMETRIC_JWS_ALGORITHMS, {
    each: true,
    message: 'DIGIDENTITY_ID_TOKEN_ALGORITHMS may only list asymmetric JWS algorithms',
  })
  DIGIDENTITY_ID_TOKEN_ALGORITHMS: string[] = ['RS256', 'PS256', 'ES256'];

  /** What the first login of an unknown identity does (see UnknownIdentityPolicy). */
  @IsIn(UNKNOWN_IDENTITY_POLICIES)
  DIGIDENTITY_UNKNOWN_IDENTITY_POLICY: UnknownIdentityPolicy = 'provision';

  @EnvInteger()
  @IsInt()
  @Min(500)
  @Max(30_000)
  DIGIDENTITY_PASSWORDLESS_POLL_INTERVAL_MS = 2000;

  /** Port of the local sandbox provider (sandbox mode only). */
  @EnvInteger()
  @IsInt()
  @Min(0)
  @Max(65535)
  SANDBOX_DIGIDENTITY_PORT = 3001;
}
