import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { homePage, readBody, sandboxPages, sendHtml } from '../common/pages.js';
import { answerLate, listenSandbox } from '../common/sandbox-server.js';
import { EHERKENNING_PERSONAS, type EherkenningPersona } from './personas.js';

/**
 * A local stand-in for the Signicat Authentication REST API with eHerkenning (docs/providers.md#signicat-eherkenning):
 * client-credentials tokens
 * at /auth/open/connect/token (Basic auth, scope signicat-api, tokens expire), POST /auth/rest/sessions and
 * GET /auth/rest/sessions/{id} with a bearer token, and an authentication page where a person picks an
 * organisation persona or cancels, sent back to the session's success, abort or error URL with `?sessionId=`.
 * Sessions expire after their `sessionLifetime`. For development and tests only: it trusts whoever picks a persona.
 */
export interface SignicatEherkenningSandboxOptions {
  port?: number;
  host?: string;
  clientId?: string;
  clientSecret?: string;
  personas?: EherkenningPersona[];
  tokenLifetimeSeconds?: number;
  /** The portal's sign-in page, linked from the sandbox's home page. */
  portalUrl?: string;
}

/** Ways to make the sandbox misbehave (tests); applies to the token and REST endpoints. */
export interface EherkenningHostility {
  /** Answer every API call with this status (e.g. 503: Signicat is down). */
  status?: number;
  /** Answer API calls this late (Signicat is slow). */
  delayMs?: number;
  /** Rewrites the answer to POST /auth/rest/sessions on its way out. */
  created?: (body: Record<string, unknown>) => Record<string, unknown>;
  /** Rewrites a session answer on its way out. */
  session?: (body: Record<string, unknown>) => Record<string, unknown>;
}

export interface SandboxSession {
  id: string;
  status: 'CREATED' | 'SUCCESS' | 'ABORT' | 'ERROR';
  request: Record<string, unknown>;
  callbackUrls: { success: string; abort: string; error: string };
  requestedAttributes: string[];
  expiresAt: number;
  persona?: EherkenningPersona;
}

export interface SignicatEherkenningSandbox {
  /** What SIGNICAT_EHERKENNING_BASE_URL points at, e.g. http://localhost:3004 */
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  /** The settings that point a backend at this sandbox as if it were the real provider. */
  backendSettings: Record<string, string>;
  personas: EherkenningPersona[];
  /** How often each endpoint was called (token, createSession, getSession) and how many calls had a bad token. */
  counters: { token: number; createSession: number; getSession: number; unauthorized: number };
  hostility: EherkenningHostility;
  sessions: Map<string, SandboxSession>;
  /** Every issued token stops working (Signicat revoked them): the next API call answers 401. */
  revokeTokens(): void;
  /** The session runs out now (as if its sessionLifetime had passed). */
  expireSession(id: string): void;
  close(): Promise<void>;
}

const SESSIONS_PATH = '/auth/rest/sessions';
const AUTHENTICATE_PATH = '/authenticate/';
const MAX_SESSION_LIFETIME_SECONDS = 3600;

const { page, personaPage } = sandboxPages('SANDBOX — not Signicat or eHerkenning, not for production');

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
  res.end(JSON.stringify(body));
}

const problem = (res: ServerResponse, status: number, title: string) =>
  sendJson(res, status, { type: 'about:blank', title, status });

const sameText = (a: string, b: string) => {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
};

