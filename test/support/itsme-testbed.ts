import { compactDecrypt, CompactEncrypt, type JWK } from 'jose';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { startItsmeSandbox, type ItsmeSandbox } from '../../sandbox/itsme/itsme-sandbox.js';
import type { ItsmePersona } from '../../sandbox/itsme/personas.js';
import { generateKey, privateJwk, type RelyingPartyKey } from '../../src/oidc/rp-keys.js';
import type { Browser, BrowserResponse } from './browser.js';
import { freePort } from './free-port.js';
import { startTestApp, type TestApp } from './test-app.js';
import type { TestDatabase } from './test-database.js';
import { reachProviderCallback } from './web-login.js';

export const ITSME_CALLBACK = '/auth/itsme/callback';

/**
 * Ways the itsme sandbox can misbehave, set per test: each hook gets the real, encrypted token (ID token or
 * user-info) on its way out and returns what is sent instead.
 */
export interface ItsmeHostility {
  idToken?: (jwe: string) => Promise<string>;
  userinfo?: (jwe: string) => Promise<string>;
}

export interface ItsmeTestbed {
  app: TestApp;
  itsme: ItsmeSandbox;
  /** Our keys as the app has them: signing, current encryption, previous encryption (still decrypts). */
  keys: { signing: RelyingPartyKey; encryption: RelyingPartyKey; previousEncryption: RelyingPartyKey };
  hostility: ItsmeHostility;
  /** Every path the sandbox's provider received, below /v2 (e.g. /token, /userinfo). */
  requests: string[];
  /** The form body of the token requests the sandbox received (to inspect the client assertion). */
  tokenRequests: Array<Record<string, string>>;
  /** The inner JWS of a token encrypted to one of our keys (the test plays the app's private key holder). */
  innerOf(jwe: string): Promise<string>;
  /** Encrypts a token to a public key, as itsme would (RSA-OAEP-256 + A256GCM unless told otherwise). */
  encryptTo(jws: string, key: JWK, header?: Record<string, string>): Promise<string>;
  reachCallback(browser: Browser, personaId: string, returnTo?: string): Promise<string>;
  login(browser: Browser, personaId: string, returnTo?: string): Promise<BrowserResponse>;
  close(): Promise<void>;
}

export interface ItsmeTestbedOptions {
  personas?: ItsmePersona[];
  /** More app settings, e.g. ITSME_UNKNOWN_IDENTITY_POLICY. */
  env?: Record<string, string>;
  database?: TestDatabase;
}

/** The real app with itsme configured as a real provider against the itsme sandbox, on real HTTP. */
export async function startItsmeTestbed(options: ItsmeTestbedOptions = {}): Promise<ItsmeTestbed> {
  const port = await freePort();
  const baseUrl = `http://localhost:${port}`;
  const keys = {
    signing: generateKey('sig', 'test-sig'),
    encryption: generateKey('enc', 'test-enc-new'),
    previousEncryption: generateKey('enc', 'test-enc-old'),
  };
  const ours = [keys.encryption, keys.previousEncryption].map(privateJwk);
  const requests: string[] = [];
  const tokenRequests: Array<Record<string, string>> = [];
  const bed = { hostility: {} as ItsmeHostility };
  const middleware = async (ctx: KoaContextWithOIDC, next: () => Promise<void>) => {
    requests.push(ctx.path);
    await next();
    const { idToken, userinfo } = bed.hostility;
    const body = ctx.body as Record<string, unknown> | string | undefined;
    if (ctx.path === '/token') {
      tokenRequests.push({ ...((ctx.oidc as { body?: Record<string, string> } | undefined)?.body ?? {}) });
      if (ctx.status === 200 && idToken && typeof body === 'object' && typeof body.id_token === 'string') {
        ctx.body = { ...body, id_token: await idToken(body.id_token) };
      }
    }
    if (ctx.path === '/userinfo' && ctx.status === 200 && userinfo && typeof body === 'string') {
      ctx.body = await userinfo(body);
    }
  };

  const itsme = await startItsmeSandbox({
    redirectUris: [`${baseUrl}${ITSME_CALLBACK}`],
    clientJwksUri: `${baseUrl}/auth/itsme/jwks.json`,
    personas: options.personas,
    middleware: [middleware],
  });
  let app: TestApp;
  try {
    app = await startTestApp(
      {
        ...itsme.backendSettings,
        ITSME_SIGNING_KEY: JSON.stringify(privateJwk(keys.signing)),
        ITSME_ENCRYPTION_KEYS: JSON.stringify(ours),
        OIDC_ALLOW_INSECURE_HTTP: 'true',
        OIDC_HTTP_TIMEOUT_MS: '2000',
        OIDC_JWKS_REFETCH_COOLDOWN_SECONDS: '0',
        ...options.env,
      },
      { listen: port, database: options.database },
    );
  } catch (error) {
    await itsme.close();
    throw error;
  }

  const innerOf = async (jwe: string) => {
    const { kid } = JSON.parse(Buffer.from(jwe.split('.')[0], 'base64url').toString()) as { kid?: string };
    const key = ours.find((candidate) => candidate.kid === kid) ?? ours[0];
    const { plaintext } = await compactDecrypt(jwe, key as JWK);
    return new TextDecoder().decode(plaintext);
  };
  const encryptTo = (jws: string, key: JWK, header: Record<string, string> = {}) =>
    new CompactEncrypt(new TextEncoder().encode(jws))
      .setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256GCM', cty: 'JWT', kid: key.kid!, ...header })
      .encrypt({ ...key, alg: header.alg ?? 'RSA-OAEP-256' } as JWK);
  const reachCallback = (browser: Browser, personaId: string, returnTo = '/portal/home') =>
    reachProviderCallback(
      browser,
      `${baseUrl}/auth/itsme/login?returnTo=${encodeURIComponent(returnTo)}`,
      personaId,
      `${baseUrl}${ITSME_CALLBACK}`,
    );

  return Object.assign(bed, {
    app,
    itsme,
    keys,
    requests,
    tokenRequests,
    innerOf,
    encryptTo,
    reachCallback,
    login: async (browser: Browser, personaId: string, returnTo?: string) =>
      browser.request(await reachCallback(browser, personaId, returnTo)),
    close: async () => {
      await app.close();
      await itsme.close();
    },
  });
}
