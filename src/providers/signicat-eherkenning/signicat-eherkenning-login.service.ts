import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { Request } from 'express';
import { type ClientMeta, intentData, type LoginIntent, type ProviderLoginStarter } from '../../auth/login-starters.js';
import type { VerifiedLogin } from '../../auth/verified-login.js';
import type { StoredLoginTransaction } from '../../login-transactions/login-transactions.service.js';
import type { ProviderHttpClient } from '../../oidc/http-client.js';
import { LoginFailure } from '../../common/problem/login-failure.js';
import { ProviderLoginKit } from '../kit/provider-login-kit.js';
import type { SignicatEherkenningSettings } from './signicat-eherkenning.config.js';
import { checkAuthenticationUrl } from './authentication-url.js';
import {
  CALLBACK_OUTCOMES,
  type CallbackOutcome,
  EHERKENNING_ATTRIBUTES,
  type EherkenningIdentity,
  readEherkenningSession,
} from './eherkenning-session.js';
import { SignicatApiToken } from './signicat-api-token.js';
import { SignicatRestClient } from './signicat-rest-client.js';

export const SIGNICAT_EHERKENNING_CALLBACK_PATH = '/auth/signicat-eherkenning/callback';

const PROVIDER = 'signicat-eherkenning' as const;

type ResolvedSettings = SignicatEherkenningSettings &
  Required<Pick<SignicatEherkenningSettings, 'baseUrl' | 'clientId' | 'clientSecret'>>;

/**
 * Signicat eHerkenning through the Authentication REST API (not OIDC; docs/providers.md#signicat-eherkenning,
 * docs/login-flows.md#signicat-eherkenning). The backend creates
 * a Signicat session server-to-server and sends the browser to its authentication page; Signicat sends the browser
 * back with `?sessionId=`. That id is the login transaction's lookup key: it must be one this browser started and
 * not used yet, and it is consumed before Signicat is asked how the session ended. Only `SUCCESS` signs in.
 */
@Injectable()
export class SignicatEherkenningLoginService implements OnModuleDestroy, ProviderLoginStarter {
  readonly provider = PROVIDER;
  readonly api: SignicatRestClient;
  private readonly http: ProviderHttpClient;
  private readonly settings: ResolvedSettings;
  private readonly issuer: string;
  private readonly allowHttp: boolean;

  constructor(private readonly kit: ProviderLoginKit) {
    const settings = kit.resolved(
      'Signicat eHerkenning',
      kit.config.signicatEherkenning,
      ['baseUrl', 'clientId', 'clientSecret'],
      'SIGNICAT_EHERKENNING',
    );
    kit.register(this);
    this.settings = settings;
    this.http = kit.httpClient(PROVIDER);
    const base = settings.baseUrl.href.endsWith('/') ? settings.baseUrl : new URL(`${settings.baseUrl.href}/`);
    const token = new SignicatApiToken(
      new URL('auth/open/connect/token', base),
      settings.clientId,
      settings.clientSecret,
      this.http,
    );
    this.api = new SignicatRestClient(base, token, this.http);
    this.issuer = base.href.replace(/\/$/, '');
    this.allowHttp = settings.sandbox || kit.config.oidc.allowInsecureHttp;
  }

  onModuleDestroy() {
    this.http.close();
  }

  /** Signicat's Authentication REST API takes no demand for a new sign-in (docs/security.md#freshness-in-detail). */
  asksNewSignInIfSomeoneLeft(): boolean {
    return false;
  }

