import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { JWK } from 'jose';
import Provider, { type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import {
  logoutPages,
  postLogoutRedirectUris,
  promptsWithSelectAccount,
  SELECT_ACCOUNT_RESOLVED,
  signInSessions,
  type SignInSessionControls,
} from '../common/sign-in-sessions.js';
import { escape, publicPart, readBody, sandboxPages, sendHtml } from '../common/pages.js';
import { homePage } from '../common/pages.js';
import { generateSigningKey } from '../digidentity/digidentity-sandbox.js';
import { memoryAdapterFactory } from '../digidentity/memory-adapter.js';
import { IDIN_PERSONAS, type IdinPersona } from './personas.js';

/**
 * A local stand-in for Signicat's OIDC broker with iDIN, built on the certified `oidc-provider`: the issuer ends in
 * `/auth/open` like Signicat's (the provider is mounted under that path), iDIN is selected with `acr_values=idp:idin`
 * (optionally `idin_idp:<BIC>` to pre-select the bank), the iDIN scopes map to Signicat's claims
 * (docs/providers.md#idin-scopes-and-claims), the attributes come from user-info only, and the client authenticates
 * with client_secret_basic and may use PKCE. A persona page stands in for the bank. For development and tests only: it
 * trusts whoever picks a persona.
 */
export interface SignicatIdinSandboxOptions {
  port?: number;
  host?: string;
  /** Callback URLs of the backend(s) that may use the sandbox. */
  redirectUris: string[];
  clientId?: string;
  clientSecret?: string;
  personas?: IdinPersona[];
  /** Signing keys (private JWKs with kid and alg); one RS256 key is generated when omitted. */
  signingKeys?: JWK[];
  /** Extra Koa middleware in front of the provider (paths as seen below the mount path, e.g. /connect/token). */
  middleware?: Array<(ctx: KoaContextWithOIDC, next: () => Promise<void>) => Promise<void>>;
  /** The portal's sign-in page, linked from the sandbox's home page. */
  portalUrl?: string;
}

export interface SignicatIdinSandbox {
  /** http://localhost:<port>/auth/open */
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** The settings that point a backend at this sandbox as if it were the real provider. */
  backendSettings: Record<string, string>;
  personas: IdinPersona[];
  provider: Provider;
  /** Its single sign-on sessions, and knobs that make it less kind (see SignInSessionControls). */
  signIns: SignInSessionControls;
  signingKeys: JWK[];
  close(): Promise<void>;
}

/** Signicat's OIDC issuer path. */
export const SIGNICAT_MOUNT_PATH = '/auth/open';

/** Scope → claims, as Signicat maps them for iDIN (docs/providers.md#idin-scopes-and-claims); `idp_issuer` names the
 * identity provider used. */
const IDIN_CLAIMS: Record<string, string[]> = {
  openid: ['sub', 'idp_issuer'],
  'idp-id': ['idp_id'],
  profile: ['name', 'family_name'],
  'idin-name': [
    'initials',
    'idin_legal_last_name',
    'idin_legal_last_name_prefix',
    'idin_preferred_last_name',
    'idin_preferred_last_name_prefix',
    'idin_partner_last_name',
    'idin_partner_last_name_prefix',
  ],
  'eighteen-or-older': ['eighteen_or_older'],
  'date-of-birth': ['birthdate'],
};

const { page, personaPage } = sandboxPages('SANDBOX — not Signicat or iDIN, not for production');

export async function startSignicatIdinSandbox(options: SignicatIdinSandboxOptions): Promise<SignicatIdinSandbox> {
  const host = options.host ?? '127.0.0.1';
  const personas = options.personas ?? IDIN_PERSONAS;
  const clientId = options.clientId ?? 'rmi-portal-idin-sandbox';
  const clientSecret = options.clientSecret ?? randomBytes(24).toString('base64url');
  const signingKeys = options.signingKeys ?? [await generateSigningKey()];

  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, host, resolve));
  const { port } = server.address() as AddressInfo;
  const origin = `http://${host === '127.0.0.1' ? 'localhost' : host}:${port}`;
  const issuer = `${origin}${SIGNICAT_MOUNT_PATH}`;
  const interactionPrefix = `${SIGNICAT_MOUNT_PATH}/interaction/`;

  const storage = memoryAdapterFactory();
  const configuration: Configuration = {
    adapter: storage.factory,
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: options.redirectUris,
        ...postLogoutRedirectUris(options.redirectUris),
        response_types: ['code'],
        grant_types: ['authorization_code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    jwks: { keys: signingKeys as never },
    // Signicat's paths below /auth/open.
    routes: {
      authorization: '/connect/authorize',
      token: '/connect/token',
      userinfo: '/connect/userinfo',
      jwks: '/.well-known/openid-configuration/jwks',
      end_session: '/connect/endsession',
    },
    scopes: Object.keys(IDIN_CLAIMS),
    claims: IDIN_CLAIMS,
    acrValues: ['idp:idin'],
    findAccount: async (_ctx, id) => {
      const persona = personas.find((p) => p.id === id);
      if (!persona) return undefined;
      return { accountId: id, claims: async () => ({ sub: id, idp_issuer: 'idin', ...persona.claims }) };
    },
    features: {
      devInteractions: { enabled: false },
      userinfo: { enabled: true },
      rpInitiatedLogout: logoutPages(page),
    },
    interactions: {
      policy: promptsWithSelectAccount(),
      url: (_ctx, interaction) => `${interactionPrefix}${interaction.uid}`,
    },
    pkce: { required: () => false },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    ttl: { AccessToken: 600, AuthorizationCode: 180, IdToken: 600, Interaction: 600, Session: 3600, Grant: 3600 },
    enabledJWA: { idTokenSigningAlgValues: [...new Set(signingKeys.map((key) => key.alg!))] as never },
    // By default only user-info returns all claims (docs/providers.md#idin-scopes-and-claims): the ID token carries
    // the subject.
    conformIdTokenClaims: true,
    renderError: async (ctx, out) => {
      ctx.type = 'html';
      ctx.body = page(
        'Sandbox error',
        `<p>${escape(String(out.error))}: ${escape(String(out.error_description ?? ''))}</p>`,
      );
    },
  };
  const provider = new Provider(issuer, configuration);
  const signIns = signInSessions(provider, storage);
  provider.on('server_error', (_ctx, error) => console.error('signicat-idin sandbox error', error));
  for (const middleware of options.middleware ?? []) provider.use(middleware);
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.path === '/.well-known/openid-configuration/jwks' && ctx.status === 200)
      ctx.body = { keys: signingKeys.map(publicPart) };
  });
  const callback = provider.callback();

  /** Finishes the interaction with an OAuth error, sent back to the relying party's callback. */
  const refuse = (req: IncomingMessage, res: ServerResponse, error: string, description: string) =>
    provider.interactionFinished(
      req,
      res,
      { error, error_description: description },
      { mergeWithLastSubmission: false },
    );

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', origin);
    const interaction = url.pathname.startsWith(interactionPrefix)
      ? /^([\w-]+)(\/login|\/abort)?$/.exec(url.pathname.slice(interactionPrefix.length))
      : null;
    if (interaction) {
      const details = await provider.interactionDetails(req, res);
      const base = `${interactionPrefix}${details.uid}`;
      const scopes = String(details.params.scope ?? '').split(' ');
      const acrValues = String(details.params.acr_values ?? '').split(' ');
      const bank = acrValues.find((value) => value.startsWith('idin_idp:'))?.slice('idin_idp:'.length);
      const banked = bank ? personas.filter((p) => p.bankBic === bank) : personas;
      if (req.method === 'GET' && !interaction[2]) {
        // Checked on the page, as Signicat does before the person reaches the bank.
        if (!acrValues.includes('idp:idin'))
          return refuse(req, res, 'invalid_request', 'this sandbox offers iDIN only: acr_values must select idp:idin');
        if (scopes.includes('date-of-birth') && scopes.includes('eighteen-or-older'))
          return refuse(req, res, 'invalid_scope', 'date-of-birth and eighteen-or-older are mutually exclusive');
        const intro = `<p>iDIN: choose the person who signs in with their bank${
          bank ? ` (bank pre-selected: <strong>${escape(bank)}</strong>)` : ''
        }.</p>`;
        return sendHtml(res, personaPage(banked, `${base}/login`, `${base}/abort`, 'Sign in with iDIN', intro));
      }
      if (req.method === 'POST' && interaction[2] === '/abort') {
        return refuse(req, res, 'access_denied', 'the user cancelled the login');
      }
      if (req.method === 'POST' && interaction[2] === '/login') {
        const personaId = new URLSearchParams(await readBody(req)).get('persona') ?? '';
        if (!banked.some((p) => p.id === personaId))
          return sendHtml(res, page('Unknown persona', '<p>Pick a persona.</p>'), 400);
        const grant = new provider.Grant({ accountId: personaId, clientId });
        grant.addOIDCScope(scopes.join(' '));
        const grantId = await grant.save();
        return provider.interactionFinished(
          req,
          res,
          { login: { accountId: personaId, acr: 'idp:idin' }, consent: { grantId }, ...SELECT_ACCOUNT_RESOLVED },
          { mergeWithLastSubmission: false },
        );
      }
    }
    if (url.pathname === SIGNICAT_MOUNT_PATH || url.pathname.startsWith(`${SIGNICAT_MOUNT_PATH}/`)) {
      // Mounted under the issuer's path, as Express's app.use(path, …) would: oidc-provider reads the mount path
      // from originalUrl and builds every URL (discovery, resume, redirects) under it.
      (req as IncomingMessage & { originalUrl?: string }).originalUrl = req.url;
      req.url = req.url!.slice(SIGNICAT_MOUNT_PATH.length) || '/';
      return callback(req, res);
    }
    const home = homePage({
      page,
      name: 'Signicat iDIN',
      endpoint: `Issuer: ${issuer}`,
      personas,
      portalUrl: options.portalUrl,
    });
    if (await home(req, res, url)) return;
    return sendHtml(res, page('Not found', '<p>Nothing here.</p>'), 404);
  };
  server.on('request', (req, res) => {
    handle(req, res).catch((error: unknown) => {
      console.error('signicat-idin sandbox', error);
      if (!res.headersSent)
        sendHtml(res, page('Sandbox error', `<p>${escape(String((error as Error).message))}</p>`), 400);
    });
  });

  return {
    issuer,
    clientId,
    clientSecret,
    backendSettings: {
      SIGNICAT_IDIN_ENABLED: 'true',
      SIGNICAT_IDIN_ISSUER: issuer,
      SIGNICAT_IDIN_CLIENT_ID: clientId,
      SIGNICAT_IDIN_CLIENT_SECRET: clientSecret,
    },
    personas,
    provider,
    signIns,
    signingKeys,
    close: () =>
      new Promise<void>((resolve) => {
        storage.stop();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
