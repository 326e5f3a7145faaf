import { IsBoolean, IsIn, IsInt, IsOptional, IsString, IsUrl, Matches, Max, Min } from 'class-validator';
import { EnvBoolean, EnvInteger, EnvList } from '../../config/env-transforms.js';
import { UNKNOWN_IDENTITY_POLICIES, type UnknownIdentityPolicy } from '../../user-mapping/external-identity.js';
import {
  ASYMMETRIC_JWS_ALGORITHMS,
  providerConfig,
  type ProviderConfig,
  type ProviderSettingsBase,
} from '../kit/provider-settings.js';

/** Scopes that must always be asked for: an iDIN login without its BIN (`idp-id` → `idp_id`) is refused. */
export const IDIN_REQUIRED_SCOPES = ['openid', 'idp-id'];
/** Age checks: Signicat accepts one or the other, never both (docs/providers.md#signicat-idin). */
export const IDIN_AGE_SCOPES = ['date-of-birth', 'eighteen-or-older'];

/**
 * Signicat iDIN, sign-in with a Dutch bank over OIDC (docs/login-flows.md#signicat-idin). Optional; enabled without
 * an issuer (outside production, on localhost) it starts the local iDIN sandbox.
 * @title Signicat iDIN
 */
export class SignicatIdinEnvironment {
  /** iDIN is optional. `true` without an issuer (outside production, localhost only) starts the local iDIN sandbox. */
  @EnvBoolean()
  @IsBoolean()
  SIGNICAT_IDIN_ENABLED = false;

  /**
   * `https://<account domain>/auth/open`; discovery is read below it. Redirect URI to register:
   * `<PUBLIC_BASE_URL>/auth/signicat-idin/callback`.
   */
  @IsOptional()
  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true })
  SIGNICAT_IDIN_ISSUER?: string;

  /** From the Signicat dashboard (client authentication: `client_secret_basic`). Required with an issuer. */
  @IsOptional()
  @IsString()
  SIGNICAT_IDIN_CLIENT_ID?: string;

  /** From the Signicat dashboard. Required with an issuer; never logged. */
  @IsOptional()
  @IsString()
  SIGNICAT_IDIN_CLIENT_SECRET?: string;

  /**
   * Space-separated, as sent in the authorization request. Must contain `openid` and `idp-id` (the BIN);
   * `date-of-birth` and `eighteen-or-older` are mutually exclusive. The date of birth is never stored.
   */
  @Matches(/^[A-Za-z0-9_.:-]+( +[A-Za-z0-9_.:-]+)*$/, {
    message: 'SIGNICAT_IDIN_SCOPES must be space-separated scope names',
  })
  SIGNICAT_IDIN_SCOPES = 'openid idp-id idin-name';

  /** Pre-selects the person's bank (`acr_values=idp:idin idin_idp:<BIC>`); unset, the person picks it at Signicat. */
  @IsOptional()
  @Matches(/^[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?$/, {
    message: 'SIGNICAT_IDIN_BANK_BIC must be a BIC (ISO 9362), e.g. CURRNL2A',
  })
  SIGNICAT_IDIN_BANK_BIC?: string;

  /** Allowed ID token signature algorithms (asymmetric only). */
  @EnvList()
  @IsIn(ASYMMETRIC_JWS_ALGORITHMS, {
    each: true,
    message: 'SIGNICAT_IDIN_ID_TOKEN_ALGORITHMS may only list asymmetric JWS algorithms',
  })
  SIGNICAT_IDIN_ID_TOKEN_ALGORITHMS: string[] = ['RS256', 'PS256', 'ES256'];

  /**
   * As `DIGIDENTITY_UNKNOWN_IDENTITY_POLICY`. `pending`: an iDIN identity is attached to an account that already
   * exists, not made into a new one.
   */
  @IsIn(UNKNOWN_IDENTITY_POLICIES)
  SIGNICAT_IDIN_UNKNOWN_IDENTITY_POLICY: UnknownIdentityPolicy = 'pending';

  /** Port of the local iDIN sandbox (sandbox mode only). */
  @EnvInteger()
  @IsInt()
  @Min(0)
  @Max(65535)
  SANDBOX_SIGNICAT_IDIN_PORT = 3002;
}

/** The scope list, or what is wrong with it (checked at boot, so a wrong list never reaches Signicat). */
export function idinScopes(value: string): { scopes: string[]; problems: string[] } {
  const scopes = [...new Set(value.split(/ +/).filter(Boolean))];
  const problems: string[] = [];
  const missing = IDIN_REQUIRED_SCOPES.filter((scope) => !scopes.includes(scope));
  if (missing.length > 0) problems.push(`SIGNICAT_IDIN_SCOPES: must contain ${missing.join(' and ')}`);
  if (IDIN_AGE_SCOPES.every((scope) => scopes.includes(scope))) {
    problems.push('SIGNICAT_IDIN_SCOPES: date-of-birth and eighteen-or-older are mutually exclusive; ask for one');
  }
  return { scopes, problems };
}

export interface SignicatIdinSettings extends ProviderSettingsBase {
  /** Filled in by the sandbox in sandbox mode. */
  issuer?: URL;
  clientSecret?: string;
  scopes: string[];
  /** Bank pre-selection (`acr_values=idin_idp:<BIC>`), or null to let the person pick the bank. */
  bankBic: string | null;
  idTokenAlgorithms: string[];
}

/** iDIN is optional, so disabled unless SIGNICAT_IDIN_ENABLED=true (docs/providers.md#signicat-idin). */
export const SIGNICAT_IDIN_CONFIG: ProviderConfig<'signicatIdin', SignicatIdinEnvironment, SignicatIdinSettings> =
  providerConfig({
    key: 'signicatIdin',
    prefix: 'SIGNICAT_IDIN',
    name: 'iDIN',
    environment: SignicatIdinEnvironment,
    url: 'SIGNICAT_IDIN_ISSUER',
    requiredWithUrl: ['SIGNICAT_IDIN_CLIENT_ID', 'SIGNICAT_IDIN_CLIENT_SECRET'],
    settings: (env, problems) => {
      const scopes = idinScopes(env.SIGNICAT_IDIN_SCOPES);
      problems.push(...scopes.problems);
      return {
        scopes: scopes.scopes,
        bankBic: env.SIGNICAT_IDIN_BANK_BIC ?? null,
        idTokenAlgorithms: env.SIGNICAT_IDIN_ID_TOKEN_ALGORITHMS,
      };
    },
    real: (env, issuer) => ({ issuer, clientSecret: env.SIGNICAT_IDIN_CLIENT_SECRET }),
  });
