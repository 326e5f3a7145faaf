import { Injectable } from '@nestjs/common';
import type * as client from 'openid-client';
import { authTimeOf, type VerifiedLogin } from '../../auth/verified-login.js';
import type { StoredLoginTransaction } from '../../login-transactions/login-transactions.service.js';
import { LoginFailure } from '../../common/problem/login-failure.js';
import type { VerifiedTokens } from '../../oidc/oidc-client.js';
import { OidcProviderLogin } from '../kit/oidc-provider-login.js';
import { ProviderLoginKit } from '../kit/provider-login-kit.js';
import type { SignicatIdinSettings } from './signicat-idin.config.js';
import { refuseUnstorable } from '../kit/provider-answer.js';

export const SIGNICAT_IDIN_CALLBACK_PATH = '/auth/signicat-idin/callback';

/** Signicat's identity-provider selection (docs/providers.md#idin-bank-selection): iDIN, and optionally one bank. */
export const IDIN_ACR_VALUE = 'idp:idin';
/** What Signicat's user-info names as the identity provider of an iDIN login. */
const IDIN_IDP_ISSUER = 'idin';
/** The BIN: a country and bank prefix plus at most 1020 characters (docs/providers.md#idin-scopes-and-claims). */
const MAX_BIN_LENGTH = 1026;

type ResolvedSignicatIdinSettings = SignicatIdinSettings &
  Required<Pick<SignicatIdinSettings, 'issuer' | 'clientId' | 'clientSecret'>>;

const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;

/** `eighteen_or_older` arrives as a JSON boolean or as the strings "true"/"false". */
function eighteenOrOlder(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (value === 'true' || value === 'false') return value === 'true';
  return undefined;
}

/**
 * What the portal keeps of an iDIN user-info answer: the BIN and the name. Never the date of birth (data
 * minimisation: the portal needs at most the age check), nor address, phone, e-mail or gender.
 */
const REVIEW_CLAIMS = new Set([
  'sub',
  'idp_id',
  'idp_issuer',
  'name',
  'initials',
  'idin_legal_last_name',
  'idin_legal_last_name_prefix',
  'idin_preferred_last_name',
  'idin_preferred_last_name_prefix',
  'eighteen_or_older',
]);

function idinAttributes(userinfo: Record<string, unknown>, bin: string): Record<string, unknown> {
  const attributes: Record<string, unknown> = {
    bin,
    name: text(userinfo.name),
    initials: text(userinfo.initials),
    lastName: text(userinfo.idin_legal_last_name),
    lastNamePrefix: text(userinfo.idin_legal_last_name_prefix),
    preferredLastName: text(userinfo.idin_preferred_last_name),
    preferredLastNamePrefix: text(userinfo.idin_preferred_last_name_prefix),
    eighteenOrOlder: eighteenOrOlder(userinfo.eighteen_or_older),
  };
  return Object.fromEntries(Object.entries(attributes).filter(([, value]) => value !== undefined));
}

/** `name` is "<initials> <family name>"; without the profile scope it is built from the idin-name claims. */
function displayName(attributes: Record<string, unknown>): string {
  if (typeof attributes.name === 'string') return attributes.name;
  const parts = [attributes.initials, attributes.lastNamePrefix, attributes.lastName].filter(
    (part): part is string => typeof part === 'string',
  );
  return parts.length > 0 && attributes.lastName ? parts.join(' ') : 'iDIN user';
}

/**
 * Signicat iDIN: the Dutch banks' identity service, through Signicat's OIDC broker (code flow, PKCE, user-info).
 * The identity is Signicat's `sub`; the BIN (`idp_id`, persistent per service provider) is kept as an attribute.
 * See docs/providers.md#signicat-idin and docs/login-flows.md#signicat-idin.
 */
@Injectable()
export class SignicatIdinLoginService extends OidcProviderLogin<'signicat-idin'> {
  private readonly settings: ResolvedSignicatIdinSettings;

  constructor(kit: ProviderLoginKit) {
    const settings = kit.resolved(
      'Signicat iDIN',
      kit.config.signicatIdin,
      ['issuer', 'clientId', 'clientSecret'],
      'SIGNICAT_IDIN',
    );
    super(kit, {
      provider: 'signicat-idin',
      issuer: settings.issuer,
      clientId: settings.clientId,
      clientSecret: settings.clientSecret,
      callbackPath: SIGNICAT_IDIN_CALLBACK_PATH,
      idTokenAlgorithms: settings.idTokenAlgorithms,
      sandbox: settings.sandbox,
    });
    this.settings = settings;
  }

  /** iDIN's page (bank choice), optionally with one bank pre-selected. */
  protected authorizationParameters(): Record<string, string> {
    const acrValues = this.settings.bankBic ? `${IDIN_ACR_VALUE} idin_idp:${this.settings.bankBic}` : IDIN_ACR_VALUE;
    return { scope: this.settings.scopes.join(' '), acr_values: acrValues };
  }

  protected async verify(tokens: VerifiedTokens, transaction: StoredLoginTransaction): Promise<VerifiedLogin> {
    const claims = tokens.idTokenClaims!;
    // Signicat returns the iDIN attributes from user-info only (docs/providers.md#idin-scopes-and-claims); bound to
    // the ID token's subject.
    const userinfo = await this.client.userinfo(tokens.accessToken, claims.sub);
    return this.verifiedLogin(userinfo, claims, transaction);
  }

  private async verifiedLogin(
    userinfo: Record<string, unknown>,
    idTokenClaims: client.IDToken,
    transaction: StoredLoginTransaction,
  ): Promise<VerifiedLogin> {
    // The authorization request passes through the browser: acr_values can be changed there to another identity
    // provider of the same Signicat account. Only an iDIN answer is accepted.
    if (userinfo.idp_issuer !== IDIN_IDP_ISSUER) {
      throw new LoginFailure('userinfo_invalid', 'the login was not made with iDIN', {
        field: 'idp_issuer',
        loginTransactionId: transaction.id,
      });
    }
    refuseUnstorable('iDIN', userinfo, transaction);
    const bin = userinfo.idp_id;
    if (typeof bin !== 'string' || bin.length === 0 || bin.length > MAX_BIN_LENGTH || /[\p{Cc}\s]/u.test(bin)) {
      throw new LoginFailure('userinfo_invalid', 'the iDIN answer has no usable BIN (idp_id)', {
        field: 'idp_id',
        loginTransactionId: transaction.id,
      });
    }
    const attributes = idinAttributes(userinfo, bin);
    // Only what a reviewer needs: whatever else a widened scope brings (address, e-mail, phone, birth date) is
    // never stored.
    const rawClaims = Object.fromEntries(Object.entries(userinfo).filter(([key]) => REVIEW_CLAIMS.has(key)));
    const { issuer } = await this.client.metadata();
    return {
      identity: {
        provider: 'signicat-idin',
        issuer,
        subject: idTokenClaims.sub,
        // No key we trust to stay the person's across Signicat subjects: a new subject is a new identity.
        personKey: null,
        attributes,
        rawClaims,
        displayName: displayName(attributes),
      },
      policy: this.settings.unknownIdentityPolicy,
      authContext: {
        method: 'web',
        provider: 'signicat-idin',
        acr: typeof idTokenClaims.acr === 'string' ? idTokenClaims.acr : null,
      },
      transaction,
      authTime: authTimeOf(idTokenClaims),
      warnings: [],
    };
  }
}
