import { IsBoolean, IsIn, IsInt, IsOptional, IsString, IsUrl, Matches, Max, Min } from 'class-validator';
import { EnvBoolean, EnvInteger, EnvList } from '../../config/env-transforms.js';
import { KeyParseError, parseKeys, type KeyUse, type RelyingPartyKey } from '../../oidc/rp-keys.js';
import { UNKNOWN_IDENTITY_POLICIES, type UnknownIdentityPolicy } from '../../user-mapping/external-identity.js';
import { ASYMMETRIC_JWS_ALGORITHMS } from '../digidentity/digidentity.config.js';

/** itsme's authentication levels (seed 002, `acr_values`): basic lets the person use a fingerprint, advanced forces the itsme code. */
export const ITSME_ACR = {
  basic: 'http://itsme.services/v2/claim/acr_basic',
  advanced: 'http://itsme.services/v2/claim/acr_advanced',
} as const;
export type ItsmeAcrLevel = keyof typeof ITSME_ACR;

/** The optional scopes itsme offers besides `openid service:<code>` (seed 002, "scope"). */
export const ITSME_OPTIONAL_SCOPES = ['profile', 'email', 'address', 'phone', 'eid'] as const;

export class ItsmeEnvironment {
  /** itsme is optional for the portal. Enabled without ITSME_ISSUER (outside production): a local sandbox. */
  @EnvBoolean()
  @IsBoolean()
  ITSME_ENABLED = false;

  /** e.g. https://idp.e2e.itsme.services/v2 (discovery below it). */
  @IsOptional()
  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true })
  ITSME_ISSUER?: string;

  @IsOptional()
  @IsString()
  ITSME_CLIENT_ID?: string;

  /** The service code from onboarding; sent as the scope `service:<code>`. */
  @IsOptional()
  @Matches(/^[A-Za-z0-9_-]{1,64}$/, { message: 'ITSME_SERVICE_CODE must be the service code from onboarding' })
  ITSME_SERVICE_CODE?: string;

  /** Our private signing key(s): a private JWK, a JSON list / JWK set, or PEM. The first signs; all are published. */
  @IsOptional()
  @IsString()
  ITSME_SIGNING_KEY?: string;

  /** Our private encryption key(s), same formats. The first is published; all decrypt (key rotation). */
  @IsOptional()
  @IsString()
  ITSME_ENCRYPTION_KEYS?: string;

  @IsIn(Object.keys(ITSME_ACR))
  ITSME_ACR: ItsmeAcrLevel = 'advanced';

  /** Scopes besides `openid service:<code>`, space-separated. */
  @Matches(/^$|^[a-z]+( +[a-z]+)*$/, { message: 'ITSME_SCOPES must be space-separated scope names' })
  ITSME_SCOPES = 'profile';

  /** Languages for itsme's pages, in order of preference (`ui_locales`), e.g. "nl fr en". */
  @IsOptional()
  @Matches(/^[a-z]{2}( [a-z]{2})*$/, { message: 'ITSME_UI_LOCALES must be space-separated language codes' })
  ITSME_UI_LOCALES?: string;

  @EnvList()
  @IsIn(ASYMMETRIC_JWS_ALGORITHMS, {
    each: true,
    message: 'ITSME_ID_TOKEN_ALGORITHMS may only list asymmetric JWS algorithms',
  })
  ITSME_ID_TOKEN_ALGORITHMS: string[] = ['RS256', 'PS256', 'ES256'];

  /**
   * `pending`: a re-created itsme account arrives with a new `sub` and must never become a second account by itself
   * (../shared/domain/linking.md); it is held until it is attached or an admin re-binds it.
   */
  @IsIn(UNKNOWN_IDENTITY_POLICIES)
  ITSME_UNKNOWN_IDENTITY_POLICY: UnknownIdentityPolicy = 'pending';

  @EnvInteger()
  @IsInt()
  @Min(0)
  @Max(65535)
  SANDBOX_ITSME_PORT = 3003;
}

/** The scope list sent to itsme, or what is wrong with the setting. */
export function itsmeScopes(serviceCode: string, extra: string): { scopes: string[]; problems: string[] } {
  const names = [...new Set(extra.split(/ +/).filter(Boolean))];
  const unknown = names.filter((name) => !(ITSME_OPTIONAL_SCOPES as readonly string[]).includes(name));
  return {
    scopes: ['openid', `service:${serviceCode}`, ...names.filter((name) => !unknown.includes(name))],
    problems: unknown.length
      ? [`ITSME_SCOPES: unknown scope ${unknown.join(', ')} (allowed: ${ITSME_OPTIONAL_SCOPES.join(' ')})`]
      : [],
  };
}

/** Parses a key setting, reporting problems by variable name and never echoing the value. */
export function itsmeKeys(
  name: 'ITSME_SIGNING_KEY' | 'ITSME_ENCRYPTION_KEYS',
  value: string | undefined,
  use: KeyUse,
  problems: string[],
): RelyingPartyKey[] {
  if (!value) return [];
  try {
    return parseKeys(value, use);
  } catch (error) {
    if (!(error instanceof KeyParseError)) throw error;
    problems.push(`${name}: ${error.message}`);
    return [];
  }
}
