import { equalInConstantTime } from '../common/constant-time.js';
import { Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import { InjectRootLogger } from '../common/logging/logger.module.js';
import type { AppConfig } from '../app/app.config.js';
import { InjectAppConfig } from '../config/config.module.js';
import { IDENTITY_PROVIDERS, type IdentityProvider } from '../common/identity-providers.js';
import { LoginStarters } from './login-starters.js';
import { randomToken } from '../common/random-token.js';
import { hostCookieName, hostCookieOptions } from '../common/http/host-cookie.js';

/** Where the provider sends the browser back after ending its session (registered there as post_logout_redirect_uri). */
export const POST_LOGOUT_PATH = '/auth/logout/done';

/** How long a browser has to come back from the provider's sign-out page. */
const STATE_TTL_SECONDS = 600;

/** A provider session to end: the ended session's own comes with its ID token; others this browser signed in at without. */
export interface ProviderSessionToEnd {
  provider: IdentityProvider;
  idTokenHint: string | null;
}

/**
 * RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): signing out of a shared PC also ends the providers'
 * single sign-on sessions, where they offer it — otherwise the next person who clicks "sign in" there is answered
 * silently with the previous person's sign-in. Not only the session's provider: every provider this browser came
 * back from since its last sign-out (adding a login method, attaching or holding an identity) is noted in a cookie,
 * and the sign-out visits their sign-out pages one after the other (each back at /auth/logout/done). Only the
 * session's own provider gets an `id_token_hint`; the others are asked by `client_id`, as the specification allows.
 */
@Injectable()
export class ProviderLogout {
  private readonly cookieName: string;
  private readonly signInsCookieName: string;

  constructor(
    private readonly starters: LoginStarters,
    @InjectAppConfig() private readonly config: AppConfig,
    @InjectRootLogger() private readonly logger: Logger,
  ) {
    this.cookieName = hostCookieName('rmi_logout', config.session.cookieSecure);
    this.signInsCookieName = hostCookieName('rmi_provider_sign_ins', config.session.cookieSecure);
  }

  /** This browser came back from `provider`: its single sign-on session there ends at the next sign-out too. */
  noteSignIn(req: Request, res: Response, provider: IdentityProvider): void {
    const noted = this.signedInAt(req);
    if (noted.includes(provider)) return;
    res.cookie(this.signInsCookieName, [...noted, provider].join(' '), {
      ...hostCookieOptions(this.config.session.cookieSecure),
      maxAge: this.config.session.absoluteTimeoutSeconds * 1000,
    });
  }

  /**
   * The first provider sign-out page of a sign-out: the ended session's provider (null when there was no live
   * session), then the other providers this browser signed in at. The rest wait in the cookie for /auth/logout/done
   * (next). Null when none of them offers a logout or can be reached — the sign-out here stands either way.
   */
  async start(ended: ProviderSessionToEnd | null, req: Request, res: Response): Promise<URL | null> {
    const others = this.signedInAt(req).filter((provider) => provider !== ended?.provider);
    const steps = [...(ended ? [ended] : []), ...others.map((provider) => ({ provider, idTokenHint: null }))];
    return this.visitFirst(steps, res);
  }

  /**
   * The browser is back from a provider's sign-out page: whether it brought the `state` this browser was given.
   * The state cookie is cleared either way.
   */
  finish(req: Request, presented: string | undefined, res: Response): boolean {
    const expected = (req.cookies as Record<string, unknown> | undefined)?.[this.cookieName];
    res.clearCookie(this.cookieName, hostCookieOptions(this.config.session.cookieSecure));
    return typeof expected === 'string' && equalInConstantTime(expected, presented);
  }

  /** The next provider's sign-out page of a sign-out under way, or null when none is left. */
  next(req: Request, res: Response): Promise<URL | null> {
    return this.visitFirst(
      this.signedInAt(req).map((provider) => ({ provider, idTokenHint: null })),
      res,
    );
  }

  private async visitFirst(steps: ProviderSessionToEnd[], res: Response): Promise<URL | null> {
    for (const [index, step] of steps.entries()) {
      const state = randomToken(24);
      const url = await this.endSessionUrl(step, state);
      if (!url) continue;
      const options = hostCookieOptions(this.config.session.cookieSecure);
      res.cookie(this.cookieName, state, { ...options, maxAge: STATE_TTL_SECONDS * 1000 });
      const rest = steps.slice(index + 1).map((later) => later.provider);
      if (rest.length > 0)
        res.cookie(this.signInsCookieName, rest.join(' '), { ...options, maxAge: STATE_TTL_SECONDS * 1000 });
      else res.clearCookie(this.signInsCookieName, options);
      return url;
    }
    res.clearCookie(this.signInsCookieName, hostCookieOptions(this.config.session.cookieSecure));
    return null;
  }

  private async endSessionUrl({ provider, idTokenHint }: ProviderSessionToEnd, state: string): Promise<URL | null> {
    const logout = this.starters.get(provider)?.providerLogout;
    if (!logout) return null;
    try {
      return await logout.endSessionUrl(
        idTokenHint,
        new URL(POST_LOGOUT_PATH, this.config.http.publicBaseUrl).href,
        state,
      );
    } catch (error) {
      this.logger.warn({ provider, err: error }, 'could not end the provider session: signed out here only');
      return null;
    }
  }

  /** The providers noted in this browser's cookie (known names only, each once). */
  private signedInAt(req: Request): IdentityProvider[] {
    const value = (req.cookies as Record<string, unknown> | undefined)?.[this.signInsCookieName];
    if (typeof value !== 'string') return [];
    const named = value
      .split(' ')
      .filter((name): name is IdentityProvider => (IDENTITY_PROVIDERS as readonly string[]).includes(name));
    return [...new Set(named)];
  }
}
