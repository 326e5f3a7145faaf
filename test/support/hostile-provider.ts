import { createHmac } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, importJWK, SignJWT, type JWK, type JWTPayload } from 'jose';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { answerLate } from '../../sandbox/common/sandbox-server.js';

/**
 * Ways the test provider can misbehave, set per test. Each hook rewrites a real response of the real provider
 * (oidc-provider) on its way out, with real signatures, like the OpenID Foundation's RP conformance suite does.
 */
export interface Hostility {
  /** Rewrites the ID token of token responses: claims and header changes, and how it gets signed. */
  idToken?: (claims: JWTPayload, header: Record<string, unknown>) => ForgedToken;
  userinfo?: (body: Record<string, unknown>) => Record<string, unknown>;
  /** Answers user-info as a signed JWT (application/jwt) of its claims, forged like an ID token. */
  userinfoJwt?: (claims: JWTPayload, header: Record<string, unknown>) => ForgedToken;
  discovery?: (metadata: Record<string, unknown>) => Record<string, unknown>;
  /** Rewrites the provider's redirect back to the relying party (the authorization response). */
  authorizationResponse?: (location: URL) => URL;
  /** Makes the token endpoint this slow. */
  tokenDelayMs?: number;
  /** Holds each token request until the promise it returns settles (to freeze a login in its token call). */
  beforeToken?: () => Promise<void>;
  /** Holds each user-info request until the promise it returns settles (to freeze a login mid-way). */
  beforeUserinfo?: () => Promise<void>;
}

export interface ForgedToken {
  claims: JWTPayload;
  header?: Record<string, unknown>;
  /** Private JWK to sign with (default: the provider's own key), or a way to break the signature. */
  signWith?: JWK | { alg: 'none' } | { hmacSecret: string; alg: 'HS256' };
  corruptSignature?: boolean;
}

export interface HostileControl {
  hostility: Hostility;
  /** Every request path the provider received, in order (e.g. to prove the token endpoint was never called). */
  requests: string[];
  middleware: (ctx: KoaContextWithOIDC, next: () => Promise<void>) => Promise<void>;
}

/**
 * A gate for `beforeToken` / `beforeUserinfo`: `hook` holds each request until `release()`; `reached` resolves when
 * the first one is held (the login is then frozen at that call).
 */
export function hold(): { hook: () => Promise<void>; reached: Promise<void>; release: () => void } {
  let arrived!: () => void;
  let release!: () => void;
  const reached = new Promise<void>((resolve) => (arrived = resolve));
  const released = new Promise<void>((resolve) => (release = resolve));
  return {
    hook: () => {
      arrived();
      return released;
    },
    reached,
    release,
  };
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

export async function forge(
  token: string,
  providerKey: JWK,
  forgery: (claims: JWTPayload, header: Record<string, unknown>) => ForgedToken,
): Promise<string> {
  const header = decodeProtectedHeader(token) as Record<string, unknown>;
  const {
    claims,
    header: newHeader = header,
    signWith = providerKey,
    corruptSignature,
  } = forgery({ ...decodeJwt(token) }, { ...header });
  let jwt: string;
  if ('hmacSecret' in signWith) {
    const input = `${b64({ ...newHeader, alg: 'HS256' })}.${b64(claims)}`;
    jwt = `${input}.${createHmac('sha256', signWith.hmacSecret).update(input).digest('base64url')}`;
  } else if (signWith.alg === 'none') {
    jwt = `${b64({ ...newHeader, alg: 'none' })}.${b64(claims)}.`;
  } else {
    const key = signWith as JWK;
    const { alg: _alg, ...rest } = newHeader;
    jwt = await new SignJWT(claims)
      .setProtectedHeader({
        ...rest,
        alg: key.alg!,
        ...(newHeader.kid === undefined ? {} : { kid: newHeader.kid as string }),
      })
      .sign(await importJWK(key, key.alg));
  }
  if (corruptSignature) {
    const [h, p, s] = jwt.split('.');
    const bytes = Buffer.from(s, 'base64url');
    bytes[0] ^= 0xff;
    jwt = `${h}.${p}.${bytes.toString('base64url')}`;
  }
  return jwt;
}

export function hostileProvider(providerKey: () => JWK): HostileControl {
  const control: HostileControl = {
    hostility: {},
    requests: [],
    middleware: async (ctx, next) => {
      control.requests.push(ctx.path);
      const { hostility } = control;
      if (
        ctx.path === '/oauth2/token' &&
        hostility.tokenDelayMs &&
        (await answerLate(ctx.res, hostility.tokenDelayMs))
      ) {
        ctx.respond = false;
        return;
      }
      if (ctx.path === '/oauth2/token' && hostility.beforeToken) await hostility.beforeToken();
      if (ctx.path === '/oauth2/user_info.json' && hostility.beforeUserinfo) await hostility.beforeUserinfo();
      await next();
      const body = ctx.body as Record<string, unknown> | undefined;
      if (
        ctx.path === '/oauth2/token' &&
        ctx.status === 200 &&
        hostility.idToken &&
        typeof body?.id_token === 'string'
      ) {
        ctx.body = { ...body, id_token: await forge(body.id_token, providerKey(), hostility.idToken) };
      }
      if (ctx.path === '/oauth2/user_info.json' && ctx.status === 200 && hostility.userinfo && body)
        ctx.body = hostility.userinfo(body);
      if (ctx.path === '/oauth2/user_info.json' && ctx.status === 200 && hostility.userinfoJwt && body) {
        const key = providerKey();
        const unsigned = `${b64({ alg: key.alg, kid: key.kid })}.${b64(ctx.body)}.`;
        ctx.body = await forge(unsigned, key, hostility.userinfoJwt);
        ctx.type = 'application/jwt';
      }
      if (ctx.path === '/.well-known/openid-configuration' && hostility.discovery && body)
        ctx.body = hostility.discovery(body);
      const location = ctx.response.get('location');
      if (hostility.authorizationResponse && location && /[?&]code=/.test(location)) {
        ctx.response.set('location', hostility.authorizationResponse(new URL(location)).href);
      }
    },
  };
  return control;
}
