import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Request, Response } from 'express';
import { DataSource } from 'typeorm';
import { BrowserBinding, hashBinding } from '../login-transactions/browser-binding.js';
import { PendingIdentitiesRepository } from '../pending-identities/pending-identities.repository.js';
import { SessionCookie } from '../sessions/session-cookie.js';

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
  ) {}

  async apply(req: Request, res: Response): Promise<void> {
    this.sessionCookie.clear(res);
    await this.forgetHeldSignIns(req, res);
  }

  /**
   * The identities this browser left pending are no longer its, and its binding cookie goes; a session stays. The
   * cookies are cleared first: when the database fails after them, the answer (an error, "try again") still takes
   * them from the browser, and nobody at it can reach what it held any more.
   */
  async forgetHeldSignIns(req: Request, res: Response): Promise<void> {
    const binding = this.binding.read(req);
    if (!binding) return;
    this.binding.clear(res);
    await this.pending.forgetBrowser(this.dataSource.manager, hashBinding(binding));
  }
}
