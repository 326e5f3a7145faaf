import { Injectable } from '@nestjs/common';
import type * as client from 'openid-client';
import { authTimeOf, type VerifiedLogin } from '../../auth/verified-login.js';
import type { StoredLoginTransaction } from '../../login-transactions/login-transactions.service.js';
import { JWE_CONTENT_ALGORITHMS, JweDecryptor } from '../../oidc/jwe-decrypt.js';
import type { Jwk } from '../../oidc/jws-verify.js';
import { LoginFailure } from '../../common/problem/login-failure.js';
import type { VerifiedTokens } from '../../oidc/oidc-client.js';
import { OidcProviderLogin } from '../kit/oidc-provider-login.js';
import { ProviderLoginKit } from '../kit/provider-login-kit.js';
import { ITSME_ACR, itsmeScopes, type ItsmeSettings } from './itsme.config.js';
import { itsmeAttributes, itsmeDisplayName, itsmeReviewClaims } from './itsme-claims.js';
import { refuseUnstorable } from '../kit/provider-answer.js';

export const ITSME_CALLBACK_PATH = '/auth/itsme/callback';
export const ITSME_JWKS_PATH = '/auth/itsme/jwks.json';

type ResolvedItsmeSettings = ItsmeSettings & Required<Pick<ItsmeSettings, 'issuer' | 'clientId' | 'serviceCode'>>;

/**
 * itsme: OIDC code flow with private_key_jwt, PKCE, a signed-then-encrypted request object, and ID token and
 * user-info signed by itsme then encrypted to us (docs/providers.md#itsme, docs/login-flows.md#itsme). The identity
 * is itsme's `sub`: a re-created itsme account has a new one and is a new identity, never merged on personal data.
 */
@Injectable()
export class ItsmeLoginService extends OidcProviderLogin<'itsme'> {
  private readonly settings: ResolvedItsmeSettings;
  private readonly scope: string;

  constructor(kit: ProviderLoginKit) {
    const settings = kit.resolved(
      'itsme',
      kit.config.itsme,
      ['issuer', 'clientId', 'serviceCode', 'signingKeys', 'encryptionKeys'],
      'ITSME',
    );
    super(kit, {
      provider: 'itsme',
      issuer: settings.issuer,
      clientId: settings.clientId,
      callbackPath: ITSME_CALLBACK_PATH,
      idTokenAlgorithms: settings.idTokenAlgorithms,
      sandbox: settings.sandbox,
      alwaysPkce: true,
      clientAssertionKey: settings.signingKeys[0],
      requestObject: {
        signingKey: settings.signingKeys[0],
        encryption: { algs: ['RSA-OAEP-256', 'RSA-OAEP'], encs: JWE_CONTENT_ALGORITHMS },
      },
      decryptor: new JweDecryptor(settings.encryptionKeys),
    });
    this.settings = settings;
    this.scope = itsmeScopes(settings.serviceCode, settings.extraScopes).scopes.join(' ');
  }

  /**
   * Our public keys for itsme: every signing key (a new one is published before it signs) and the current
   * encryption key only (itsme encrypts to what we publish; older ones still decrypt until removed).
   */
  publicJwks(): { keys: Jwk[] } {
    return {
      keys: [...this.settings.signingKeys.map((key) => key.publicJwk), this.settings.encryptionKeys[0].publicJwk],
    };
  }

  /** All parameters travel inside the encrypted request object. */
  protected authorizationParameters(): Record<string, string> {
    return {
      scope: this.scope,
      acr_values: this.settings.acrValue,
      ...(this.settings.uiLocales ? { ui_locales: this.settings.uiLocales } : {}),
    };
  }

  protected async verify(tokens: VerifiedTokens, transaction: StoredLoginTransaction): Promise<VerifiedLogin> {
    const claims = tokens.idTokenClaims!;
    this.checkAcr(claims, transaction);
    const userinfo = await this.client.signedUserinfo(tokens.accessToken, claims.sub);
    return this.verifiedLogin(userinfo, claims, transaction);
  }

  /**
   * The ID token must report the level the login used: with advanced (the itsme code) asked for, only advanced; a
   * token that reports no level, or an unknown one, is refused like a lower one.
   */
  private checkAcr(claims: client.IDToken, transaction: StoredLoginTransaction): void {
    const accepted: string[] =
      this.settings.acr === 'advanced' ? [ITSME_ACR.advanced] : [ITSME_ACR.basic, ITSME_ACR.advanced];
    if (typeof claims.acr !== 'string' || !accepted.includes(claims.acr)) {
      throw new LoginFailure('id_token_invalid', 'the login used a lower authentication level than required', {
        field: 'acr',
        loginTransactionId: transaction.id,
      });
    }
  }

  private async verifiedLogin(
    userinfo: Record<string, unknown>,
    idTokenClaims: client.IDToken,
    transaction: StoredLoginTransaction,
  ): Promise<VerifiedLogin> {
    refuseUnstorable('itsme', { ...idTokenClaims, ...userinfo }, transaction);
    const attributes = itsmeAttributes({ ...idTokenClaims, ...userinfo });
    const { issuer } = await this.client.metadata();
    return {
      identity: {
        provider: 'itsme',
        issuer,
        subject: idTokenClaims.sub,
        // Never a name, birth date or national number: a re-created itsme account is a new identity
        // (docs/providers.md#itsme-account-re-creation).
        personKey: null,
        attributes,
        rawClaims: itsmeReviewClaims({ ...idTokenClaims, ...userinfo }),
        displayName: itsmeDisplayName(attributes),
      },
      policy: this.settings.unknownIdentityPolicy,
      authContext: {
        method: 'web',
        provider: 'itsme',
        acr: typeof idTokenClaims.acr === 'string' ? idTokenClaims.acr : null,
      },
      transaction,
      authTime: authTimeOf(idTokenClaims),
      warnings: [],
    };
  }
}
