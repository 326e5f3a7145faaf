import { createHmac, hash, timingSafeEqual } from 'node:crypto';
import { Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Request, Response } from 'express';
import { DataSource } from 'typeorm';
import type { AppConfig } from '../app/app.config.js';
import { InjectAppConfig } from '../config/config.module.js';
import { sharedSecret } from '../database/server-secrets.js';
import { randomToken } from '../common/random-token.js';
import { hostCookieOptions } from '../common/http/host-cookie.js';

/** A passwordless (QR) login may take this long, whatever LOGIN_TRANSACTION_TTL_SECONDS says. */
export const PASSWORDLESS_LOGIN_TTL_SECONDS = 300;

const MINTED = /^([A-Za-z0-9_-]{43})\.([A-Za-z0-9_-]{43})$/;

export function hashBinding(value: string): Buffer {
  return hash('sha256', value, 'buffer');
}

/**
 * Ties a started login to the browser that started it: a random value in an HttpOnly cookie, stored hashed on the
 * login transaction. A callback or poll from any other browser (a phished or leaked callback URL) is refused.
 * SameSite=Lax, so the cookie comes back on the provider's top-level redirect to the callback.
 *
 * The value carries an HMAC of itself under a key every instance shares (LOGIN_BINDING_KEY, else one kept in the
 * database), so only values this portal minted count: a value chosen by someone else (planted, guessed, made up)
 * reads as no binding and is replaced by the next login start, on whichever instance.
 */
@Injectable()
export class BrowserBinding implements OnModuleInit {
  private key?: Buffer;
  private readonly checked = new WeakMap<Request, { value: string; minted: boolean }>();

  constructor(
    @InjectAppConfig() private readonly config: AppConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  async onModuleInit(): Promise<void> {
    this.key = this.config.login.bindingKey ?? (await sharedSecret(this.dataSource.manager, 'login_binding'));
  }

  /** How long the cookie lives from a login start: as long as the longest login it may have to complete. */
  get lifetimeSeconds(): number {
    return Math.max(this.config.login.transactionTtlSeconds, PASSWORDLESS_LOGIN_TTL_SECONDS);
  }

  /**
   * For a login start: the browser's binding value if this portal minted it, otherwise a new one (and its cookie);
   * `browserBindingIsNew` when it is new, so that no login of this browser can be open yet.
   */
  ensure(req: Request, res: Response): { browserBinding: string; browserBindingIsNew: boolean } {
    const existing = this.read(req);
    const browserBinding = existing ?? this.mint();
    this.keep(res, browserBinding, 0);
    return { browserBinding, browserBindingIsNew: existing === undefined };
  }

  /**
   * (Re)sets the cookie to live `seconds` more, e.g. while a pending identity of this browser may be attached — never
   * less than a login started in this browser may still need.
   */
  keep(res: Response, value: string, seconds: number): void {
    res.cookie(this.config.login.bindingCookieName, value, {
      ...hostCookieOptions(this.config.session.cookieSecure),
      maxAge: Math.max(seconds, this.lifetimeSeconds) * 1000,
    });
  }

  /** Forgets the binding (sign-out): what it bound can no longer be used from this browser. */
  clear(res: Response): void {
    res.clearCookie(this.config.login.bindingCookieName, hostCookieOptions(this.config.session.cookieSecure));
  }

  /**
   * The browser's binding value, only if this portal minted it. Checked once per request: a login callback reads it
   * in the Passport strategy and again where the login completes.
   */
  read(req: Request): string | undefined {
    const value = (req.cookies as Record<string, unknown> | undefined)?.[this.config.login.bindingCookieName];
    if (typeof value !== 'string') return undefined;
    const checked = this.checked.get(req);
    if (checked?.value === value) return checked.minted ? value : undefined;
    const parts = MINTED.exec(value);
    // Compared as text: a base64url string has variants that decode to the same bytes; only the minted one counts.
    const minted =
      parts !== null && timingSafeEqual(Buffer.from(parts[2]), Buffer.from(this.mac(parts[1]).toString('base64url')));
    this.checked.set(req, { value, minted });
    return minted ? value : undefined;
  }

  private mint(): string {
    const nonce = randomToken();
    return `${nonce}.${this.mac(nonce).toString('base64url')}`;
  }

  private mac(nonce: string): Buffer {
    if (!this.key) throw new Error('BrowserBinding used before its key was loaded');
    return createHmac('sha256', this.key).update(`rmi-login-binding:${nonce}`).digest();
  }
}
