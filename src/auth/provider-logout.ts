import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { equalInConstantTime } from '../common/constant-time.js';
import { logFailure } from '../common/logging/fault-log.js';
import { InjectRootLogger } from '../common/logging/logger.module.js';
import type { AppConfig } from '../app/app.config.js';
import { InjectAppConfig } from '../config/config.module.js';
import { IDENTITY_PROVIDERS, type IdentityProvider } from '../common/identity-providers.js';
import { LoginStarters } from './login-starters.js';
import { providerReturnOf } from './provider-return.js';
import { randomToken } from '../common/random-token.js';
import { safeReturnTo } from '../login-transactions/return-to.js';
import { hostCookieName, hostCookieOptions } from '../common/http/host-cookie.js';
import { SignOutHintsRepository, type SignOutHint } from '../login-transactions/sign-out-hints.repository.js';

/** Where the provider sends the browser back after ending its session (registered there as post_logout_redirect_uri). */
export const POST_LOGOUT_PATH = '/auth/logout/done';

/** How long a browser has to come back from the provider's sign-out page. */
const STATE_TTL_SECONDS = 600;

/** A provider session to end, with the ID token of the login that made it where one is kept. */
interface ProviderSessionToEnd {
  provider: IdentityProvider;
  idTokenHint: string | null;
}

/**
 * Where a sign-out round stands on the way back from a provider's sign-out page; `endsAt`: the page of ours the round
 * was started to end on (a path), instead of LOGOUT_REDIRECT_URL.
 */
export type ProviderSignOutReturn =
  { confirmed: true; visited: IdentityProvider; endsAt: string | null } | { confirmed: false };

/** A note's value: a handle to the login's kept ID token (SignOutHint), or `1` where none was kept. */
const HANDLE = /^[A-Za-z0-9_-]{32}$/;
const NO_HINT = '1';

interface ProviderNote {
  provider: IdentityProvider;
  handle: string | null;
}

/**
 * RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): signing out of a shared PC also ends the providers'
 * single sign-on sessions, where they offer it — otherwise the next person who clicks "sign in" there is answered
 * silently with the previous person's sign-in. Not only the session's provider: every provider this browser came
 * back to us from (a callback of a login it started there, whatever its outcome: adding a login method, attaching or
 * holding an identity, a refusal) is noted in a cookie of its own, and the sign-out visits their sign-out pages one
 * after the other (each back at /auth/logout/done). A provider's note goes only when the browser comes back from its
 * sign-out page with the state it was given: a page left unconfirmed, or a provider unreachable at the time, is
 * visited again at the next sign-out.
 *
 * Each visit carries the ID token of the browser's latest login there as `id_token_hint`: some providers send the
 * browser back to `post_logout_redirect_uri` only with one, and would end the round on their own page otherwise. The
 * note holds a random handle to that token, kept server-side (SignOutHintsRepository: an ID token is too large for
 * four cookies and names the person); where none is kept (the login never got one, the database lost it), the
 * provider is asked by `client_id`, as the specification allows.
 */
@Injectable()
export class ProviderLogout {
  private readonly stateCookieName: string;
  private readonly noteNames: ReadonlyMap<IdentityProvider, string>;