function isCallbackUrl(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  try {
    return ['http:', 'https:'].includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

function withSessionId(url: string, id: string): string {
  const target = new URL(url);
  target.searchParams.set('sessionId', id);
  return target.href;
}

export async function startSignicatEherkenningSandbox(
  options: SignicatEherkenningSandboxOptions = {},
): Promise<SignicatEherkenningSandbox> {
  const personas = options.personas ?? EHERKENNING_PERSONAS;
  const clientId = options.clientId ?? 'rmi-portal-eherkenning-sandbox';
  const clientSecret = options.clientSecret ?? randomBytes(24).toString('base64url');
  const tokenLifetime = options.tokenLifetimeSeconds ?? 600;
  const tokens = new Map<string, number>();
  const sessions = new Map<string, SandboxSession>();
  const counters = { token: 0, createSession: 0, getSession: 0, unauthorized: 0 };
  const hostility: EherkenningHostility = {};

  const sandbox = await listenSandbox(options.port, options.host);
  const baseUrl = sandbox.origin;

  const live = (id: string) => {
    const session = sessions.get(id);
    if (session && session.expiresAt <= Date.now()) sessions.delete(id);
    return sessions.get(id);
  };

  const token = async (req: IncomingMessage, res: ServerResponse) => {
    counters.token += 1;
    const [scheme, encoded] = (req.headers.authorization ?? '').split(' ');
    const [id, secret] = Buffer.from(encoded ?? '', 'base64')
      .toString('utf8')
      .split(':')
      .map((part) => decodeURIComponent(part.replace(/\+/g, ' ')));
    const form = new URLSearchParams(await readBody(req));
    if (scheme !== 'Basic' || id !== clientId || !sameText(secret ?? '', clientSecret)) {
      return sendJson(res, 401, { error: 'invalid_client' }, { 'www-authenticate': 'Basic' });
    }
    if (form.get('grant_type') !== 'client_credentials') return sendJson(res, 400, { error: 'unsupported_grant_type' });
    if (!(form.get('scope') ?? '').split(' ').includes('signicat-api')) {
      return sendJson(res, 400, { error: 'invalid_scope' });
    }
    const accessToken = randomBytes(32).toString('base64url');
    tokens.set(accessToken, Date.now() + tokenLifetime * 1000);
    return sendJson(res, 200, {
      access_token: accessToken,
      token_type: 'Bearer',
      expires_in: tokenLifetime,
      scope: 'signicat-api',
    });
  };

  const authorized = (req: IncomingMessage, res: ServerResponse): boolean => {
    const match = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
    const expiresAt = match ? tokens.get(match[1]) : undefined;
    if (expiresAt && expiresAt > Date.now()) return true;
    counters.unauthorized += 1;
    res.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"' });
    res.end();
    return false;
  };

  const createSession = async (req: IncomingMessage, res: ServerResponse) => {
    counters.createSession += 1;
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(await readBody(req)) as Record<string, unknown>;
    } catch {
      return problem(res, 400, 'The body is not JSON');
    }
    const callbackUrls = (body.callbackUrls ?? {}) as Record<string, unknown>;
    const lifetime = body.sessionLifetime ?? 600;
    if (
      body.flow !== 'redirect' ||
      JSON.stringify(body.allowedProviders) !== '["eherkenning"]' ||
      !Array.isArray(body.requestedAttributes) ||
      !isCallbackUrl(callbackUrls.success) ||
      !isCallbackUrl(callbackUrls.abort) ||
      !isCallbackUrl(callbackUrls.error) ||
      typeof lifetime !== 'number' ||
      lifetime < 60 ||
      lifetime > MAX_SESSION_LIFETIME_SECONDS
    ) {
      return problem(res, 400, 'This sandbox offers redirect sessions with eHerkenning only, with three callback URLs');
    }
    const id = randomUUID();
    const session: SandboxSession = {
      id,
      status: 'CREATED',
      request: body,
      callbackUrls: {
        success: withSessionId(callbackUrls.success, id),
        abort: withSessionId(callbackUrls.abort, id),
        error: withSessionId(callbackUrls.error, id),
      },
      requestedAttributes: body.requestedAttributes.filter((a): a is string => typeof a === 'string'),
      expiresAt: Date.now() + lifetime * 1000,
    };
    sessions.set(id, session);
    const answer = { ...view(session), authenticationUrl: `${baseUrl}${AUTHENTICATE_PATH}${id}` };
    return sendJson(res, 200, hostility.created ? hostility.created(answer) : answer);
  };

  /** The session as GET /auth/rest/sessions/{id} shows it; `subject` only after SUCCESS, filtered as requested. */
  const view = (session: SandboxSession): Record<string, unknown> => {
    const { request } = session;
    const subject =
      session.status === 'SUCCESS' && session.persona
        ? Object.fromEntries(
            Object.entries(session.persona.subject).filter(
              ([name]) => name === 'id' || session.requestedAttributes.includes(name),
            ),
          )
        : undefined;
    return {
      id: session.id,
      accountId: 'a-sandbox-eherkenning',
      status: session.status,
      ...(session.status === 'SUCCESS' ? { provider: 'eherkenning' } : {}),
      ...(subject ? { subject } : {}),
      callbackUrls: session.callbackUrls,
      allowedProviders: request.allowedProviders,
      flow: request.flow,
      requestedAttributes: session.requestedAttributes,
      externalReference: request.externalReference,
      sessionLifetime: request.sessionLifetime,
      language: request.language,
      ...(request.requestedLoa ? { requestedLoa: request.requestedLoa } : {}),
      expiresAt: new Date(session.expiresAt).toISOString(),
    };
  };

  const getSession = (res: ServerResponse, id: string) => {
    counters.getSession += 1;
    const session = live(id);
    if (!session) return problem(res, 404, 'Session not found');
    const body = view(session);
    return sendJson(res, 200, hostility.session ? hostility.session(body) : body);
  };

  const redirect = (res: ServerResponse, location: string) => {
    res.writeHead(303, { location, 'cache-control': 'no-store' });
    res.end();
  };

  /** The stand-in for Signicat's eHerkenning pages (choice of broker, login, authorisation check). */
  const authenticate = async (req: IncomingMessage, res: ServerResponse, rest: string) => {
    const [id, action] = rest.split('/');
    const known = sessions.get(id);
    const session = live(id);
    if (!session) {
      // Signicat sends a browser that arrives too late to the error callback.
      if (known) return redirect(res, known.callbackUrls.error);
      return sendHtml(res, page('Unknown session', '<p>No such session.</p>'), 404);
    }
    if (session.status !== 'CREATED') return redirect(res, session.callbackUrls.error);
    const base = `${AUTHENTICATE_PATH}${id}`;
    if (req.method === 'GET' && !action) {
      const intro = `<p>eHerkenning: choose who signs in on behalf of which organisation.</p>`;
      return sendHtml(res, personaPage(personas, `${base}/login`, `${base}/abort`, 'Sign in with eHerkenning', intro));
    }
    if (req.method === 'POST' && action === 'abort') {
      session.status = 'ABORT';
      return redirect(res, session.callbackUrls.abort);
    }
    if (req.method === 'POST' && action === 'login') {
      const chosen = new URLSearchParams(await readBody(req)).get('persona');
      const persona = personas.find((p) => p.id === chosen);
      if (!persona) return sendHtml(res, page('Unknown persona', '<p>Pick a persona.</p>'), 400);
      session.persona = persona;
      session.status = persona.status ?? 'SUCCESS';
      return redirect(res, session.status === 'SUCCESS' ? session.callbackUrls.success : session.callbackUrls.error);
    }
    return sendHtml(res, page('Not found', '<p>Nothing here.</p>'), 404);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', baseUrl);
    const api = url.pathname === '/auth/open/connect/token' || url.pathname.startsWith(SESSIONS_PATH);
    if (api && hostility.delayMs && (await answerLate(res, hostility.delayMs))) return;
    if (api && hostility.status) return problem(res, hostility.status, 'Sandbox hostility');
    if (req.method === 'POST' && url.pathname === '/auth/open/connect/token') return token(req, res);
    if (url.pathname === SESSIONS_PATH && req.method === 'POST') {
      return authorized(req, res) ? createSession(req, res) : undefined;
    }
    if (url.pathname.startsWith(`${SESSIONS_PATH}/`) && req.method === 'GET') {
      return authorized(req, res) ? getSession(res, url.pathname.slice(SESSIONS_PATH.length + 1)) : undefined;
    }
    if (url.pathname.startsWith(AUTHENTICATE_PATH))
      return authenticate(req, res, url.pathname.slice(AUTHENTICATE_PATH.length));
    const home = homePage({
      page,
      name: 'Signicat eHerkenning',
      endpoint: `API base URL: ${baseUrl}`,
      personas,
      portalUrl: options.portalUrl,
    });
    if (await home(req, res, url)) return;
    return sendHtml(res, page('Not found', '<p>Nothing here.</p>'), 404);
  };
  sandbox.serve('signicat-eherkenning', handle, (res) => problem(res, 500, 'Sandbox error'));

  return {
    baseUrl,
    clientId,
    clientSecret,
    backendSettings: {
      SIGNICAT_EHERKENNING_ENABLED: 'true',
      SIGNICAT_EHERKENNING_BASE_URL: baseUrl,
      SIGNICAT_EHERKENNING_CLIENT_ID: clientId,
      SIGNICAT_EHERKENNING_CLIENT_SECRET: clientSecret,
    },
    personas,
    counters,
    hostility,
    sessions,
    revokeTokens: () => tokens.clear(),
    expireSession: (id) => {
      const session = sessions.get(id);
      if (session) session.expiresAt = Date.now();
    },
    close: () => sandbox.close(),
  };
}
