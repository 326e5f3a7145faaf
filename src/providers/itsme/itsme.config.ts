import { IsBoolean, IsIn, IsInt, IsOptional, IsString, IsUrl, Matches, Max, Min } from 'class-validator';
import { EnvBoolean, EnvInteger, EnvList } from '../../config/env-transforms.js';
import { KeyParseError, parseKeys, type KeyUse, type RelyingPartyKey } from '../../oidc/rp-keys.js';
import { UNKNOWN_IDENTITY_POLICIES, type UnknownIdentityPolicy } from '../../user-mapping/external-identity.js';
import {
  ASYMMETRIC_JWS_ALGORITHMS,
  providerConfig,
  type ProviderConfig,
  type ProviderSettingsBase,
} from '../kit/provider-settings.js';

/**
 * itsme's authentication levels (`acr_values`, docs/providers.md#itsme): basic lets the person use a fingerprint,
 * advanced forces the itsme code.
 */
export const ITSME_ACR = {
  basic: 'http://itsme.services/v2/claim/acr_basic',
  advanced: 'http://itsme.services/v2/claim/acr_advanced',
} as const;
export type ItsmeAcrLevel = keyof typeof ITSME_ACR;

/** The optional scopes itsme offers besides `openid service:<code>` (docs/providers.md#itsme). */
export const ITSME_OPTIONAL_SCOPES = ['profile', 'email', 'address', 'phone', 'eid'] as const;

/**
 * itsme: OIDC with `private_key_jwt`, PKCE, an encrypted request object and encrypted answers
 * (docs/login-flows.md#itsme). Optional; enabled without an issuer (outside production, on localhost) it starts the
 * local itsme sandbox.
 * @title itsme
 */
export class ItsmeEnvironment {
  /**
   * itsme is optional. `true` without an issuer (outside production, localhost only) starts the local itsme sandbox,
   * with ephemeral keys unless the two key settings are given.
   */
  @EnvBoolean()
  @IsBoolean()
  ITSME_ENABLED = false;

  /**
   * `https://idp.e2e.itsme.services/v2` (production `https://idp.prd.itsme.services/v2`); discovery below it.
   * Redirect URI to register: `<PUBLIC_BASE_URL>/auth/itsme/callback`; JWKS URL to register:
   * `<PUBLIC_BASE_URL>/auth/itsme/jwks.json`.
   */
  @IsOptional()
  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true })
  ITSME_ISSUER?: string;

  /** From onboarding (client authentication: `private_key_jwt`). Required with an issuer. */
  @IsOptional()
  @IsString()
  ITSME_CLIENT_ID?: string;

  /** The service code from onboarding; sent as the scope `service:<code>`. Required with an issuer. */
  @IsOptional()
  @Matches(/^[A-Za-z0-9_-]{1,64}$/, { message: 'ITSME_SERVICE_CODE must be the service code from onboarding' })
  ITSME_SERVICE_CODE?: string;

  /**
   * Our private RSA signing key(s) (at least 2048 bits; `RS256` or `PS256`): a private JWK, a JSON list or JWK set,
   * or PEM (`\n` allowed). The first signs client assertions and request objects; all are published. Required with
   * an issuer; rotation in docs/login-flows.md#key-rotation.
   */
  @IsOptional()
  @IsString()
  ITSME_SIGNING_KEY?: string;

  /**
   * Our private RSA encryption key(s) (`RSA-OAEP-256` by default, or `RSA-OAEP`), same formats. The first is
   * published; all decrypt (key rotation). Required with an issuer. Keys are never logged.
   */
  @IsOptional()
  @IsString()
  ITSME_ENCRYPTION_KEYS?: string;

  /**
   * `advanced` (itsme code only) or `basic` (fingerprint or code); sent as `acr_values`. With `advanced`, an ID token
   * that reports `acr_basic` is refused.
   */
  @IsIn(Object.keys(ITSME_ACR))
  ITSME_ACR: ItsmeAcrLevel = 'advanced';

  /**
   * Scopes besides `openid service:<code>`, space-separated: `profile email address phone eid`. Only name and e-mail
   * are kept, whatever is asked for.
   */
  @Matches(/^$|^[a-z]+( +[a-z]+)*$/, { message: 'ITSME_SCOPES must be space-separated scope names' })
  ITSME_SCOPES = 'profile';

  /** Languages for itsme's pages, in order of preference (`ui_locales`), e.g. `nl fr en`. */
  @IsOptional()
  @Matches(/^[a-z]{2}( [a-z]{2})*$/, { message: 'ITSME_UI_LOCALES must be space-separated language codes' })
  ITSME_UI_LOCALES?: string;

  /** Allowed signature algorithms of the inner ID token and user-info (asymmetric only). */
  @EnvList()
  @IsIn(ASYMMETRIC_JWS_ALGORITHMS, {
    each: true,
    message: 'ITSME_ID_TOKEN_ALGORITHMS may only list asymmetric JWS algorithms',
  })
  ITSME_ID_TOKEN_ALGORITHMS: string[] = ['RS256', 'PS256', 'ES256'];

  /**
   * As `DIGIDENTITY_UNKNOWN_IDENTITY_POLICY`. `pending`: a re-created itsme account arrives with a new `sub` and must
   * never become a second account by itself (docs/linking.md#why-it-is-built-this-way); it is held until it is
   * attached or an admin re-binds it.
   */
  @IsIn(UNKNOWN_IDENTITY_POLICIES)
  ITSME_UNKNOWN_IDENTITY_POLICY: UnknownIdentityPolicy = 'pending';

  /** Port of the local itsme sandbox (sandbox mode only). */
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

