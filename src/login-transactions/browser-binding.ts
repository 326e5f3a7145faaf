import { createHash, randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { AppConfig } from '../config/app.config.js';
import { InjectAppConfig } from '../config/config.module.js';

export function hashBinding(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/**
 * Ties a started login to the browser that started it: a random value in an HttpOnly cookie, stored hashed on the
 * login transaction. A callback or poll from any other browser (a phished or leaked callback URL) is refused.
 * SameSite=Lax, so the cookie comes back on the provider's top-level redirect to the callback.
 */
@Injectable()
export class BrowserBinding {
  constructor(@InjectAppConfig() private readonly config: AppConfig) {}

  /** The browser's binding value; a new one (and its cookie) when it has none. */
  ensure(req: Request, res: Response): string {
    const value = this.read(req) ?? randomBytes(32).toString('base64url');
    this.keep(res, value, this.config.login.transactionTtlSeconds);
    return value;
  }

  /** (Re)sets the cookie to live `seconds` more, e.g. while a pending identity of this browser may be attached. */
  keep(res: Response, value: string, seconds: number): void {
    res.cookie(this.config.login.bindingCookieName, value, {
      httpOnly: true,
      secure: this.config.session.cookieSecure,
      sameSite: 'lax',
      path: '/',
      maxAge: seconds * 1000,
    });
  }

  /** Forgets the binding (sign-out): what it bound can no longer be used from this browser. */
  clear(res: Response): void {
    res.clearCookie(this.config.login.bindingCookieName, {
      httpOnly: true,
      secure: this.config.session.cookieSecure,
      sameSite: 'lax',
      path: '/',
    });
  }

  read(req: Request): string | undefined {
    const value = (req.cookies as Record<string, unknown> | undefined)?.[this.config.login.bindingCookieName];
    return typeof value === 'string' && /^[A-Za-z0-9_-]{43}$/.test(value) ? value : undefined;
  }
}