  /**
   * Step 1: a Signicat session for this login; returns its authentication page. The transaction is stored first
   * (its id is the session's `externalReference`) and re-keyed to the session id; nothing usable is left behind
   * when Signicat is unreachable.
   */
  async startRedirect(intent: LoginIntent, meta: ClientMeta): Promise<URL> {
    let transactionId: string | undefined;
    try {
      const transaction = await this.kit.transactions.create({
        provider: PROVIDER,
        purpose: intent.purpose,
        accountId: intent.accountId,
        returnTo: intent.returnTo,
        browserBinding: intent.browserBinding,
        browserBindingIsNew: intent.browserBindingIsNew,
        providerData: intentData(intent),
        startLimit: { clientIp: meta.clientIp },
      });
      transactionId = transaction.id;
      const callback = (outcome: CallbackOutcome) =>
        new URL(`${SIGNICAT_EHERKENNING_CALLBACK_PATH}/${outcome}`, this.kit.config.http.publicBaseUrl).href;
      const session = await this.api.createSession({
        flow: 'redirect',
        allowedProviders: ['eherkenning'],
        requestedAttributes: [...EHERKENNING_ATTRIBUTES],
        callbackUrls: { success: callback('success'), abort: callback('abort'), error: callback('error') },
        externalReference: transaction.id,
        sessionLifetime: this.kit.config.login.transactionTtlSeconds,
        language: this.settings.language,
        ...(this.settings.loa ? { requestedLoa: this.settings.loa } : {}),
      });
      const url = checkAuthenticationUrl(
        session.authenticationUrl,
        this.settings.baseUrl,
        this.allowHttp,
        this.settings.authenticationHosts,
      );
      await this.kit.transactions.useProviderState(transaction.id, session.id);
      return url;
    } catch (error) {
      if (transactionId) await this.kit.transactions.consumeById(transactionId).catch(() => undefined);
      throw await this.failed(error, meta, { stage: 'create_session' });
    }
  }

  /** Step 2: the callback. The session id is consumed (browser-bound, single use) before Signicat is called. */
  async completeCallback(
    outcome: string,
    req: Request,
    browserBinding: string | undefined,
    meta: ClientMeta,
  ): Promise<VerifiedLogin> {
    let transaction: StoredLoginTransaction | undefined;
    try {
      if (!(CALLBACK_OUTCOMES as readonly string[]).includes(outcome)) {
        throw new LoginFailure('login_state_invalid', 'not a Signicat callback');
      }
      const sessionId = req.query.sessionId;
      transaction = await this.kit.transactions.consumeByState(PROVIDER, sessionId, browserBinding);
      const session = await this.api.getSession(sessionId as string);
      if (!session) throw new LoginFailure('login_expired', 'Signicat no longer knows the session');
      const verdict = readEherkenningSession(session, {
        sessionId: sessionId as string,
        externalReference: transaction.id,
      });
      if (!verdict.ok) {
        throw new LoginFailure(verdict.code, verdict.detail, {
          ...(verdict.field ? { field: verdict.field } : {}),
          sessionStatus: typeof session.status === 'string' ? session.status.slice(0, 32) : null,
        });
      }
      return this.verifiedLogin(verdict.identity, transaction, outcome as CallbackOutcome);
    } catch (error) {
      throw await this.failed(error, meta, { stage: 'get_session', callback: outcome.slice(0, 16) }, transaction);
    }
  }

  private verifiedLogin(
    { subject, attributes }: EherkenningIdentity,
    transaction: StoredLoginTransaction,
    outcome: CallbackOutcome,
  ): VerifiedLogin {
    return {
      identity: {
        provider: PROVIDER,
        issuer: this.issuer,
        subject,
        personKey: null,
        attributes,
        rawClaims: { id: subject, ...attributes },
        displayName: attributes.organisationName
          ? `${attributes.organisationName} (eHerkenning)`
          : `KvK ${attributes.chamberOfCommerce} (eHerkenning)`,
      },
      policy: this.settings.unknownIdentityPolicy,
      authContext: { method: 'web', provider: PROVIDER, kvk: attributes.chamberOfCommerce },
      transaction,
      // Signicat reports no authentication time. A REST session is created for this one login and cannot be reused:
      // its SUCCESS is an authentication that happened after the login started, so that start is the time the
      // authentication is guaranteed not to precede (never the callback's time).
      authTime: transaction.createdAt,
      warnings: outcome === 'success' ? [] : [`signicat_session_success_on_${outcome}_callback`],
    };
  }

  /** Audits the refusal; a fault of our own stays the original error (a 500 or 503 from the error filters). */
  private failed(
    error: unknown,
    meta: ClientMeta,
    details: Record<string, unknown>,
    transaction?: StoredLoginTransaction,
  ): Promise<unknown> {
    const extra = { ...details, ...(transaction ? { loginTransactionId: transaction.id } : {}) };
    return this.kit.refusal(PROVIDER, error, 'token', meta, extra);
  }
}