export interface ItsmeSettings extends ProviderSettingsBase {
  /** Filled in by the sandbox in sandbox mode. */
  issuer?: URL;
  serviceCode?: string;
  /** Ours. The first signing key signs; all are published. The first encryption key is published; all decrypt. */
  signingKeys: RelyingPartyKey[];
  encryptionKeys: RelyingPartyKey[];
  acr: ItsmeAcrLevel;
  acrValue: string;
  /** Besides `openid service:<code>`, which are added once the service code is known. */
  extraScopes: string;
  uiLocales: string | null;
  idTokenAlgorithms: string[];
}

/**
 * itsme is optional, disabled unless ITSME_ENABLED=true (docs/providers.md#itsme). With an issuer, our signing and
 * encryption keys are required; in the sandbox, missing keys are generated at start-up (ephemeral).
 */
export const ITSME_CONFIG: ProviderConfig<'itsme', ItsmeEnvironment, ItsmeSettings> = providerConfig({
  key: 'itsme',
  prefix: 'ITSME',
  name: 'itsme',
  environment: ItsmeEnvironment,
  url: 'ITSME_ISSUER',
  sandboxConflicts: ['ITSME_CLIENT_ID', 'ITSME_SERVICE_CODE'],
  requiredWithUrl: ['ITSME_CLIENT_ID', 'ITSME_SERVICE_CODE', 'ITSME_SIGNING_KEY', 'ITSME_ENCRYPTION_KEYS'],
  settings: (env, problems) => {
    problems.push(...itsmeScopes('x', env.ITSME_SCOPES).problems);
    const signingKeys = itsmeKeys('ITSME_SIGNING_KEY', env.ITSME_SIGNING_KEY, 'sig', problems);
    const encryptionKeys = itsmeKeys('ITSME_ENCRYPTION_KEYS', env.ITSME_ENCRYPTION_KEYS, 'enc', problems);
    const kids = [...signingKeys, ...encryptionKeys].map((key) => key.kid);
    if (new Set(kids).size !== kids.length) {
      problems.push('ITSME_ENCRYPTION_KEYS: key ids must differ from the signing keys');
    }
    return {
      signingKeys,
      encryptionKeys,
      acr: env.ITSME_ACR,
      acrValue: ITSME_ACR[env.ITSME_ACR],
      extraScopes: env.ITSME_SCOPES,
      uiLocales: env.ITSME_UI_LOCALES ?? null,
      idTokenAlgorithms: env.ITSME_ID_TOKEN_ALGORITHMS,
    };
  },
  real: (env, issuer) => ({ issuer, serviceCode: env.ITSME_SERVICE_CODE }),
});