  constructor(
    private readonly starters: LoginStarters,
    private readonly hints: SignOutHintsRepository,
    @InjectDataSource() private readonly dataSource: DataSource,
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
   * For a callback that redeemed an ID token (markProviderIdToken): a new handle to keep it under, the same for the
   * rest of the request, and the handle the provider's note held before, whose token goes. Never the old handle
   * itself: a handle someone planted or copied from this browser's note would otherwise reach the next person's
   * token. Null for any other request.
   */
  signOutHint(req: Request): SignOutHint | null {
    const marked = providerReturnOf(req);
    if (!marked?.idToken) return null;
    marked.hint ??= {
      handle: randomToken(24),
      replaces: this.noteOf(req, marked.provider)?.handle ?? null,
      idToken: marked.idToken,
    };
    return marked.hint;
  }

  /**
   * After a callback, whether it signed in or was refused: if it was this browser's login (markProviderReturn), the
   * provider's single sign-on session there ends at the next sign-out too, with the login's ID token where it got
   * one. Set anew at every return, so that the note outlives the latest sign-in there. `tokenKept`: the login's
   * completion kept the token in its own transaction (LoginCompletionService); otherwise it is kept here, after the
   * answer is on its way (a refused login's page does not wait for the database), and a database failure keeps none
   * (the sign-out then asks by `client_id`) and fails nothing.
   */
  noteReturn(req: Request, res: Response, tokenKept = false): void {
    const marked = providerReturnOf(req);
    if (!marked) return;
    const { provider } = marked;
    const lifetimeSeconds = this.config.session.absoluteTimeoutSeconds;
    const hint = this.signOutHint(req);
    const kept = this.noteOf(req, provider)?.handle ?? null;
    let write: Promise<void> | undefined;
    if (hint) {
      if (!tokenKept) write = this.hints.keep(this.dataSource.manager, hint, provider, lifetimeSeconds);
    } else if (kept) {
      // A return without a token (refused before the token exchange): the earlier login's token lives as the note.
      write = this.hints.renew(this.dataSource.manager, kept, lifetimeSeconds);
    }
    write?.catch((error: unknown) =>
      logFailure(this.logger, error, { provider }, 'keeping the ID token for the provider sign-out failed'),
    );
    res.cookie(this.noteNames.get(provider)!, hint?.handle ?? kept ?? NO_HINT, {
      ...hostCookieOptions(this.config.session.cookieSecure),
      maxAge: lifetimeSeconds * 1000,
    });
  }

  /**
   * The first provider sign-out page of a sign-out: the ended session's provider (null when there was no live
   * session), then the other providers this browser signed in at. Null when none of them offers a logout or can be
   * reached now — the sign-out here stands either way. `endsAt`: a page of ours (a path) where the round ends instead
   * of LOGOUT_REDIRECT_URL, e.g. the notice of what the person asked for.
   */
  async start(
    ended: IdentityProvider | null,
    req: Request,
    res: Response,
    { endsAt = null }: { endsAt?: string | null } = {},
  ): Promise<URL | null> {
    // A provider without a note never answered a login of this browser (a QR login's is on the phone): not visited.
    const notes = this.noted(req);
    const own = notes.filter((note) => note.provider === ended);
    const steps = await this.withHints([...own, ...notes.filter((note) => note.provider !== ended)]);
    return this.visitFirst(steps, res, endsAt);
  }

  /**
   * The browser is back from a provider's sign-out page: whether it brought the state it was given, and for which
   * provider — whose note then goes, with the state and its kept ID token. A visit without that state (a second tab,
   * a link from another site) leaves both: the round goes on when the real answer comes back. The provider's answer
   * says that the browser came back, not that the person said yes on its page; the note goes either way.
   */
  async finish(req: Request, presented: string | undefined, res: Response): Promise<ProviderSignOutReturn> {
    const value = (req.cookies as Record<string, unknown> | undefined)?.[this.stateCookieName];
    const [state, visited, endsAt] = typeof value === 'string' ? value.split(' ') : [];
    if (!state || !isProvider(visited) || !equalInConstantTime(state, presented)) return { confirmed: false };
    const options = hostCookieOptions(this.config.session.cookieSecure);
    res.clearCookie(this.stateCookieName, options);
    res.clearCookie(this.noteNames.get(visited)!, options);
    const handle = this.noteOf(req, visited)?.handle;
    if (handle) {
      // Left behind, it expires with the note and is purged.
      await this.hints.forget(this.dataSource.manager, handle).catch((error: unknown) => {
        logFailure(this.logger, error, { provider: visited }, 'forgetting a sign-out ID token failed');
      });
    }
    // Only ever a path of ours: the cookie came back from the browser.
    const end = endsAt === undefined ? null : safeReturnTo(endsAt, this.config.http.publicBaseUrl);
    return { confirmed: true, visited, endsAt: end };
  }

  /**
   * After a confirmed return from `visited`: the next noted provider's sign-out page, or null when none is left; the
   * round still ends at `endsAt` (ProviderSignOutReturn).
   */
  async next(
    req: Request,
    res: Response,
    { visited, endsAt }: { visited: IdentityProvider; endsAt: string | null },
  ): Promise<URL | null> {
    const steps = await this.withHints(this.noted(req).filter((note) => note.provider !== visited));
    return this.visitFirst(steps, res, endsAt);
  }

  /**
   * The notes' kept ID tokens, those with one first: a provider asked by `client_id` alone may keep the browser on its
   * own page and end the round there. None when the database cannot say (the providers are then asked by
   * `client_id`).
   */
  private async withHints(notes: ProviderNote[]): Promise<ProviderSessionToEnd[]> {
    const handles = notes.filter(
      (note): note is { provider: IdentityProvider; handle: string } => note.handle !== null,
    );
    let kept = new Map<IdentityProvider, string>();
    try {
      kept = await this.hints.find(this.dataSource.manager, handles);
    } catch (error) {
      logFailure(this.logger, error, {}, 'reading the sign-out ID tokens failed: asking the providers by client_id');
    }
    const steps = notes.map(({ provider }) => ({ provider, idTokenHint: kept.get(provider) ?? null }));
    return [...steps.filter((step) => step.idTokenHint), ...steps.filter((step) => !step.idTokenHint)];
  }

  private async visitFirst(steps: ProviderSessionToEnd[], res: Response, endsAt: string | null): Promise<URL | null> {
    for (const step of steps) {
      const state = randomToken(24);
      const url = await this.endSessionUrl(step, state);
      if (!url) continue;
      res.cookie(this.stateCookieName, [state, step.provider, ...(endsAt ? [endsAt] : [])].join(' '), {
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

  /**
   * This browser's notes, in IDENTITY_PROVIDERS order — with the one a callback sets (noteReturn) already, so that a
   * sign-out this very callback causes (a link that replaced the session's own login) ends that provider's session
   * too, with the token just kept.
   */
  private noted(req: Request): ProviderNote[] {
    const returned = providerReturnOf(req);
    return IDENTITY_PROVIDERS.flatMap((provider) => {
      const note = this.noteOf(req, provider);
      if (returned?.provider !== provider) return note ?? [];
      return { provider, handle: this.signOutHint(req)?.handle ?? note?.handle ?? null };
    });
  }

  private noteOf(req: Request, provider: IdentityProvider): ProviderNote | undefined {
    const value = (req.cookies as Record<string, unknown> | undefined)?.[this.noteNames.get(provider)!];
    if (value === NO_HINT) return { provider, handle: null };
    return typeof value === 'string' && HANDLE.test(value) ? { provider, handle: value } : undefined;
  }
}

const isProvider = (name: string | undefined): name is IdentityProvider =>
  (IDENTITY_PROVIDERS as readonly string[]).includes(name ?? '');
