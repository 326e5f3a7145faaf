import { randomBytes } from 'node:crypto';
import type { JWK } from 'jose';
import Provider from 'oidc-provider';
import { memoryAdapterFactory } from '../common/memory-adapter.js';
import * as oidcSandbox from '../common/oidc-sandbox.js';
import type { ProviderMiddleware } from '../common/oidc-sandbox.js';
import { escape, homePage, publicPart, sandboxPages } from '../common/pages.js';
import { listenSandbox } from '../common/sandbox-server.js';
import { signInSessions, type SignInSessionControls } from '../common/sign-in-sessions.js';
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
  middleware?: ProviderMiddleware[];
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

const pages = sandboxPages('SANDBOX — not Signicat or iDIN, not for production');
const { page } = pages;

export async function startSignicatIdinSandbox(options: SignicatIdinSandboxOptions): Promise<SignicatIdinSandbox> {
  const personas = options.personas ?? IDIN_PERSONAS;
  const clientId = options.clientId ?? 'rmi-portal-idin-sandbox';
  const clientSecret = options.clientSecret ?? randomBytes(24).toString('base64url');
  const signingKeys = options.signingKeys ?? [await oidcSandbox.generateSigningKey()];

  const sandbox = await listenSandbox(options.port, options.host);
  const issuer = `${sandbox.origin}${SIGNICAT_MOUNT_PATH}`;
  const interactionPrefix = `${SIGNICAT_MOUNT_PATH}/interaction/`;

  const storage = memoryAdapterFactory();
  const common = oidcSandbox.oidcSandboxConfiguration(storage, page, interactionPrefix, 'idin');
  const provider = new Provider(issuer, {
    ...common,
    clients: [oidcSandbox.sandboxClient(clientId, options.redirectUris, oidcSandbox.clientSecretBasic(clientSecret))],
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
    pkce: { required: () => false },
    enabledJWA: { idTokenSigningAlgValues: [...new Set(signingKeys.map((key) => key.alg!))] as never },
    // By default only user-info returns all claims (docs/providers.md#idin-scopes-and-claims): the ID token carries
    // the subject.
    conformIdTokenClaims: true,
  });
  const signIns = signInSessions(provider, storage);
  provider.on('server_error', (_ctx, error) => console.error('signicat-idin sandbox error', error));
  for (const middleware of options.middleware ?? []) provider.use(middleware);
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.path === '/.well-known/openid-configuration/jwks' && ctx.status === 200)
      ctx.body = { keys: signingKeys.map(publicPart) };
  });

  /** The bank a request pre-selected (`idin_idp:<BIC>`), and the personas of that bank. */
  const request = (params: Record<string, unknown>) => {
    const acrValues = String(params.acr_values ?? '').split(' ');
    const bank = acrValues.find((value) => value.startsWith('idin_idp:'))?.slice('idin_idp:'.length);
    return { acrValues, bank, banked: bank ? personas.filter((p) => p.bankBic === bank) : personas };
  };
  const interactions = oidcSandbox.personaInteractions(
    { provider, clientId, interactionPrefix, pages },
    {
      show: ({ params }) => {
        const { acrValues, bank, banked } = request(params);
        const scopes = String(params.scope ?? '').split(' ');
        // Checked on the page, as Signicat does before the person reaches the bank.
        if (!acrValues.includes('idp:idin'))
          return {
            refuse: {
              error: 'invalid_request',
              description: 'this sandbox offers iDIN only: acr_values must select idp:idin',
            },
          };
        if (scopes.includes('date-of-birth') && scopes.includes('eighteen-or-older'))
          return {
            refuse: {
              error: 'invalid_scope',
              description: 'date-of-birth and eighteen-or-older are mutually exclusive',
            },
          };
        const intro = `<p>iDIN: choose the person who signs in with their bank${
          bank ? ` (bank pre-selected: <strong>${escape(bank)}</strong>)` : ''
        }.</p>`;
        return { personas: banked, heading: 'Sign in with iDIN', intro };
      },
      login: ({ params }, personaId) =>
        request(params).banked.some((p) => p.id === personaId) ? { accountId: personaId, acr: 'idp:idin' } : null,
    },
  );
  const mounted = oidcSandbox.mountedProvider(provider, SIGNICAT_MOUNT_PATH);
  const home = homePage({
    page,
    name: 'Signicat iDIN',
    endpoint: `Issuer: ${issuer}`,
    personas,
    portalUrl: options.portalUrl,
  });
  oidcSandbox.serveSandbox(sandbox, 'signicat-idin', page, [interactions, mounted, home]);

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
    close: () => sandbox.close(() => storage.stop()),
  };
}
