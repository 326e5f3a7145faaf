import { Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { AppConfig } from '../app/app.config.js';
import { InjectAppConfig } from '../config/config.module.js';
import { BrowserBinding, hashBinding } from '../login-transactions/browser-binding.js';
import { safeReturnTo } from '../login-transactions/return-to.js';
import { LoginFailure } from '../common/problem/login-failure.js';
import { SessionCookie } from '../sessions/session-cookie.js';
import { SessionsService } from '../sessions/sessions.service.js';
import { BrowserSignOut } from './browser-sign-out.js';
import { ProviderLogout } from './provider-logout.js';
import { clientMeta } from '../common/http/client-meta.js';
import { LoginCompletionService, type LoginOutcome } from './login-completion.service.js';
import { CONTINUE_ON_SITE, type LoginIntent, type ProviderLoginStarter } from './login-starters.js';
import { wantsJson } from './login-redirect.filter.js';
import { afterLoginUrl, pendingPageUrl } from './login-outcome-pages.js';
import type { VerifiedLogin } from './verified-login.js';
import { navigateFromThisSite, redirect } from '../common/http/redirect.js';
import { openedFromThisSite } from '../access/csrf.js';
import { pathInAdminArea } from '../access/admin-area.js';

/**
 * What a login started with a follow-up does once it has signed in (e.g. attach this browser's pending identity):
 * answers where the browser goes next. Registered by the module that owns the action.
 */
export type LoginFollowUp = (
  signedIn: { token: string; accountId: string },
  pendingIdentityId: string,
  returnTo: string,
  req: Request,
  res: Response,
) => Promise<string>;

@Injectable()
export class LoginFollowUps {
  private attach: LoginFollowUp | undefined;

  registerAttachPending(followUp: LoginFollowUp): void {
    this.attach = followUp;
  }

  attachPending(): LoginFollowUp | undefined {
    return this.attach;
  }
}

/**
 * The browser side of a login, the same for every provider: the login link that sends the browser off, and on the
 * way back the session cookie for a new session or, for a held (pending) identity, the browser binding kept alive
 * for as long as this browser may attach it.
 */
@Injectable()
export class BrowserLogins {
  constructor(
    private readonly completion: LoginCompletionService,
    private readonly binding: BrowserBinding,
    private readonly sessionCookie: SessionCookie,
    private readonly signOut: BrowserSignOut,
    private readonly followUps: LoginFollowUps,
    private readonly sessions: SessionsService,
    private readonly providerLogout: ProviderLogout,
    @InjectAppConfig() private readonly config: AppConfig,
  ) {}

  /**
   * A provider's login link (`?returnTo=`, same-site paths only; `?prompt=` for "sign in as someone else"): a plain
   * login started in this browser.
   */
  async redirectToProvider(
    starter: Pick<ProviderLoginStarter, 'startRedirect' | 'asksNewSignInIfSomeoneLeft'>,
    query: { returnTo?: string; prompt?: 'login' | 'select_account' },
    req: Request,
    res: Response,
    extra: { attachPendingIdentityId?: string } = {},
  ): Promise<void> {
    const returnTo = safeReturnTo(query.returnTo, this.config.http.publicBaseUrl);
    const continueOnSite = this.continuesOnSite(returnTo, req);
    const intent: LoginIntent = {
      purpose: 'login',
      accountId: null,
      returnTo,
      ...this.binding.ensure(req, res),
      ...(query.prompt ? { prompt: query.prompt } : {}),
      ...(continueOnSite ? { continueOnSite } : {}),
      ...extra,
    };
    if (starter.asksNewSignInIfSomeoneLeft(intent) && (await this.leftBySomeone(req))) intent.afterSignOut = true;
    const url = await starter.startRedirect(intent, clientMeta(req));
    res.setHeader('Cache-Control', 'no-store');
    redirect(res, 302, url.href);
  }

  /**
   * Whether a login this request starts, landing at `returnTo` (or LOGIN_SUCCESS_URL), finishes through a page of ours:
   * the admin area refuses reads the browser says another site opened, as it says of the provider's redirects.
   */
  continuesOnSite(returnTo: string, req: Request): boolean {
    const { publicBaseUrl, trustedOrigins } = this.config.http;
    return (
      pathInAdminArea(afterLoginUrl(returnTo, this.config), publicBaseUrl) && openedFromThisSite(req, trustedOrigins)
    );
  }

  /**
   * Whether someone left this browser lately (SessionCookie.leftHere), or it brings the cookie of a session that has
   * ended without a sign-out — revoked from elsewhere ("end this session" on a phone, for the PC left signed in),
   * expired while the browser stood: the provider's single sign-on there may be that person's.
   */
  private async leftBySomeone(req: Request): Promise<boolean> {
    if (this.sessionCookie.leftHere(req)) return true;
    const token = this.sessionCookie.read(req);
    return token !== undefined && (await this.sessions.authenticate(token)) === null;
  }

  async complete(login: VerifiedLogin, req: Request, res: Response): Promise<LoginOutcome> {
    const binding = this.binding.read(req);
    const outcome = await this.completion.complete(login, {
      ...clientMeta(req),
      previousSessionToken: this.sessionCookie.read(req),
      browserBindingHash: binding ? hashBinding(binding) : null,
      signOutHint: this.providerLogout.signOutHint(req),
    });
    if (outcome.kind === 'session') this.sessionCookie.set(res, outcome.token);
    if (outcome.kind === 'linked' && outcome.signedOut) {
      // Signed out as by any sign-out: the providers' sessions this browser has end too, this login's among them.
      return { ...outcome, signedOutTo: await this.signOut.signOutTo(req, res) };
    }
    if (outcome.kind === 'pending' && binding) {
      this.binding.keep(res, binding, this.config.linking.pendingSelfServiceSeconds);
    }
    return outcome;
  }

  /**
   * A provider callback: back to `returnTo` (LOGIN_SUCCESS_URL when it named none); a held identity goes to
   * LOGIN_PENDING_URL with its reference (an API client asking for JSON gets the `identity_pending` problem). A
   * login started to attach a pending identity does that next.
   */
  async completeAndRedirect(login: VerifiedLogin, req: Request, res: Response): Promise<void> {
    const outcome = await this.complete(login, req, res);
    // The completion kept the ID token; a refusal is noted by LoginRedirectFilter.
    this.providerLogout.noteReturn(req, res, true);
    res.setHeader('Cache-Control', 'no-store');
    if (outcome.kind === 'pending') {
      if (wantsJson(req)) {
        throw new LoginFailure(
          'identity_pending',
          'the identity is not linked to an account yet: GET /api/pending-identity says what this browser can do',
        );
      }
      return redirect(res, 302, pendingPageUrl(outcome.pendingIdentityId, this.config));
    }
    if (outcome.kind === 'linked' && outcome.signedOutTo) {
      return redirect(res, 302, outcome.signedOutTo);
    }
    const { providerData } = login.transaction;
    const attach = providerData.attachPendingIdentityId;
    const followUp = this.followUps.attachPending();
    const next =
      outcome.kind === 'session' && typeof attach === 'string' && followUp
        ? await followUp(outcome, attach, outcome.returnTo, req, res)
        : afterLoginUrl(outcome.returnTo, this.config);
    if (providerData[CONTINUE_ON_SITE] === true && pathInAdminArea(next, this.config.http.publicBaseUrl)) {
      return navigateFromThisSite(res, next);
    }
    redirect(res, 302, next);
  }
}
