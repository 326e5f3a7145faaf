import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { logFailure } from '../common/logging/fault-log.js';
import { InjectRootLogger } from '../common/logging/logger.module.js';
import { requestIdOf } from '../common/request-context/request-context.js';
import { BrowserBinding, hashBinding } from '../login-transactions/browser-binding.js';
import { PendingIdentitiesRepository } from '../pending-identities/pending-identities.repository.js';
import { SessionCookie } from '../sessions/session-cookie.js';
import { ProviderLogout } from './provider-logout.js';
import type { AppConfig } from '../app/app.config.js';
import { InjectAppConfig } from '../config/config.module.js';

/**
 * What signing a browser out means beyond ending its session, wherever it happens (logout, ending this session
 * from the session list, removing the login method it used): the session cookie goes, and identities this
 * browser left pending are no longer its to attach or to make an account of — they are not for whoever signs in
 * at this (possibly shared workshop) PC next.
 */
@Injectable()
export class BrowserSignOut {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly binding: BrowserBinding,
    private readonly sessionCookie: SessionCookie,
    private readonly pending: PendingIdentitiesRepository,
    private readonly providerLogout: ProviderLogout,
    @InjectRootLogger() private readonly logger: Logger,
    @InjectAppConfig() private readonly config: AppConfig,
  ) {}

  async apply(req: Request, res: Response): Promise<void> {
    this.sessionCookie.clear(res);
    await this.forgetHeldSignIns(req, res);
  }

  /**
   * A sign-out by another action than POST /auth/logout (ending this browser's own session, removing the login method
   * it used, an attach that replaced it): as `apply`, then the round of the providers' sign-out pages this browser
   * signed in at (ProviderLogout; the session's own provider among them). The first page's URL, where there is one.
   */
  async applyWithProviderRound(req: Request, res: Response): Promise<string | undefined> {
    await this.apply(req, res);
    return (await this.providerLogout.start(null, req, res))?.href;
  }

  /** As applyWithProviderRound, for a browser sent on: where it goes next, LOGOUT_REDIRECT_URL when no round is due. */
  async signOutTo(req: Request, res: Response): Promise<string> {
    return (await this.applyWithProviderRound(req, res)) ?? this.config.login.afterLogoutUrl.href;
  }

  /**
   * The identities this browser left pending are no longer its, and its binding cookie goes; a session stays. The
   * cookie is what reaches them: once it is gone nobody at this browser can, so a database failure while their rows
   * are unbound is logged and the sign-out stands (the rows keep a hash no browser holds until they expire) — a
   * logout still goes on to end the provider's session.
   */
  async forgetHeldSignIns(req: Request, res: Response): Promise<void> {
    this.sessionCookie.noteLeft(res);
    const binding = this.binding.read(req);
    if (!binding) return;
    this.binding.clear(res);
    try {
      await this.pending.forgetBrowser(this.dataSource.manager, hashBinding(binding));
    } catch (error) {
      const fields = { requestId: requestIdOf(req), path: req.path };
      logFailure(this.logger, error, fields, 'forgetting the held sign-ins of a signed-out browser failed');
    }
  }
}
