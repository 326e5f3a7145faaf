import { equalInConstantTime } from '../common/constant-time.js';
import { Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import { InjectRootLogger } from '../common/logging/logger.module.js';
import type { AppConfig } from '../app/app.config.js';
import { InjectAppConfig } from '../config/config.module.js';
import { IDENTITY_PROVIDERS, type IdentityProvider } from '../common/identity-providers.js';
import { LoginStarters } from './login-starters.js';
import { providerReturnOf } from './provider-return.js';
import { randomToken } from '../common/random-token.js';
import { hostCookieName, hostCookieOptions } from '../common/http/host-cookie.js';

/** Where the provider sends the browser back after ending its session (registered there as post_logout_redirect_uri). */
export const POST_LOGOUT_PATH = '/auth/logout/done';

/** How long a browser has to come back from the provider's sign-out page. */
const STATE_TTL_SECONDS = 600;

/** A provider session to end: the ended session's own with its ID token, others this browser signed in at without. */
export interface ProviderSessionToEnd {
  provider: IdentityProvider;
  idTokenHint: string | null;
}

/** Where a sign-out round stands on the way back from a provider's sign-out page. */
export type ProviderSignOutReturn = { confirmed: true; visited: IdentityProvider } | { confirmed: false };

/**
 * RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): signing out of a shared PC also ends the providers'
 * single sign-on sessions, where they offer it — otherwise the next person who clicks "sign in" there is answered
 * silently with the previous person's sign-in. Not only the session's provider: every provider this browser came
 * back to us from (a callback of a login it started there, whatever its outcome: adding a login method, attaching or
 * holding an identity, a refusal) is noted in a cookie of its own, and the sign-out visits their sign-out pages one
 * after the other (each back at /auth/logout/done). A provider's note goes only when the browser comes back from its
 * sign-out page with the state it was given: a page left unconfirmed, or a provider unreachable at the time, is
 * visited again at the next sign-out. Only the session's own provider gets an `id_token_hint`; the others are asked
 * by `client_id`, as the specification allows.
 */
@Injectable()
export class ProviderLogout {
  private readonly stateCookieName: string;
  private readonly noteNames: ReadonlyMap<IdentityProvider, string>;

  constructor(
    private readonly starters: LoginStarters,
    @InjectAppConfig() private readonly config: AppConfig,
    @InjectRootLogger() private readonly logger: Logger,
  ) {
    this.stateCookieName = hostCookieName('rmi_logout', config.session.cookieSecure);
    this.noteNames = new Map(
      IDENTITY_PROVIDERS.map((provider) => [
        provider,
        hostCookieName(`rmi_signed_in_${provider}`, config.session.cookieSecure),
      ]),
    );
  }

  /**
   * After a callback, whether it signed in or was refused: if it was this browser's login (markProviderReturn), the
   * provider's single sign-on session there ends at the next sign-out too. Set anew at every return, so that the note
   * outlives the latest sign-in there.
   */
  noteReturn(req: Request, res: Response): void {
    const provider = providerReturnOf(req);
    if (!provider) return;
    res.cookie(this.noteNames.get(provider)!, '1', {
      ...hostCookieOptions(this.config.session.cookieSecure),
      maxAge: this.config.session.absoluteTimeoutSeconds * 1000,
    });
  }

  /**
   * The first provider sign-out page of a sign-out: the ended session's provider (null when there was no live
   * session), then the other providers this browser signed in at. Null when none of them offers a logout or can be
   * reached now — the sign-out here stands either way.
   */
  start(ended: ProviderSessionToEnd | null, req: Request, res: Response): Promise<URL | null> {
    const others = this.noted(req).filter((provider) => provider !== ended?.provider);
    return this.visitFirst(
      [...(ended ? [ended] : []), ...others.map((provider) => ({ provider, idTokenHint: null }))],
      res,
    );
  }

  /**
   * The browser is back from a provider's sign-out page: whether it brought the state it was given, and for which
   * provider — whose note then goes, with the state. A visit without that state (a second tab, a link from another
   * site) leaves both: the round goes on when the real answer comes back. The provider's answer says that the browser
   * came back, not that the person said yes on its page; the note goes either way.
   */
  finish(req: Request, presented: string | undefined, res: Response): ProviderSignOutReturn {
    const value = (req.cookies as Record<string, unknown> | undefined)?.[this.stateCookieName];
    const [state, visited] = typeof value === 'string' ? value.split(' ') : [];
    if (!state || !isProvider(visited) || !equalInConstantTime(state, presented)) return { confirmed: false };
    const options = hostCookieOptions(this.config.session.cookieSecure);
    res.clearCookie(this.stateCookieName, options);
    res.clearCookie(this.noteNames.get(visited)!, options);
    return { confirmed: true, visited };
  }

  /** After a confirmed return from `visited`: the next noted provider's sign-out page, or null when none is left. */
  next(req: Request, res: Response, visited: IdentityProvider): Promise<URL | null> {
    const rest = this.noted(req).filter((provider) => provider !== visited);
    return this.visitFirst(
      rest.map((provider) => ({ provider, idTokenHint: null })),
      res,
    );
  }

  private async visitFirst(steps: ProviderSessionToEnd[], res: Response): Promise<URL | null> {
    for (const step of steps) {
      const state = randomToken(24);
      const url = await this.endSessionUrl(step, state);
      if (!url) continue;
      res.cookie(this.stateCookieName, `${state} ${step.provider}`, {
        ...hostCookieOptions(this.config.session.cookieSecure),
        maxAge: STATE_TTL_SECONDS * 1000,
      });
      return url;
    }
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

  /** The providers this browser's notes name, in IDENTITY_PROVIDERS order. */
  private noted(req: Request): IdentityProvider[] {
    const cookies = (req.cookies as Record<string, unknown> | undefined) ?? {};
    return IDENTITY_PROVIDERS.filter((provider) => cookies[this.noteNames.get(provider)!] === '1');
  }
}

const isProvider = (name: string | undefined): name is IdentityProvider =>
  (IDENTITY_PROVIDERS as readonly string[]).includes(name ?? '');
