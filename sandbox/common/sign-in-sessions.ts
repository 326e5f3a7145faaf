import type Provider from 'oidc-provider';
import { decodeJwt } from 'jose';
import { interactionPolicy } from 'oidc-provider';
import type { ClientMetadata, Configuration, KoaContextWithOIDC } from 'oidc-provider';
import { POST_LOGOUT_PATH } from '../../src/auth/provider-logout.js';
import type { MemoryStorage } from './memory-adapter.js';

/**
 * How the OIDC sandboxes treat a person's sign-in, as real providers do: a single sign-on session that answers
 * later logins silently unless the relying party sends `prompt=login` or a `max_age` it has outlived; `auth_time`
 * in the ID token whenever `max_age` or `prompt=login` was sent; RP-initiated logout that ends the session, and sends
 * the browser back only when it named the sign-in with `id_token_hint`. All of it but the last is oidc-provider's own
 * behaviour; these controls let tests and developers make the provider less (or, for that last one, more) kind.
 */
export interface SignInSessionControls {
  /** false: ID tokens leave `auth_time` out (a provider that does not say when the person signed in). */
  reportAuthTime: boolean;
  /**
   * true: `prompt` and the value of `max_age` are ignored, so a live sign-in session always answers silently (and
   * still reports its `auth_time`, as `max_age` asks). Not inside request objects (itsme).
   */
  ignoreFreshnessRequests: boolean;
  /**
   * false (the default): a sign-out request without `id_token_hint`, or with one naming someone else than the person
   * signed in here, ends the session once the person confirms, then stays on the provider's own page instead of
   * going back to `post_logout_redirect_uri` — as IdentityServer-style providers do, which trust that address only
   * with a hint that names the sign-in. true: back with `client_id` alone, as oidc-provider.
   */
  returnWithoutIdTokenHint: boolean;
  /** Moves the sign-in behind every live single sign-on session this many seconds into the past. */
  ageSignIns(seconds: number): void;
}

/** The client registration the backend's RP-initiated logout needs: its post-logout page next to each callback. */
export function postLogoutRedirectUris(redirectUris: string[]): Pick<ClientMetadata, 'post_logout_redirect_uris'> {
  return {
    post_logout_redirect_uris: [...new Set(redirectUris.map((uri) => new URL(POST_LOGOUT_PATH, uri).href))],
  };
}

/** The provider's sign-out confirmation and success pages in the sandbox's own look (no external fonts). */
export function logoutPages(
  page: (title: string, body: string) => string,
): NonNullable<NonNullable<Configuration['features']>['rpInitiatedLogout']> {
  return {
    enabled: true,
    logoutSource: async (ctx, form) => {
      ctx.type = 'html';
      ctx.body = page(
        'Sign out',
        `<p>Sign out of this provider too? The next person at this computer then has to sign in themselves.</p>${form}
<button type="submit" form="op.logoutForm" name="logout" value="yes">Yes, sign me out</button>
<button type="submit" form="op.logoutForm">No, stay signed in</button>`,
      );
    },
    postLogoutSuccessSource: async (ctx) => {
      ctx.type = 'html';
      ctx.body = page('Signed out', '<p>You are signed out of this provider.</p>');
    },
  };
}

export function signInSessions(provider: Provider, storage: MemoryStorage): SignInSessionControls {
  const controls: SignInSessionControls = {
    reportAuthTime: true,
    ignoreFreshnessRequests: false,
    returnWithoutIdTokenHint: false,
    ageSignIns(seconds) {
      for (const session of storage.payloads('Session')) {
        if (typeof session.loginTs === 'number') session.loginTs -= seconds;
      }
    },
  };
  const IdToken = provider.IdToken as unknown as { prototype: { payload(): Promise<Record<string, unknown>> } };
  const payload = IdToken.prototype.payload;
  IdToken.prototype.payload = async function (this: unknown) {
    const claims = await payload.call(this);
    if (!controls.reportAuthTime) delete claims.auth_time;
    return claims;
  };
  const endSessionPath = provider.pathFor('end_session', { mountPath: '' });
  // As IdentityServer: the hint must name the person signed in here, if anyone is (oidc-provider checks only that
  // it is a token it issued to that client).
  const namesTheSignIn = async (ctx: KoaContextWithOIDC): Promise<boolean> => {
    const hint = ctx.query.id_token_hint;
    if (typeof hint !== 'string' || hint === '') return false;
    const { accountId } = await provider.Session.get(ctx);
    return !accountId || subjectOf(hint) === accountId;
  };
  provider.use(async (ctx: KoaContextWithOIDC, next) => {
    if (controls.ignoreFreshnessRequests && /\/authorize$/.test(ctx.path)) {
      editQuery(ctx, (query) => {
        query.delete('prompt');
        if (query.has('max_age')) query.set('max_age', String(10 * 365 * 24 * 3600));
      });
    }
    if (!controls.returnWithoutIdTokenHint && ctx.path === endSessionPath && !(await namesTheSignIn(ctx))) {
      editQuery(ctx, (query) => {
        query.delete('post_logout_redirect_uri');
        query.delete('state');
      });
    }
    await next();
  });
  return controls;
}

/** The `sub` an ID token names (unverified: oidc-provider verifies the hint itself). */
function subjectOf(idToken: string): string | undefined {
  try {
    return decodeJwt(idToken).sub;
  } catch {
    return undefined;
  }
}

/**
 * Rewrites a request's query on its way into the provider, keeping `originalUrl` in step: oidc-provider finds its
 * mount path by looking for the request's URL inside the original one.
 */
function editQuery(ctx: KoaContextWithOIDC, edit: (query: URLSearchParams) => void): void {
  const req = ctx.req as typeof ctx.req & { originalUrl?: string };
  const { originalUrl = ctx.url } = req;
  const mountPath = originalUrl.slice(0, originalUrl.indexOf(ctx.url));
  const query = new URLSearchParams(ctx.querystring);
  edit(query);
  ctx.querystring = query.toString();
  req.originalUrl = `${mountPath}${ctx.url}`;
}

/**
 * oidc-provider's prompts plus `select_account`: the persona page is shown even while a single sign-on session
 * exists, as "sign in as someone else" asks (prompt=login is built in). The persona page's answer resolves it.
 */
export function promptsWithSelectAccount(): ReturnType<typeof interactionPolicy.base> {
  const policy = interactionPolicy.base();
  policy.add(new interactionPolicy.Prompt({ name: 'select_account', requestable: true }), 0);
  return policy;
}

/** What an interaction's persona choice resolves besides the login itself. */
export const SELECT_ACCOUNT_RESOLVED = { select_account: {} };
