import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { JWK } from 'jose';
import Provider, { type KoaContextWithOIDC } from 'oidc-provider';
import { memoryAdapterFactory } from '../common/memory-adapter.js';
import * as oidcSandbox from '../common/oidc-sandbox.js';
import type { ProviderMiddleware } from '../common/oidc-sandbox.js';
import { homePage, publicPart, readBody, sandboxPages, sendHtml } from '../common/pages.js';
import { listenSandbox } from '../common/sandbox-server.js';
import { signInSessions, type SignInSessionControls } from '../common/sign-in-sessions.js';
import { PERSONAS, type Persona } from './personas.js';

/**
 * A local stand-in for Digidentity, the SERMI Trust Centre, built on the certified `oidc-provider`: Digidentity's
 * paths (/oauth2/authorize, /oauth2/token, /oauth2/user_info.json), the `sermi` scope and claims, and the
 * passwordless QR login (GET /oauth2/authorize.json, then token polling that answers `login_pending` until the
 * persona confirms and `session_not_found` once the QR expired). A persona page stands in for the Digidentity
 * app. For development and tests only: it trusts whoever picks a persona.
 */
export interface DigidentitySandboxOptions {
  port?: number;
  host?: string;
  /** Callback URLs of the backend(s) that may use the sandbox. */
  redirectUris: string[];
  clientId?: string;
  clientSecret?: string;
  productScope?: string;
  personas?: Persona[];
  /** Signing keys (private JWKs with kid and alg); one RS256 key is generated when omitted. */
  signingKeys?: JWK[];
  passwordlessTtlSeconds?: number;
  /** Extra Koa middleware in front of the provider (the hostile test provider corrupts responses with it). */
  middleware?: ProviderMiddleware[];
  /** Where re-created accounts' subjects are kept across restarts (see subjectStore); unset: in memory. */
  stateFile?: string;
  /** The portal's sign-in page, linked from the sandbox's home page. */
  portalUrl?: string;
}

export interface DigidentitySandbox {
  issuer: string;
  clientId: string;
  clientSecret: string;
  productScope: string;
  /** The settings that point a backend at this sandbox as if it were the real provider. */
  backendSettings: Record<string, string>;
  personas: Persona[];
  provider: Provider;
  /** Its single sign-on sessions, and knobs that make it less kind (see SignInSessionControls). */
  signIns: SignInSessionControls;
  signingKeys: JWK[];
  /** What the JWKS endpoint publishes (public parts); starts as the signing keys. Tests rotate keys through it. */
  publishedKeys: JWK[];
  /** Confirms the passwordless login behind a scanned QR code as the persona, as the app would after the PIN. */
  confirmPasswordless(scanId: string, personaId: string): Promise<boolean>;
  /**
   * The person deletes their account at the provider and creates a new one: same person (same SERMI UIDs), new
   * `sub`. Returns the new subject. Also over HTTP: POST /sandbox/personas/{id}/recreate.
   */
  recreateAccount(personaId: string): string;
  /** Gives the persona a chosen subject (tests: an old subject signing in again). */
  setSubject(personaId: string, subject: string): void;
  subjectOf(personaId: string): string;
  /** Lets a passwordless QR code time out at the provider. */
  expirePasswordless(scanId: string): void;
  /** Rewrites the QR code URI the provider hands out (tests: a provider that hands out an unusable one). */
  qrCodeUri: (uri: string) => string;
  /** The authorisation code behind a QR code (tests check that it never reaches the browser). */
  codeForScan(scanId: string): string | undefined;
  /** How many passwordless starts (GET /oauth2/authorize.json) reached the sandbox (tests: refused ones do not). */
  passwordlessStarts(): number;
  close(): Promise<void>;
}

interface PasswordlessSession {
  clientId: string;
  scope: string;
  expiresAt: number;
  confirmedAs?: string;
}

const SERMI_CLAIMS = ['cabuid', 'iouid', 'ioeuid', 'rssuid', 'rsseuid'];

const pages = sandboxPages('SANDBOX — not Digidentity, not for production');
const { page, personaPage } = pages;

