import { equalInConstantTime } from '../common/constant-time.js';
import { Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import { InjectRootLogger } from '../common/logging/logger.module.js';
import type { AppConfig } from '../app/app.config.js';
import { InjectAppConfig } from '../config/config.module.js';
import type { IdentityProvider } from '../common/identity-providers.js';
import { LoginStarters } from './login-starters.js';
import { randomToken } from '../common/random-token.js';
import { hostCookieName, hostCookieOptions } from '../common/http/host-cookie.js';

/** Where the provider sends the browser back after ending its session (registered there as post_logout_redirect_uri). */
export const POST_LOGOUT_PATH = '/auth/logout/done';

/** How long a browser has to come back from the provider's sign-out page. */
const STATE_TTL_SECONDS = 600;

/**
 * RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): signing out of a shared PC also ends the provider's
 * single sign-on session, where the provider offers it — otherwise the next person who clicks "sign in" there is
 * answered silently with the previous person's sign-in.
 */
@Injectable()
export class ProviderLogout {
  private readonly cookieName: string;

  constructor(
    private readonly starters: LoginStarters,
    @InjectAppConfig() private readonly config: AppConfig,
    @InjectRootLogger() private readonly logger: Logger,
  ) {
    this.cookieName = hostCookieName('rmi_logout', config.session.cookieSecure);
  }

  /**
   * The provider's end-session URL for a session that just ended (its ID token as `id_token_hint`, our post-logout
   * page, a `state` this browser keeps in a cookie); null when the provider offers no logout or cannot be reached
   * — the session here has ended either way.
   */
  async start(provider: IdentityProvider, idTokenHint: string, res: Response): Promise<URL | null> {
    const logout = this.starters.get(provider)?.providerLogout;
    if (!logout) return null;
    const state = randomToken(24);
    let url: URL | null;
    try {
      url = await logout.endSessionUrl(
        idTokenHint,
        new URL(POST_LOGOUT_PATH, this.config.http.publicBaseUrl).href,
        state,
      );
    } catch (error) {
      this.logger.warn({ provider, err: error }, 'could not end the provider session: signed out here only');
      return null;
    }
    if (url) {
      res.cookie(this.cookieName, state, {
        ...hostCookieOptions(this.config.session.cookieSecure),
        maxAge: STATE_TTL_SECONDS * 1000,
      });
    }
    return url;
  }

  /**
   * The browser is back from the provider's sign-out page: whether it brought the `state` this browser was given.
   * The cookie is cleared either way.
   */
  finish(req: Request, presented: string | undefined, res: Response): boolean {
    const expected = (req.cookies as Record<string, unknown> | undefined)?.[this.cookieName];
    res.clearCookie(this.cookieName, hostCookieOptions(this.config.session.cookieSecure));
    return typeof expected === 'string' && equalInConstantTime(expected, presented);
  }
}
