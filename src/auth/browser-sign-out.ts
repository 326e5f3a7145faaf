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
    // First, so that the cookie of an ended session goes even when forgetting the held sign-ins fails.
    this.sessionCookie.clear(res);
    await this.forgetHeldSignIns(req, res);
  }

  /** The identities this browser left pending are no longer its, and its binding cookie goes; a session stays. */
  async forgetHeldSignIns(req: Request, res: Response): Promise<void> {
    const binding = this.binding.read(req);
    if (!binding) return;
    await this.pending.forgetBrowser(this.dataSource.manager, hashBinding(binding));
    this.binding.clear(res);
  }
}
