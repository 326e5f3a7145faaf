import { Injectable } from '@nestjs/common';
import type { CookieOptions, Request, Response } from 'express';
import type { AppConfig } from '../app/app.config.js';
import { InjectAppConfig } from '../config/config.module.js';
import { hostCookieName, hostCookieOptions } from '../common/http/host-cookie.js';

/**
 * The session cookie, and the note a browser keeps that someone left it lately (signed out, forgot a held sign-in,
 * or had a session end while the browser stood): while the note is there, its logins demand a new sign-in at the
 * provider (LoginIntent.afterSignOut), whose single sign-on session there may be that person's.
 */
@Injectable()
export class SessionCookie {
  private readonly leftNoteName: string;
  private readonly options: CookieOptions;

  constructor(@InjectAppConfig() private readonly config: AppConfig) {
    this.leftNoteName = hostCookieName('rmi_signed_out', config.session.cookieSecure);
    this.options = hostCookieOptions(config.session.cookieSecure);
  }

  read(req: Request): string | undefined {
    const value = (req.cookies as Record<string, unknown> | undefined)?.[this.config.session.cookieName];
    return typeof value === 'string' ? value : undefined;
  }

  /**
   * HttpOnly (scripts cannot read it), Secure, SameSite=Lax, host-only, and a browser-session cookie (no Max-Age or
   * Expires): closing the browser of a shared workshop PC ends it. The server's idle and absolute timeouts still
   * end the session itself.
   */
  set(res: Response, token: string): void {
    res.cookie(this.config.session.cookieName, token, this.options);
  }

  clear(res: Response): void {
    res.clearCookie(this.config.session.cookieName, this.options);
  }

  /** The browser of a session that ended without a sign-out here: the cookie goes, and the note that someone left. */
  clearEnded(res: Response): void {
    this.clear(res);
    this.noteLeft(res);
  }

  /** For LOGIN_MAX_AGE_SECONDS: past it an ordinary login's `max_age` asks the provider for a new sign-in anyway. */
  noteLeft(res: Response): void {
    res.cookie(this.leftNoteName, '1', { ...this.options, maxAge: this.config.login.maxAgeSeconds * 1000 });
  }

  leftHere(req: Request): boolean {
    return (req.cookies as Record<string, unknown> | undefined)?.[this.leftNoteName] === '1';
  }
}
