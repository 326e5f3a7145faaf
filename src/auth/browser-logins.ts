import { Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { AppConfig } from '../config/app.config.js';
import { InjectAppConfig } from '../config/config.module.js';
import { BrowserBinding, hashBinding } from '../login-transactions/browser-binding.js';
import { safeReturnTo } from '../login-transactions/return-to.js';
import { LoginFailure } from '../oidc/login-failure.js';
import { SessionCookie } from '../sessions/session-cookie.js';
import { BrowserSignOut } from './browser-sign-out.js';
import { clientMeta } from './client-meta.js';
import { LoginCompletionService, type LoginOutcome } from './login-completion.service.js';
import type { ProviderLoginStarter } from './login-starters.js';
import type { VerifiedLogin } from './verified-login.js';

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
    @InjectAppConfig() private readonly config: AppConfig,
  ) {}

  /** A provider's login link (`?returnTo=`, same-site paths only): a plain login started in this browser. */
  async redirectToProvider(
    starter: Pick<ProviderLoginStarter, 'startRedirect'>,
    returnTo: string | undefined,
    req: Request,
    res: Response,
  ): Promise<void> {
    const url = await starter.startRedirect(
      {
        purpose: 'login',
        accountId: null,
        returnTo: safeReturnTo(returnTo, this.config.http.publicBaseUrl),
        browserBinding: this.binding.ensure(req, res),
      },
      clientMeta(req),
    );
    res.setHeader('Cache-Control', 'no-store');
    res.redirect(302, url.href);
  }

  async complete(login: VerifiedLogin, req: Request, res: Response): Promise<LoginOutcome> {
    const binding = this.binding.read(req);
    const outcome = await this.completion.complete(login, {
      ...clientMeta(req),
      previousSessionToken: this.sessionCookie.read(req),
      browserBindingHash: binding ? hashBinding(binding) : null,
    });
    if (outcome.kind === 'session') this.sessionCookie.set(res, outcome.token);
    if (outcome.kind === 'linked' && outcome.signedOut) await this.signOut.apply(req, res);
    if (outcome.kind === 'pending' && binding) {
      this.binding.keep(res, binding, this.config.linking.pendingSelfServiceSeconds);
    }
    return outcome;
  }

  /** A provider callback: back to `returnTo`; a held identity ends on the error page (`identity_pending`). */
  async completeAndRedirect(login: VerifiedLogin, req: Request, res: Response): Promise<void> {
    const outcome = await this.complete(login, req, res);
    if (outcome.kind === 'pending') {
      throw new LoginFailure(
        'identity_pending',
        'the identity is not linked to an account yet: GET /api/pending-identity says what this browser can do',
      );
    }
    res.setHeader('Cache-Control', 'no-store');
    res.redirect(302, outcome.returnTo);
  }
}
