import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import Provider, { type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import {
  logoutPages,
  postLogoutRedirectUris,
  promptsWithSelectAccount,
  SELECT_ACCOUNT_RESOLVED,
  signInSessions,
  type SignInSessionControls,
} from '../common/sign-in-sessions.js';
import { escape, homePage, readBody, sandboxPages, sendHtml } from '../common/pages.js';
import { subjectStore } from '../common/sandbox-state.js';
import { generateSigningKey } from '../digidentity/digidentity-sandbox.js';
import { memoryAdapterFactory } from '../digidentity/memory-adapter.js';
import { ITSME_PERSONAS, type ItsmePersona } from './personas.js';

/**
 * A local stand-in for itsme, built on the certified `oidc-provider` and configured like itsme
 * (docs/providers.md#itsme): issuer below `/v2`, client authentication by private_key_jwt only, PKCE required, the
 * authorization request only as a request object that is signed by the client **and** encrypted to the provider,
 * `service:<code>` in the scope, acr basic/advanced, and ID token and user-info signed by the provider then encrypted
 * to the client (nested JWTs, with the client's keys from its `jwks_uri`). A persona page stands in for the itsme app.
 * For development and tests only: it trusts whoever picks a persona.
 */
export interface ItsmeSandboxOptions {
  port?: number;
  host?: string;
  /** Callback URLs of the backend(s) that may use the sandbox. */
  redirectUris: string[];
  /** Where the client publishes its keys (the backend's /auth/itsme/jwks.json). */
  clientJwksUri: string;
  clientId?: string;
  serviceCode?: string;
  personas?: ItsmePersona[];
  /** Extra Koa middleware in front of the provider (paths as seen below the mount path, e.g. /token). */
  middleware?: Array<(ctx: KoaContextWithOIDC, next: () => Promise<void>) => Promise<void>>;
  /** Where re-created accounts' subjects are kept across restarts (see subjectStore); unset: in memory. */
  stateFile?: string;
  /** The portal's sign-in page, linked from the sandbox's home page. */
  portalUrl?: string;
}

export interface ItsmeSandbox {
  /** http://localhost:<port>/v2 */
  issuer: string;
  clientId: string;
  serviceCode: string;
  /** The settings that point a backend at this sandbox (our own keys come on top: ITSME_SIGNING_KEY, …). */
  backendSettings: Record<string, string>;
  personas: ItsmePersona[];
  provider: Provider;
  /** Its single sign-on sessions, and knobs that make it less kind (see SignInSessionControls). */
  signIns: SignInSessionControls;
  /** The provider's private keys (tests: forge what itsme would send). */
  signingKey: JWK;
  encryptionKey: JWK;
  /** Deletes and re-creates the persona's itsme account: a new `sub` from now on. Returns it. */
  recreateAccount(personaId: string): string;
  subjectOf(personaId: string): string;
  close(): Promise<void>;
}

export const ITSME_MOUNT_PATH = '/v2';
export const ITSME_NATIONAL_NUMBER = 'http://itsme.services/v2/claim/BENationalNumber';
const ACR_BASIC = 'http://itsme.services/v2/claim/acr_basic';
const ACR_ADVANCED = 'http://itsme.services/v2/claim/acr_advanced';

/**
 * Scope → claims as itsme releases them
 * (docs/providers.md#itsme-scopes-claims-and-authentication-levels).
 */
const ITSME_CLAIMS: Record<string, string[]> = {
  openid: ['sub'],
  profile: ['name', 'given_name', 'family_name', 'birthdate', 'gender', 'locale'],
  email: ['email', 'email_verified'],
  phone: ['phone_number', 'phone_number_verified'],
  address: ['address'],
  eid: [ITSME_NATIONAL_NUMBER],
};

/** Only these, as itsme: the client's own choice of algorithms is fixed at onboarding. */
const KEY_ALG = 'RSA-OAEP-256';
const CONTENT_ENC = 'A256GCM';

const { page, personaPage } = sandboxPages('SANDBOX — not itsme, not for production');

async function generateEncryptionKey(): Promise<JWK> {
  const { privateKey } = await generateKeyPair(KEY_ALG, { extractable: true, modulusLength: 2048 });
  const kid = `itsme-sandbox-enc-${randomBytes(4).toString('hex')}`;
  return { ...(await exportJWK(privateKey)), kid, alg: KEY_ALG, use: 'enc' };
}

export async function startItsmeSandbox(options: ItsmeSandboxOptions): Promise<ItsmeSandbox> {
  const host = options.host ?? '127.0.0.1';
  const personas = options.personas ?? ITSME_PERSONAS;
  const clientId = options.clientId ?? 'rmi-portal-itsme-sandbox';
  const serviceCode = options.serviceCode ?? 'RMI_PORTAL_SANDBOX';
  const signingKey = { ...(await generateSigningKey('RS256')), use: 'sig' };
  const encryptionKey = await generateEncryptionKey();

  const subjects = subjectStore(options.stateFile, 'itsme');
  const subjectOf = (personaId: string) => subjects.get(personaId) ?? personaId;
  const recreateAccount = (personaId: string): string => {
    if (!personas.some((p) => p.id === personaId)) throw new Error(`unknown persona ${personaId}`);
    const previous = subjectOf(personaId);
    const subject = `itsme-sub-${randomUUID()}`;
    subjects.set(personaId, subject);
    // The deleted account's single sign-on sessions end with it, as at the real provider.
    storage.forget('Session', (session) => session.accountId === previous);
    return subject;
  };

  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, host, resolve));
  const { port } = server.address() as AddressInfo;
  const origin = `http://${host === '127.0.0.1' ? 'localhost' : host}:${port}`;
  const issuer = `${origin}${ITSME_MOUNT_PATH}`;
  const interactionPrefix = `${ITSME_MOUNT_PATH}/interaction/`;

  const storage = memoryAdapterFactory();
  const configuration: Configuration = {
    adapter: storage.factory,
    clients: [
      {
        client_id: clientId,
        redirect_uris: options.redirectUris,
        ...postLogoutRedirectUris(options.redirectUris),
        response_types: ['code'],
        grant_types: ['authorization_code'],
        token_endpoint_auth_method: 'private_key_jwt',
        jwks_uri: options.clientJwksUri,
        require_signed_request_object: true,
        id_token_signed_response_alg: 'RS256',
        id_token_encrypted_response_alg: KEY_ALG,
        id_token_encrypted_response_enc: CONTENT_ENC,
        userinfo_signed_response_alg: 'RS256',
        userinfo_encrypted_response_alg: KEY_ALG,
        userinfo_encrypted_response_enc: CONTENT_ENC,
      },
    ],
    jwks: { keys: [signingKey, encryptionKey] as never },
    routes: {
      authorization: '/authorization',
      token: '/token',
      userinfo: '/userinfo',
      jwks: '/jwkSet',
      end_session: '/logout',
    },
    scopes: [...Object.keys(ITSME_CLAIMS), `service:${serviceCode}`],
    claims: ITSME_CLAIMS,
    acrValues: [ACR_BASIC, ACR_ADVANCED],
    clientAuthMethods: ['private_key_jwt'],
    findAccount: async (_ctx, id) => {
      const persona = personas.find((p) => subjectOf(p.id) === id);
      if (!persona) return undefined;
      return { accountId: id, claims: async () => ({ sub: id, ...persona.claims }) };
    },
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: logoutPages(page),
      userinfo: { enabled: true },
      jwtUserinfo: { enabled: true },
      encryption: { enabled: true },
      requestObjects: { enabled: true, requireSignedRequestObject: true },
      claimsParameter: { enabled: true },
    },
    enabledJWA: {
      idTokenSigningAlgValues: ['RS256'],
      userinfoSigningAlgValues: ['RS256'],
      requestObjectSigningAlgValues: ['RS256', 'PS256'],
      clientAuthSigningAlgValues: ['RS256', 'PS256'],
      requestObjectEncryptionAlgValues: ['RSA-OAEP', 'RSA-OAEP-256'],
      requestObjectEncryptionEncValues: ['A128CBC-HS256', 'A256CBC-HS512', 'A128GCM', 'A256GCM'],
      idTokenEncryptionAlgValues: [KEY_ALG],
      idTokenEncryptionEncValues: [CONTENT_ENC],
      userinfoEncryptionAlgValues: [KEY_ALG],
      userinfoEncryptionEncValues: [CONTENT_ENC],
    } as never,
    interactions: {
      policy: promptsWithSelectAccount(),
      url: (_ctx, interaction) => `${interactionPrefix}${interaction.uid}`,
    },
    // The client's JWKS is the backend's on localhost, which oidc-provider's SSRF guard (right for a real provider)
    // refuses: a local stand-in fetches it without the guard.
    fetch: (url, options) => {
      const { dispatcher: _guard, ...rest } = options as RequestInit & { dispatcher?: unknown };
      return globalThis.fetch(url, rest);
    },
    pkce: { required: () => true },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    // itsme's codes live 3 minutes (docs/providers.md#itsme-client-authentication-and-pkce).
    ttl: { AccessToken: 600, AuthorizationCode: 180, IdToken: 600, Interaction: 600, Session: 3600, Grant: 3600 },
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
  provider.on('server_error', (_ctx, error) => console.error('itsme sandbox error', error));
  // itsme accepts the authorization request only as a signed-then-encrypted request object
  // (docs/providers.md#itsme-request-object).
  provider.use(async (ctx, next) => {
    if (ctx.path === '/authorization') {
      const request =
        ctx.method === 'POST' ? (ctx.request as { body?: { request?: unknown } }).body?.request : ctx.query.request;
      if (typeof request !== 'string' || request.split('.').length !== 5) {
        ctx.status = 400;
        ctx.type = 'html';
        ctx.body = page(
          'Sandbox error',
          '<p>invalid_request_object: itsme accepts the request only as a signed, then encrypted request object</p>',
        );
        return;
      }
    }
    await next();
  });
  for (const middleware of options.middleware ?? []) provider.use(middleware);
  const callback = provider.callback();

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
      const acr = String(details.params.acr_values ?? '')
        .split(' ')
        .includes(ACR_ADVANCED)
        ? ACR_ADVANCED
        : ACR_BASIC;
      if (req.method === 'GET' && !interaction[2]) {
        if (!scopes.includes(`service:${serviceCode}`))
          return refuse(req, res, 'invalid_scope', `the scope must name the service: service:${serviceCode}`);
        const level = acr === ACR_ADVANCED ? 'itsme code required (advanced)' : 'fingerprint or itsme code (basic)';
        const intro = `<p>itsme: choose the person who confirms in the itsme app — ${escape(level)}.</p>`;
        const choices = personas.map((p) => ({ ...p, description: `${p.description} — sub ${subjectOf(p.id)}` }));
        return sendHtml(res, personaPage(choices, `${base}/login`, `${base}/abort`, 'Sign in with itsme', intro));
      }
      if (req.method === 'POST' && interaction[2] === '/abort') {
        return refuse(req, res, 'access_denied', 'the user cancelled the login');
      }
      if (req.method === 'POST' && interaction[2] === '/login') {
        const personaId = new URLSearchParams(await readBody(req)).get('persona') ?? '';
        if (!personas.some((p) => p.id === personaId))
          return sendHtml(res, page('Unknown persona', '<p>Pick a persona.</p>'), 400);
        const accountId = subjectOf(personaId);
        const grant = new provider.Grant({ accountId, clientId });
        grant.addOIDCScope(scopes.join(' '));
        const grantId = await grant.save();
        return provider.interactionFinished(
          req,
          res,
          { login: { accountId, acr }, consent: { grantId }, ...SELECT_ACCOUNT_RESOLVED },
          { mergeWithLastSubmission: false },
        );
      }
    }
    if (url.pathname === ITSME_MOUNT_PATH || url.pathname.startsWith(`${ITSME_MOUNT_PATH}/`)) {
      // Mounted under the issuer's path, as Express's app.use(path, …) would (see the iDIN sandbox).
      (req as IncomingMessage & { originalUrl?: string }).originalUrl = req.url;
      req.url = req.url!.slice(ITSME_MOUNT_PATH.length) || '/';
      return callback(req, res);
    }
    const home = homePage({
      page,
      name: 'itsme',
      endpoint: `Issuer: ${issuer}`,
      personas,
      subjectOf,
      recreateAccount,
      portalUrl: options.portalUrl,
    });
    if (await home(req, res, url)) return;
    return sendHtml(res, page('Not found', '<p>Nothing here.</p>'), 404);
  };
  server.on('request', (req, res) => {
    handle(req, res).catch((error: unknown) => {
      console.error('itsme sandbox', error);
      if (!res.headersSent)
        sendHtml(res, page('Sandbox error', `<p>${escape(String((error as Error).message))}</p>`), 400);
    });
  });

  return {
    issuer,
    clientId,
    serviceCode,
    backendSettings: {
      ITSME_ENABLED: 'true',
      ITSME_ISSUER: issuer,
      ITSME_CLIENT_ID: clientId,
      ITSME_SERVICE_CODE: serviceCode,
    },
    personas,
    provider,
    signIns,
    signingKey,
    encryptionKey,
    recreateAccount,
    subjectOf,
    close: () =>
      new Promise<void>((resolve) => {
        storage.stop();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
