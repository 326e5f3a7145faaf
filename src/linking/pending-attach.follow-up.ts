import { Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import { LoginFollowUps } from '../auth/browser-logins.js';
import { BrowserSignOut } from '../auth/browser-sign-out.js';
import { clientMeta } from '../common/http/client-meta.js';
import { afterLoginUrl, pendingPageUrl } from '../auth/login-outcome-pages.js';
import { AppException } from '../common/problem/app-exception.js';
import { classifyUnexpected } from '../common/problem/classify-unexpected.js';
import { logFailure } from '../common/logging/fault-log.js';
import { InjectRootLogger } from '../common/logging/logger.module.js';
import { requestIdOf } from '../common/request-context/request-context.js';
import type { AppConfig } from '../app/app.config.js';
import { InjectAppConfig } from '../config/config.module.js';
import { BrowserBinding } from '../login-transactions/browser-binding.js';
import { SessionsService } from '../sessions/sessions.service.js';
import { LinkingService } from './linking.service.js';

/**
 * "Sign in with a method you already have to attach it", in one click: a login started for that (see the pending
 * page) attaches this browser's pending identity as soon as it has signed in, through the same attach as
 * POST /api/pending-identity/attach — directly, or by sending the browser to the provider to confirm it.
 */
@Injectable()
export class PendingAttachFollowUp {
  constructor(
    followUps: LoginFollowUps,
    private readonly linking: LinkingService,
    private readonly sessions: SessionsService,
    private readonly binding: BrowserBinding,
    private readonly signOut: BrowserSignOut,
    @InjectAppConfig() private readonly config: AppConfig,
    @InjectRootLogger() private readonly logger: Logger,
  ) {
    followUps.registerAttachPending((signedIn, pendingIdentityId, returnTo, req, res) =>
      this.attach(signedIn.token, pendingIdentityId, returnTo, req, res),
    );
  }

  private async attach(
    token: string,
    pendingIdentityId: string,
    returnTo: string,
    req: Request,
    res: Response,
  ): Promise<string> {
    let outcome: Awaited<ReturnType<LinkingService['attachPending']>>;
    try {
      const principal = await this.sessions.authenticate(token);
      if (!principal) return afterLoginUrl(returnTo, this.config);
      outcome = await this.linking.attachPending(
        principal,
        pendingIdentityId,
        this.binding.read(req),
        clientMeta(req),
        returnTo,
      );
    } catch (error) {
      // Signed in, but not attached — also when the database or the provider failed in between: the pending page
      // says so (signed in, try again) and keeps the one-click attach, instead of a login error page that would
      // hide the session this login made.
      const failure = error instanceof AppException ? error : classifyUnexpected(error);
      if (!(error instanceof AppException)) {
        const fields = { requestId: requestIdOf(req), path: req.path, failure: failure.code };
        logFailure(this.logger, error, fields, 'attaching after the login failed');
      }
      const target = new URL(pendingPageUrl(pendingIdentityId, this.config));
      target.searchParams.set('code', failure.code);
      return target.href;
    }
    if (outcome.status === 'confirm_with_provider' && outcome.redirectUrl) return outcome.redirectUrl;
    // Attached, and this session ended by it (the re-bind revoked it): a failure from here on is the sign-out's.
    if (outcome.signedOut) {
      return this.signOut.signOutTo(req, res);
    }
    return afterLoginUrl(returnTo, this.config);
  }
}
