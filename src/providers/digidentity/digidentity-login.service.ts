import { Injectable } from '@nestjs/common';
import * as client from 'openid-client';
import QRCode from 'qrcode';
import { FRESH_SIGN_IN } from '../../auth/login-starters.js';
import {
  authTimeAsStamped,
  heldToThisClock,
  signedInDuringLogin,
  type VerifiedLogin,
} from '../../auth/verified-login.js';
import { type ClientMeta, type LoginIntent, intentData, type QrLoginStart } from '../../auth/login-starters.js';
import { PASSWORDLESS_LOGIN_TTL_SECONDS } from '../../login-transactions/browser-binding.js';
import type { StoredLoginTransaction } from '../../login-transactions/login-transactions.service.js';
import { LoginFailure, unexpectedLoginFailure } from '../../common/problem/login-failure.js';
import type { VerifiedTokens } from '../../oidc/oidc-client.js';
import { toLoginFailure } from '../../oidc/oidc-errors.js';
import { sermiLogIdentifiers } from '../../sermi/access-rules.js';
import { evaluateSermiClaims } from '../../sermi/sermi-claims.js';
import { OidcProviderLogin } from '../kit/oidc-provider-login.js';
import { ProviderLoginKit } from '../kit/provider-login-kit.js';
import type { DigidentitySettings } from './digidentity.config.js';
import { refuseUnstorable } from '../kit/provider-answer.js';

function withoutSub<T extends { sub: string }>(claims: T): Omit<T, 'sub'> {
  const { sub: _sub, ...rest } = claims;
  return rest;
}

export const DIGIDENTITY_CALLBACK_PATH = '/auth/digidentity/callback';

export type PasswordlessStart = QrLoginStart;

export type PasswordlessPoll =
  | { status: 'pending' | 'expired' }
  | { status: 'failed'; failure: LoginFailure }
  | { status: 'complete'; login: VerifiedLogin };

type ResolvedDigidentitySettings = DigidentitySettings &
  Required<Pick<DigidentitySettings, 'issuer' | 'clientId' | 'clientSecret' | 'productScope'>>;

interface PasswordlessState {
  mode: 'passwordless';
  code: string;
  qrCodeUri: string;
  /** `completing`: a poll consumed the confirmed login and is still fetching user-info and signing in. */
  status: 'pending' | 'completing' | 'expired' | 'failed' | 'complete';
  lastPolledAt?: string;
  failureCode?: string;
}

/**
 * Digidentity answers an unconfirmed QR login with 400 and this description
 * (docs/providers.md#digidentity-passwordless-qr-login).
 */
const LOGIN_PENDING = 'login_pending';
const SESSION_NOT_FOUND = 'session_not_found';
// The browser-binding cookie is kept at least this long, so a QR login can complete whatever the transaction TTL.
const PASSWORDLESS_TTL_SECONDS = PASSWORDLESS_LOGIN_TTL_SECONDS;

/**
 * Digidentity, the SERMI Trust Centre: web login (OIDC code flow) and passwordless QR login (authorize.json + token
 * polling), both ending in user_info.json with the SERMI UIDs, checked by the SERMI claim-set rules.
 * See docs/providers.md#digidentity and docs/login-flows.md#digidentity.
 */
@Injectable()
export class DigidentityLoginService extends OidcProviderLogin<'digidentity'> {
  readonly passwordlessPollPath = '/auth/digidentity/passwordless/:id';
  private readonly settings: ResolvedDigidentitySettings;

  constructor(kit: ProviderLoginKit) {
    const settings = kit.resolved(
      'Digidentity',
      kit.config.digidentity,
      ['issuer', 'clientId', 'clientSecret', 'productScope'],
      'DIGIDENTITY',
    );
    super(kit, {
      provider: 'digidentity',
      issuer: settings.issuer,
      clientId: settings.clientId,
      clientSecret: settings.clientSecret,
      callbackPath: DIGIDENTITY_CALLBACK_PATH,
      idTokenAlgorithms: settings.idTokenAlgorithms,
      sandbox: settings.sandbox,
      // A SERMI login proves the authorisation at the moment of login only: each one is a real Trust Centre
      // authentication, never the Trust Centre's single sign-on session.
      alwaysFresh: true,
    });
    this.settings = settings;
  }

