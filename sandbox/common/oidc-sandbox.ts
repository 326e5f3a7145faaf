import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import type Provider from 'oidc-provider';
import type { ClientMetadata, Configuration, InteractionResults, KoaContextWithOIDC } from 'oidc-provider';
import type { MemoryStorage } from './memory-adapter.js';
import { escape, type PersonaChoice, readBody, type sandboxPages, sendHtml } from './pages.js';
import { subjectStore } from './sandbox-state.js';
import {
  logoutPages,
  postLogoutRedirectUris,
  promptsWithSelectAccount,
  SELECT_ACCOUNT_RESOLVED,
} from './sign-in-sessions.js';
import type { SandboxServer } from './sandbox-server.js';

/** Koa middleware a test puts in front of a sandbox provider (paths as seen below its mount path). */
export type ProviderMiddleware = (ctx: KoaContextWithOIDC, next: () => Promise<void>) => Promise<void>;

type Pages = ReturnType<typeof sandboxPages>;

/** A private signing JWK for a sandbox provider (RSA keys: 2048 bits). */
export async function generateSigningKey(
  alg = 'RS256',
  kid = `sandbox-${alg.toLowerCase()}-${randomBytes(4).toString('hex')}`,
): Promise<JWK> {
  const { privateKey } = await generateKeyPair(alg, {
    extractable: true,
    ...(alg.startsWith('RS') || alg.startsWith('PS') ? { modulusLength: 2048 } : {}),
  });
  return { ...(await exportJWK(privateKey)), kid, alg, use: 'sig' };
}

/**
 * What every OIDC sandbox configures alike: in-memory storage, no development interactions (the persona page stands
 * in for the provider's app), user-info, RP-initiated logout pages, the interaction URL below `interactionPrefix`,
 * short lifetimes, and errors on a sandbox page. A sandbox adds its clients, routes, scopes and claims, and extends
 * `features` with its own. Its cookies carry its `name`: the sandboxes all run on localhost, and browsers keep cookies
 * by host, not port — with oidc-provider's default names one sandbox's sign-in would replace another's single sign-on
 * session, where real providers, each on its own domain, keep both.
 */
export function oidcSandboxConfiguration(
  storage: MemoryStorage,
  page: Pages['page'],
  interactionPrefix: string,
  name: string,
): Configuration & { features: NonNullable<Configuration['features']> } {
  return {
    adapter: storage.factory,
    features: {
      devInteractions: { enabled: false },
      userinfo: { enabled: true },
      rpInitiatedLogout: logoutPages(page),
    },
    interactions: {
      policy: promptsWithSelectAccount(),
      url: (_ctx, interaction) => `${interactionPrefix}${interaction.uid}`,
    },
    cookies: {
      keys: [randomBytes(32).toString('base64url')],
      names: {
        session: `_${name}_session`,
        interaction: `_${name}_interaction`,
        resume: `_${name}_interaction_resume`,
      },
    },
    // Codes live 3 minutes, as itsme's (docs/providers.md#itsme-client-authentication-and-pkce).
    ttl: { AccessToken: 600, AuthorizationCode: 180, IdToken: 600, Interaction: 600, Session: 3600, Grant: 3600 },
    renderError: async (ctx, out) => {
      ctx.type = 'html';
      ctx.body = page(
        'Sandbox error',
        `<p>${escape(String(out.error))}: ${escape(String(out.error_description ?? ''))}</p>`,
      );
    },
  };
}

type InteractionDetails = Awaited<ReturnType<Provider['interactionDetails']>>;

/** The persona page of one interaction, or the OAuth error it is refused with (sent back to the relying party). */
export type PersonaPageChoice =
  { personas: PersonaChoice[]; heading?: string; intro?: string } | { refuse: { error: string; description: string } };

/** Where the persona interactions run: the provider, its one client, the interaction path and the page look. */
export interface InteractionSite {
  provider: Provider;
  clientId: string;
  /** Where the provider sends the browser to sign in: `<prefix><uid>`. */
  interactionPrefix: string;
  pages: Pages;
}

/** What a sandbox decides in its persona interactions. */
export interface PersonaRules {
  /** The persona page for this interaction (or a refusal). */
  show(details: InteractionDetails): PersonaPageChoice;
  /** The login for a chosen persona, or null when it cannot be chosen here. */
  login(details: InteractionDetails, personaId: string): { accountId: string; acr?: string } | null;
  /** The grant of a login (default: the requested scopes). */
  grant?(accountId: string, scope: string): Promise<string>;
}

/**
 * The interaction every OIDC sandbox runs in place of the provider's own sign-in: `GET <prefix><uid>` shows the
 * persona page, `POST …/abort` cancels (`access_denied`), `POST …/login` signs in as the chosen persona. Answers
 * true when it handled the request.
 */