export async function startDigidentitySandbox(options: DigidentitySandboxOptions): Promise<DigidentitySandbox> {
  const personas = options.personas ?? PERSONAS;
  const clientId = options.clientId ?? 'rmi-portal-sandbox';
  const clientSecret = options.clientSecret ?? randomBytes(24).toString('base64url');
  const productScope = options.productScope ?? 'sandboxproduct01';
  const signingKeys = options.signingKeys ?? [await oidcSandbox.generateSigningKey()];
  const passwordlessTtlMs = (options.passwordlessTtlSeconds ?? 120) * 1000;
  const passwordless = new Map<string, PasswordlessSession>();
  // The QR code carries its own id, not the authorisation code: only the relying party's backend sees the code.
  const scans = new Map<string, string>();
  const publishedKeys = [...signingKeys];
  const sandbox = await listenSandbox(options.port, options.host);
  const issuer = sandbox.origin;

  const storage = memoryAdapterFactory();
  const { subjects, subjectOf, recreateAccount } = oidcSandbox.recreatableAccounts({
    stateFile: options.stateFile,
    provider: 'digidentity',
    personas,
    storage,
    newSubject: () => randomUUID(),
  });
  const common = oidcSandbox.oidcSandboxConfiguration(storage, page, '/interaction/', 'digidentity');
  const provider = new Provider(issuer, {
    ...common,
    clients: [oidcSandbox.sandboxClient(clientId, options.redirectUris, oidcSandbox.clientSecretBasic(clientSecret))],
    jwks: { keys: signingKeys as never },
    routes: {
      authorization: '/oauth2/authorize',
      token: '/oauth2/token',
      userinfo: '/oauth2/user_info.json',
      jwks: '/oauth2/jwks',
      end_session: '/oauth2/logout',
    },
    scopes: ['openid', 'sermi', productScope],
    claims: { openid: ['sub'], sermi: SERMI_CLAIMS },
    // The account id is the persona's current subject: after a re-creation the old one no longer exists here.
    findAccount: async (_ctx, id) => {
      const persona = personas.find((p) => subjectOf(p.id) === id);
      if (!persona) return undefined;
      return { accountId: id, claims: async () => ({ sub: id, ...persona.claims }) };
    },
    pkce: { required: () => false },
    enabledJWA: { idTokenSigningAlgValues: [...new Set(signingKeys.map((key) => key.alg!))] as never },
    // The SERMI UIDs come from user_info.json only, as at Digidentity.
    conformIdTokenClaims: true,
  });
  const signIns = signInSessions(provider, storage);
  provider.on('server_error', (_ctx, error) => console.error('digidentity sandbox error', error));

  for (const middleware of options.middleware ?? []) provider.use(middleware);
  provider.use(passwordlessTokenAnswers(passwordless));
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.path === '/oauth2/jwks' && ctx.status === 200) ctx.body = { keys: publishedKeys.map(publicPart) };
  });

  async function grantFor(accountId: string, scope: string): Promise<string> {
    const grant = new provider.Grant({ accountId, clientId });
    grant.addOIDCScope(scope);
    grant.addOIDCClaims(['sub', ...SERMI_CLAIMS]);
    return grant.save();
  }

  const confirmPasswordless = async (scanId: string, personaId: string): Promise<boolean> => {
    const code = scans.get(scanId) ?? '';
    const session = passwordless.get(code);
    if (!session || session.expiresAt < Date.now() || session.confirmedAs || !personas.some((p) => p.id === personaId))
      return false;
    session.confirmedAs = personaId;
    // Minting the authorisation code under the passwordless id makes the token endpoint redeem it like any other.
    const grantId = await grantFor(subjectOf(personaId), session.scope);
    await new provider.AuthorizationCode({
      jti: code,
      accountId: subjectOf(personaId),
      grantId,
      client: { clientId } as never,
      scope: session.scope,
      redirectUri: options.redirectUris[0],
      authTime: Math.floor(Date.now() / 1000),
    } as never).save();
    return true;
  };

  let passwordlessStarts = 0;
  const interactions = oidcSandbox.personaInteractions(
    { provider, clientId, interactionPrefix: '/interaction/', pages },
    {
      show: () => ({ personas }),
      login: (_details, personaId) =>
        personas.some((p) => p.id === personaId) ? { accountId: subjectOf(personaId) } : null,
      grant: grantFor,
    },
  );
  /** The passwordless QR login: its start (authorize.json) and the page the QR code opens. */
  const passwordlessPages = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> => {
    if (req.method === 'GET' && url.pathname === '/oauth2/authorize.json') {
      passwordlessStarts += 1;
      const scope = url.searchParams.get('scope') ?? '';
      if (
        url.searchParams.get('client_id') !== clientId ||
        url.searchParams.get('response_type') !== 'code' ||
        !scope.split(' ').includes('openid')
      ) {
        sendJson(res, { errors: [{ title: 'invalid passwordless request' }] }, 400);
        return true;
      }
      const code = `PLS-${randomUUID()}`;
      const scanId = randomBytes(16).toString('base64url');
      passwordless.set(code, { clientId, scope, expiresAt: Date.now() + passwordlessTtlMs });
      scans.set(scanId, code);
      sendJson(res, {
        data: {
          id: code,
          type: 'passwordless_login_session',
          attributes: { type: 'qr_code', qr_code_uri: running.qrCodeUri(`${issuer}/passwordless/${scanId}`) },
        },
      });
      return true;
    }
    const scan = /^\/passwordless\/([\w-]+)(\/confirm)?$/.exec(url.pathname);
    if (scan) {
      const scanId = scan[1];
      if (req.method === 'GET' && !scan[2]) {
        sendHtml(res, personaPage(personas, `/passwordless/${scanId}/confirm`, null, 'Confirm with your PIN'));
        return true;
      }
      if (req.method === 'POST' && scan[2]) {
        const personaId = new URLSearchParams(await readBody(req)).get('persona') ?? '';
        const confirmed = await confirmPasswordless(scanId, personaId);
        sendHtml(
          res,
          page(
            confirmed ? 'Confirmed' : 'Not confirmed',
            confirmed
              ? '<p>Go back to the portal: it signs you in.</p>'
              : '<p>This QR code has expired or was already used.</p>',
          ),
          confirmed ? 200 : 410,
        );
        return true;
      }
    }
    return false;
  };
  const home = homePage({
    page,
    name: 'Digidentity',
    endpoint: `Issuer: ${issuer}`,
    personas,
    subjectOf,
    recreateAccount,
    portalUrl: options.portalUrl,
  });
  oidcSandbox.serveSandbox(sandbox, 'digidentity', page, [interactions, passwordlessPages, home], provider.callback());

  const running: DigidentitySandbox = {
    qrCodeUri: (uri) => uri,
    issuer,
    clientId,
    clientSecret,
    productScope,
    backendSettings: {
      DIGIDENTITY_ENABLED: 'true',
      DIGIDENTITY_ISSUER: issuer,
      DIGIDENTITY_CLIENT_ID: clientId,
      DIGIDENTITY_CLIENT_SECRET: clientSecret,
      DIGIDENTITY_PRODUCT_SCOPE: productScope,
    },
    personas,
    provider,
    signIns,
    signingKeys,
    publishedKeys,
    confirmPasswordless,
    recreateAccount,
    setSubject: (personaId, subject) => subjects.set(personaId, subject),
    subjectOf,
    expirePasswordless: (scanId) => {
      const session = passwordless.get(scans.get(scanId) ?? '');
      if (session) session.expiresAt = 0;
    },
    codeForScan: (scanId) => scans.get(scanId),
    passwordlessStarts: () => passwordlessStarts,
    close: () => sandbox.close(() => storage.stop()),
  };
  return running;
}

/**
 * Token requests for passwordless ids that are not (yet) redeemable: oidc-provider answers `invalid_grant`; Digidentity
 * says why in `error_description`: `login_pending` while the persona has not confirmed, `session_not_found` when the
 * id is unknown or expired.
 */
function passwordlessTokenAnswers(sessions: Map<string, PasswordlessSession>) {
  return async (ctx: KoaContextWithOIDC, next: () => Promise<void>) => {
    await next();
    const code = (ctx.oidc?.params as { code?: unknown } | undefined)?.code;
    if (ctx.path !== '/oauth2/token' || typeof code !== 'string' || !code.startsWith('PLS-') || ctx.status !== 400)
      return;
    const session = sessions.get(code);
    const pending = session !== undefined && session.confirmedAs === undefined && session.expiresAt > Date.now();
    ctx.body = { error: 'invalid_grant', error_description: pending ? 'login_pending' : 'session_not_found' };
  };
}

function sendJson(res: ServerResponse, body: unknown, status = 200): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}