  private get scope(): string {
    return `${this.settings.productScope} openid sermi`;
  }

  protected authorizationParameters(): Record<string, string> {
    return { scope: this.scope };
  }

  protected async verify(tokens: VerifiedTokens, transaction: StoredLoginTransaction): Promise<VerifiedLogin> {
    const userinfo = await this.client.userinfo(tokens.accessToken, tokens.idTokenClaims!.sub);
    return this.verifiedLogin(userinfo, transaction, 'web', authTimeAsStamped(tokens.idTokenClaims));
  }

  /** Passwordless, step 1: a QR login session at Digidentity. Its authorisation code never leaves this server. */
  async startPasswordless(intent: LoginIntent, meta: ClientMeta): Promise<PasswordlessStart> {
    // Each start costs a call to Digidentity: a client over its limit is refused before that call.
    await this.kit.transactions.admitStart('passwordless', meta.clientIp);
    try {
      const authorizeJson = new URL(
        '/oauth2/authorize.json',
        (await this.client.configuration()).serverMetadata().issuer,
      );
      authorizeJson.search = new URLSearchParams({
        client_id: this.settings.clientId,
        scope: this.scope,
        response_type: 'code',
      }).toString();
      const response = await this.flow.http.fetch(authorizeJson, { headers: { accept: 'application/json' } });
      const body = (await response.json().catch(() => undefined)) as
        { data?: { id?: unknown; attributes?: { qr_code_uri?: unknown } } } | undefined;
      const code = body?.data?.id;
      const qrCodeUri = body?.data?.attributes?.qr_code_uri;
      if (!response.ok || typeof code !== 'string' || typeof qrCodeUri !== 'string') {
        throw new LoginFailure(
          response.status >= 500 ? 'provider_unavailable' : 'provider_error',
          'Digidentity did not start a passwordless login',
          {
            httpStatus: response.status,
          },
        );
      }
      // Rendered before anything is stored: a URI no QR code can hold, or one the portal must not show, is the
      // provider's error and writes nothing.
      const qrCodeSvg = await renderQrCode(qrCodeUri);
      const state: PasswordlessState = { mode: 'passwordless', code, qrCodeUri, status: 'pending' };
      const transaction = await this.kit.transactions.create({
        provider: 'digidentity',
        purpose: intent.purpose,
        accountId: intent.accountId,
        returnTo: intent.returnTo,
        browserBinding: intent.browserBinding,
        browserBindingIsNew: intent.browserBindingIsNew,
        // The PIN is confirmed in the app after this start: an older auth_time is not this login's (FRESH_SIGN_IN).
        providerData: { ...state, ...intentData(intent), [FRESH_SIGN_IN]: true },
        ttlSeconds: PASSWORDLESS_TTL_SECONDS,
        startLimit: 'counted',
      });
      return {
        id: transaction.id,
        qrCodeUri,
        qrCodeSvg,
        expiresAt: transaction.expiresAt.toISOString(),
        pollIntervalMs: this.settings.passwordlessPollIntervalMs,
      };
    } catch (error) {
      throw await this.flow.failed(error, 'discovery', meta);
    }
  }

