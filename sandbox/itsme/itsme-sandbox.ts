import { randomBytes, randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import Provider from 'oidc-provider';
import { memoryAdapterFactory } from '../common/memory-adapter.js';
import * as oidcSandbox from '../common/oidc-sandbox.js';
import type { ProviderMiddleware } from '../common/oidc-sandbox.js';
import { escape, homePage, sandboxPages } from '../common/pages.js';
import { listenSandbox } from '../common/sandbox-server.js';
import { signInSessions, type SignInSessionControls } from '../common/sign-in-sessions.js';
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
  middleware?: ProviderMiddleware[];
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

const pages = sandboxPages('SANDBOX — not itsme, not for production');
const { page } = pages;

async function generateEncryptionKey(): Promise<JWK> {
  const { privateKey } = await generateKeyPair(KEY_ALG, { extractable: true, modulusLength: 2048 });
  const kid = `itsme-sandbox-enc-${randomBytes(4).toString('hex')}`;
  return { ...(await exportJWK(privateKey)), kid, alg: KEY_ALG, use: 'enc' };
}

export async function startItsmeSandbox(options: ItsmeSandboxOptions): Promise<ItsmeSandbox> {
  const personas = options.personas ?? ITSME_PERSONAS;
  const clientId = options.clientId ?? 'rmi-portal-itsme-sandbox';
  const serviceCode = options.serviceCode ?? 'RMI_PORTAL_SANDBOX';
  const signingKey = { ...(await oidcSandbox.generateSigningKey('RS256')), use: 'sig' };
  const encryptionKey = await generateEncryptionKey();

  const sandbox = await listenSandbox(options.port, options.host);
  const issuer = `${sandbox.origin}${ITSME_MOUNT_PATH}`;
  const interactionPrefix = `${ITSME_MOUNT_PATH}/interaction/`;

  const storage = memoryAdapterFactory();
  const { subjectOf, recreateAccount } = oidcSandbox.recreatableAccounts({
    stateFile: options.stateFile,
    provider: 'itsme',
    personas,
    storage,
    newSubject: () => `itsme-sub-${randomUUID()}`,
  });
  const common = oidcSandbox.oidcSandboxConfiguration(storage, page, interactionPrefix, 'itsme');
  const provider = new Provider(issuer, {
    ...common,
    clients: [
      oidcSandbox.sandboxClient(clientId, options.redirectUris, {
        token_endpoint_auth_method: 'private_key_jwt',
        jwks_uri: options.clientJwksUri,
        require_signed_request_object: true,
        id_token_signed_response_alg: 'RS256',
        id_token_encrypted_response_alg: KEY_ALG,
        id_token_encrypted_response_enc: CONTENT_ENC,
        userinfo_signed_response_alg: 'RS256',
        userinfo_encrypted_response_alg: KEY_ALG,
        userinfo_encrypted_response_enc: CONTENT_ENC,
      }),
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
      ...common.features,
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
    // The client's JWKS is the backend's on localhost, which oidc-provider's SSRF guard (right for a real provider)
    // refuses: a local stand-in fetches it without the guard.
    fetch: (url, options) => {
      const { dispatcher: _guard, ...rest } = options as RequestInit & { dispatcher?: unknown };
      return globalThis.fetch(url, rest);
    },
    pkce: { required: () => true },
  });
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

  const interactions = oidcSandbox.personaInteractions(
    { provider, clientId, interactionPrefix, pages },
    {
      show: ({ params }) => {
        const scopes = String(params.scope ?? '').split(' ');
        if (!scopes.includes(`service:${serviceCode}`))
          return {
            refuse: { error: 'invalid_scope', description: `the scope must name the service: service:${serviceCode}` },
          };
        const level =
          acrOf(params) === ACR_ADVANCED ? 'itsme code required (advanced)' : 'fingerprint or itsme code (basic)';
        const intro = `<p>itsme: choose the person who confirms in the itsme app — ${escape(level)}.</p>`;
        const choices = personas.map((p) => ({ ...p, description: `${p.description} — sub ${subjectOf(p.id)}` }));
        return { personas: choices, heading: 'Sign in with itsme', intro };
      },
      login: ({ params }, personaId) =>
        personas.some((p) => p.id === personaId) ? { accountId: subjectOf(personaId), acr: acrOf(params) } : null,
    },
  );
  const mounted = oidcSandbox.mountedProvider(provider, ITSME_MOUNT_PATH);
  const home = homePage({
    page,
    name: 'itsme',
    endpoint: `Issuer: ${issuer}`,
    personas,
    subjectOf,
    recreateAccount,
    portalUrl: options.portalUrl,
  });
  oidcSandbox.serveSandbox(sandbox, 'itsme', page, [interactions, mounted, home]);

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
    close: () => sandbox.close(() => storage.stop()),
  };
}

/** The level the relying party asked for: advanced when it names it, basic otherwise. */
function acrOf(params: Record<string, unknown>): string {
  return String(params.acr_values ?? '')
    .split(' ')
    .includes(ACR_ADVANCED)
    ? ACR_ADVANCED
    : ACR_BASIC;
}
