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
  private readonly markerName: string;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly binding: BrowserBinding,
    private readonly sessionCookie: SessionCookie,
    private readonly pending: PendingIdentitiesRepository,
    @InjectRootLogger() private readonly logger: Logger,
    @InjectAppConfig() private readonly config: AppConfig,
  ) {
    this.markerName = config.session.cookieSecure ? '__Host-rmi_signed_out' : 'rmi_signed_out';
  }

  async apply(req: Request, res: Response): Promise<void> {
    this.sessionCookie.clear(res);
    await this.forgetHeldSignIns(req, res);
  }

  /**
   * The identities this browser left pending are no longer its, and its binding cookie goes; a session stays. The
   * cookie is what reaches them: once it is gone nobody at this browser can, so a database failure while their rows
   * are unbound is logged and the sign-out stands (the rows keep a hash no browser holds until they expire) — a
   * logout still goes on to end the provider's session.
   */
  async forgetHeldSignIns(req: Request, res: Response): Promise<void> {
    this.markSignedOut(res);
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

  /**
   * Whether someone signed out in this browser (or left a held sign-in) within LOGIN_MAX_AGE_SECONDS: the provider's
   * single sign-on sessions here may still be that person's — of every provider they used here, not only the one
   * whose session RP-initiated logout ends — so the next login must be a new sign-in (LoginIntent.afterSignOut).
   * Past LOGIN_MAX_AGE_SECONDS an ordinary login's `max_age` asks the provider for one anyway.
   */
  signedOutHere(req: Request): boolean {
    return (req.cookies as Record<string, unknown> | undefined)?.[this.markerName] === '1';
  }

  private markSignedOut(res: Response): void {
    res.cookie(this.markerName, '1', {
      httpOnly: true,
      secure: this.config.session.cookieSecure,
      sameSite: 'lax',
      path: '/',
      maxAge: this.config.login.maxAgeSeconds * 1000,
    });
  }
}