  /**
   * Passwordless, step 2: one poll from the browser that started it. Polls faster than the interval are answered
   * from the stored state without calling Digidentity; the first poll that sees the confirmation completes the
   * login, and the id can never be used again.
   */
  async pollPasswordless(id: string, browserBinding: string | undefined, meta: ClientMeta): Promise<PasswordlessPoll> {
    const transaction = await this.kit.transactions.findForBrowser(id, 'digidentity', browserBinding);
    const state = transaction?.providerData as PasswordlessState | undefined;
    if (!transaction || state?.mode !== 'passwordless') {
      const failure = new LoginFailure('passwordless_not_found', 'no passwordless login with this id in this browser', {
        loginTransactionId: id,
      });
      throw await this.flow.failed(failure, 'token', meta);
    }
    if (transaction.consumed) {
      if (state.status === 'complete') {
        const failure = new LoginFailure(
          'passwordless_already_used',
          'this passwordless login already produced a session',
          {
            loginTransactionId: id,
          },
        );
        throw await this.flow.failed(failure, 'token', meta);
      }
      // Another poll is finishing this login: it ends complete or failed in a moment. Only if that poll never
      // finished (its instance died) does the login run out.
      if (state.status === 'completing') return { status: transaction.expired ? 'expired' : 'pending' };
      return state.status === 'failed'
        ? {
            status: 'failed',
            failure: new LoginFailure((state.failureCode ?? 'provider_error') as never, 'the login failed'),
          }
        : { status: 'expired' };
    }
    if (transaction.expired) {
      await this.finishPasswordless(id, 'expired');
      return { status: 'expired' };
    }
    // One token call at a time per login, across instances: a lease in database time, long enough to cover the
    // call; polls inside it are answered from the stored state.
    const intervalSeconds = this.settings.passwordlessPollIntervalMs / 1000;
    const leaseSeconds = Math.max(intervalSeconds, this.kit.config.oidc.httpTimeoutMs / 1000 + 1);
    if (!(await this.kit.transactions.claimPoll(id, leaseSeconds))) return { status: 'pending' };

    let tokens;
    let answeredAt = 0;
    try {
      tokens = await this.client.grant('authorization_code', { code: state.code });
      answeredAt = performance.now();
    } catch (error) {
      const failure = toLoginFailure(error, 'token');
      const description = failure.auditDetails.oauthErrorDescription;
      if (description === LOGIN_PENDING) {
        await this.kit.transactions.releasePoll(id, intervalSeconds);
        return { status: 'pending' };
      }
      if (description === SESSION_NOT_FOUND) {
        await this.finishPasswordless(id, 'expired');
        return { status: 'expired' };
      }
      const reported = await this.flow.failed(error, 'token', meta, transaction);
      if (!(reported instanceof LoginFailure) || reported.retryable) {
        await this.kit.transactions.releasePoll(id, intervalSeconds);
        throw reported;
      }
      await this.finishPasswordless(id, 'failed', reported.code);
      return { status: 'failed', failure: reported };
    }
    // Only the poll that consumes the transaction goes on; a concurrent expiry has already decided the outcome.
    if (!(await this.kit.transactions.consumeById(id, { status: 'completing' }))) return { status: 'expired' };
    try {
      const userinfo = await this.client.userinfo(
        tokens.accessToken,
        tokens.idTokenClaims?.sub ?? client.skipSubjectCheck,
      );
      // A QR login has no single sign-on: the PIN was confirmed after the QR code was handed out, so when the ID
      // token does not say, the start of this login is a time the authentication is guaranteed not to precede.
      const signIn = authTimeAsStamped(tokens.idTokenClaims) ?? transaction.createdAt;
      const login = await this.verifiedLogin(userinfo, transaction, 'passwordless', signIn);
      const newSignIn =
        tokens.idTokenClaims?.auth_time === undefined ||
        signedInDuringLogin(tokens.idTokenClaims, transaction.startedAtLocal, answeredAt);
      return { status: 'complete', login: { ...login, newSignIn } };
    } catch (error) {
      const reported = await this.flow.failed(error, 'userinfo', meta, transaction);
      const code = (reported instanceof LoginFailure ? reported : unexpectedLoginFailure(reported)).code;
      await this.kit.transactions.setProviderDataOfConsumed(id, { status: 'failed', failureCode: code });
      if (!(reported instanceof LoginFailure)) throw reported;
      return { status: 'failed', failure: reported };
    }
  }

  /** What became of a confirmed passwordless login, for any later poll of the same id. */
  async recordPasswordlessOutcome(id: string, status: 'complete' | 'failed', failureCode?: string): Promise<void> {
    await this.kit.transactions.setProviderDataOfConsumed(id, { status, ...(failureCode ? { failureCode } : {}) });
  }

  /** Ends a passwordless login; only the request that consumes it writes the outcome. */
  private async finishPasswordless(id: string, status: 'expired' | 'failed', failureCode?: string): Promise<void> {
    await this.kit.transactions.consumeById(id, { status, ...(failureCode ? { failureCode } : {}) });
  }