export function personaInteractions(site: InteractionSite, options: PersonaRules) {
  const { provider, interactionPrefix, pages } = site;
  const finish = (req: IncomingMessage, res: ServerResponse, result: InteractionResults) =>
    provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
  const grant =
    options.grant ??
    (async (accountId: string, scope: string) => {
      const created = new provider.Grant({ accountId, clientId: site.clientId });
      created.addOIDCScope(scope);
      return created.save();
    });
  return async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> => {
    if (!url.pathname.startsWith(interactionPrefix)) return false;
    const interaction = /^([\w-]+)(\/login|\/abort)?$/.exec(url.pathname.slice(interactionPrefix.length));
    if (!interaction) return false;
    const details = await provider.interactionDetails(req, res);
    const base = `${interactionPrefix}${details.uid}`;
    if (req.method === 'GET' && !interaction[2]) {
      const choice = options.show(details);
      if ('refuse' in choice) {
        await finish(req, res, { error: choice.refuse.error, error_description: choice.refuse.description });
        return true;
      }
      const html = pages.personaPage(choice.personas, `${base}/login`, `${base}/abort`, choice.heading, choice.intro);
      sendHtml(res, html);
      return true;
    }
    if (req.method === 'POST' && interaction[2] === '/abort') {
      await finish(req, res, { error: 'access_denied', error_description: 'the user cancelled the login' });
      return true;
    }
    if (req.method === 'POST' && interaction[2] === '/login') {
      const personaId = new URLSearchParams(await readBody(req)).get('persona') ?? '';
      const login = options.login(details, personaId);
      if (!login) {
        sendHtml(res, pages.page('Unknown persona', '<p>Pick a persona.</p>'), 400);
        return true;
      }
      const grantId = await grant(login.accountId, String(details.params.scope ?? ''));
      await finish(req, res, { login, consent: { grantId }, ...SELECT_ACCOUNT_RESOLVED });
      return true;
    }
    return false;
  };
}

/**
 * The provider mounted under the issuer's path, as Express's app.use(path, …) would: oidc-provider reads the mount
 * path from originalUrl and builds every URL (discovery, resume, redirects) under it. Answers true when it handled
 * the request.
 */
export function mountedProvider(provider: Provider, mountPath: string) {
  const callback = provider.callback();
  return async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> => {
    if (url.pathname !== mountPath && !url.pathname.startsWith(`${mountPath}/`)) return false;
    (req as IncomingMessage & { originalUrl?: string }).originalUrl = req.url;
    req.url = req.url!.slice(mountPath.length) || '/';
    await callback(req, res);
    return true;
  };
}

/**
 * Sandbox accounts a person can delete and re-create, as at the real provider: a new subject each time, kept across
 * restarts in the state file (see subjectStore); the deleted account's single sign-on sessions end with it.
 */
export function recreatableAccounts(options: {
  stateFile: string | undefined;
  provider: string;
  personas: { id: string }[];
  storage: MemoryStorage;
  newSubject: () => string;
}) {
  const subjects = subjectStore(options.stateFile, options.provider);
  const subjectOf = (personaId: string) => subjects.get(personaId) ?? personaId;
  const recreateAccount = (personaId: string): string => {
    if (!options.personas.some((p) => p.id === personaId)) throw new Error(`unknown persona ${personaId}`);
    const previous = subjectOf(personaId);
    const subject = options.newSubject();
    subjects.set(personaId, subject);
    options.storage.forget('Session', (session) => session.accountId === previous);
    return subject;
  };
  return { subjects, subjectOf, recreateAccount };
}

/** The one client a sandbox knows, for the code flow: the backend's callbacks and its post-logout page. */
export function sandboxClient(
  clientId: string,
  redirectUris: string[],
  authentication: Omit<ClientMetadata, 'client_id'>,
): ClientMetadata {
  return {
    client_id: clientId,
    redirect_uris: redirectUris,
    ...postLogoutRedirectUris(redirectUris),
    response_types: ['code'],
    grant_types: ['authorization_code'],
    ...authentication,
  };
}

/** Client authentication with a secret in the Basic header, as Digidentity and Signicat use. */
export function clientSecretBasic(clientSecret: string): Omit<ClientMetadata, 'client_id'> {
  return { client_secret: clientSecret, token_endpoint_auth_method: 'client_secret_basic' };
}

/** Answers a request it handled with true. */
export type PageHandler = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<boolean>;

/**
 * Serves a sandbox: each request goes to the first handler that takes it, else to `fallback` (a 404 page when
 * none); a failed request is answered on an error page.
 */
export function serveSandbox(
  sandbox: SandboxServer,
  name: string,
  page: Pages['page'],
  handlers: PageHandler[],
  fallback?: (req: IncomingMessage, res: ServerResponse) => Promise<void> | void,
): void {
  sandbox.serve(
    name,
    async (req, res) => {
      const url = new URL(req.url ?? '/', sandbox.origin);
      for (const handler of handlers) if (await handler(req, res, url)) return;
      if (fallback) return fallback(req, res);
      sendHtml(res, page('Not found', '<p>Nothing here.</p>'), 404);
    },
    (res, error) => sendHtml(res, page('Sandbox error', `<p>${escape(String(error.message))}</p>`), 400),
  );
}
