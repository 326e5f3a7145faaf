import { Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { AppConfig } from '../app/app.config.js';
import { InjectAppConfig } from '../config/config.module.js';

@Injectable()
export class SessionCookie {
  constructor(@InjectAppConfig() private readonly config: AppConfig) {}

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
    res.cookie(this.config.session.cookieName, token, {
      httpOnly: true,
      secure: this.config.session.cookieSecure,
      sameSite: 'lax',
      path: '/',
    });
  }

  clear(res: Response): void {
    res.clearCookie(this.config.session.cookieName, {
      httpOnly: true,
      secure: this.config.session.cookieSecure,
      sameSite: 'lax',
      path: '/',
    });
  }
}