  /**
   * A chain authorisation is proven for the RSSE maximum age from the Trust Centre authentication that brought it
   * (SERMI rule 5): no session of it outlives that. One the Trust Centre answered from an authentication already
   * past it (it ignored prompt=login) signs nobody in.
   */
  private chainAuthorisationEnd(authTime: Date | null): Date {
    const maxAgeMs = this.kit.config.sermi.rsseMaxAgeSeconds * 1000;
    // Without auth_time the session gets no SERMI access anyway; it is still held to the same lifetime.
    const end = new Date((authTime?.getTime() ?? Date.now()) + maxAgeMs);
    if (end.getTime() <= Date.now()) {
      throw new LoginFailure(
        'authentication_not_fresh',
        'the Trust Centre reused a sign-in older than a chain authorisation lasts',
        {
          authTime: authTime?.toISOString(),
        },
      );
    }
    return end;
  }

  /** The SERMI claim-set rules, then the normalised identity every provider hands to the user mapping. */
  private async verifiedLogin(
    userinfo: Record<string, unknown>,
    transaction: StoredLoginTransaction,
    method: 'web' | 'passwordless',
    /**
     * The Trust Centre's `auth_time` as stamped (authTimeAsStamped): it names the sign-in (a chain binding's key); the
     * session's authTime is the same held to this host's clock, as authTimeOf holds it.
     */
    signIn: Date | null,
  ): Promise<VerifiedLogin> {
    const authTime = heldToThisClock(signIn);
    const sermi = evaluateSermiClaims(userinfo);
    if (!sermi.ok) {
      throw new LoginFailure(sermi.refusal, sermi.detail, { field: sermi.field, loginTransactionId: transaction.id });
    }
    // The whole user-info is kept for review when the identity is held (rawClaims).
    refuseUnstorable('Digidentity', userinfo, transaction);
    if (sermi.warnings.length > 0)
      this.kit.logger.warn({ provider: 'digidentity', warnings: sermi.warnings }, 'SERMI CAB consistency check');
    const { identity } = sermi;
    const { issuer } = await this.client.metadata();
    return {
      identity: {
        provider: 'digidentity',
        issuer,
        subject: identity.claims.sub,
        personKey: identity.authorisationUid,
        attributes: { actorType: identity.actorType, ...withoutSub(identity.claims) },
        rawClaims: userinfo,
        displayName: identity.actor.uid,
      },
      policy: this.settings.unknownIdentityPolicy,
      authContext: {
        method,
        provider: 'digidentity',
        sermi: {
          actorType: identity.actorType,
          actor: identity.actor,
          principal: identity.principal,
          cabuid: identity.cabuid,
          authorisationUid: identity.authorisationUid,
          ...(signIn ? { signIn: signIn.toISOString() } : {}),
        },
      },
      transaction,
      authTime,
      warnings: sermi.warnings,
      sermiLogin: { method, ...sermiLogIdentifiers(identity) },
      ...(identity.actorType === 'RSSE' ? { sessionEndsBy: this.chainAuthorisationEnd(authTime) } : {}),
    };
  }
}

/** Longest QR code URI accepted: well under what a version-40 QR code holds at error correction M (2,331 bytes). */
const MAX_QR_CODE_URI_LENGTH = 2048;

/** The QR code (SVG) for a URI Digidentity handed out; anything unusable is the provider's error. */
async function renderQrCode(uri: string): Promise<string> {
  const url = URL.canParse(uri) ? new URL(uri) : undefined;
  if (
    !url ||
    uri.length > MAX_QR_CODE_URI_LENGTH ||
    ['javascript:', 'data:', 'vbscript:', 'file:'].includes(url.protocol)
  ) {
    throw new LoginFailure('provider_error', 'Digidentity handed out a QR code URI that cannot be shown', {
      length: uri.length,
    });
  }
  try {
    return await QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
  } catch (error) {
    throw new LoginFailure('provider_error', 'the QR code URI does not fit a QR code', { length: uri.length }, error);
  }
}
