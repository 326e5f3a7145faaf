import type { Persona } from '../sandbox/digidentity/personas.js';
import { Browser } from '../test/support/browser.js';
import { reachProviderCallback } from '../test/support/web-login.js';
import type { LoadResult } from './load.js';

/** How to log in to one of the systems under test through the sandbox provider, and what says it worked. */
export interface LoginRoute {
  /** The address browsers use. */
  base: string;
  /** Where a login starts (follows the redirects to the provider). */
  start: string;
  /** The callback URL prefix registered at the provider. */
  callback: string;
  /** Where a successful callback sends the browser. */
  landing: string;
  /** The session cookie the system sets. */
  sessionCookie: string;
  /** Headers the TLS-terminating proxy in front of the system would add (none for the backend). */
  proxyHeaders: Record<string, string>;
  browser(): Browser;
}

/** A browser behind the TLS-terminating proxy of `base`: its requests there carry X-Forwarded-Proto: https. */
class BehindTlsProxy extends Browser {
  constructor(private readonly base: string) {
    super();
  }

  override request(url: string, init: Parameters<Browser['request']>[1] = {}) {
    if (!url.startsWith(this.base)) return super.request(url, init);
    return super.request(url, { ...init, headers: { 'X-Forwarded-Proto': 'https', ...init.headers } });
  }
}

export function backendLogin(base: string, returnTo = '/api/me'): LoginRoute {
  return {
    base,
    start: `${base}/auth/digidentity/login?returnTo=${encodeURIComponent(returnTo)}`,
    callback: `${base}/auth/digidentity/callback`,
    landing: `${base}${returnTo}`,
    sessionCookie: '__Host-rmi_session',
    proxyHeaders: {},
    browser: () => new Browser(),
  };
}

export function peerLogin(base: string): LoginRoute {
  return {
    base,
    start: `${base}/login`,
    callback: `${base}/auth/callback`,
    landing: `${base}/me`,
    sessionCookie: '__Host-sid',
    proxyHeaders: { 'X-Forwarded-Proto': 'https' },
    browser: () => new BehindTlsProxy(base),
  };
}

/** The first few failed logins, said on stderr, so an error count in a table comes with a reason. */
let loginErrorsReported = 0;
function reportLoginError(what: string) {
  if (loginErrorsReported++ < 5) console.error(`login failed: ${what}`);
}

/** One whole login in a fresh browser; the browser with its session cookie, or undefined when it failed. */
export async function logIn(
  route: LoginRoute,
  persona: Persona,
  onCallback?: (latencyMs: number) => void,
): Promise<Browser | undefined> {
  const browser = route.browser();
  try {
    const callback = await reachProviderCallback(browser, route.start, persona.id, route.callback);
    const begin = performance.now();
    const response = await browser.request(callback);
    onCallback?.(performance.now() - begin);
    if (response.status === 302 && response.location === route.landing) return browser;
    reportLoginError(`callback answered ${response.status} → ${response.location ?? '(no location)'}`);
  } catch (error) {
    reportLoginError(`before the callback: ${String(error)}`);
  }
  return undefined;
}

/**
 * When each login may start at `ratePerSecond` from `started`: the n-th one asked for waits for its slot and is told
 * to start (true), or not to when its slot falls at or after `deadline` (false). A rate of 0 is a closed loop: no
 * waiting. A login whose slot has passed (every browser was busy) starts at once.
 */
export function loginPacer(
  ratePerSecond: number,
  started: number,
  deadline: number,
  clock: { now(): number; sleep(ms: number): Promise<void> } = {
    now: () => performance.now(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  },
): () => Promise<boolean> {
  if (ratePerSecond <= 0) return async () => clock.now() < deadline;
  const interval = 1000 / ratePerSecond;
  let slot = 0;
  return async () => {
    const due = started + slot++ * interval;
    if (due >= deadline) return false;
    const wait = due - clock.now();
    if (wait > 0) await clock.sleep(wait);
    return true;
  };
}

/**
 * `workers` browsers log in over and over for `duration` (or until `limit` logins), each time as the next persona,
 * as fast as they can or at `ratePerSecond` (loginPacer); only the callback request's latency is recorded.
 */
export async function runLogins(
  route: LoginRoute,
  personas: Persona[],
  workers: number,
  duration: number,
  { limit = Number.POSITIVE_INFINITY, ratePerSecond = 0 }: { limit?: number; ratePerSecond?: number } = {},
): Promise<Omit<LoadResult, 'expectedAnswers'>> {
  const latencies: number[] = [];
  let errors = 0;
  let succeeded = 0;
  let next = 0;
  const started = performance.now();
  const deadline = started + duration;
  const mayStart = loginPacer(ratePerSecond, started, deadline);
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (next < limit && (await mayStart())) {
        const persona = personas[next++ % personas.length];
        const browser = await logIn(route, persona, (latency) => latencies.push(latency));
        if (browser) succeeded += 1;
        else errors += 1;
      }
    }),
  );
  return {
    requests: succeeded,
    errors,
    elapsedMs: performance.now() - started,
    latenciesMs: Float64Array.from(latencies).sort(),
  };
}

/**
 * Logs every persona in once, `workers` at a time, trying a person up to three times (a loaded machine can make a
 * provider call time out); the session cookies in persona order (a Cookie header value each).
 */
export async function logInEach(route: LoginRoute, personas: Persona[], workers = 50): Promise<string[]> {
  const cookies: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(workers, personas.length) }, async () => {
      while (next < personas.length) {
        const index = next++;
        let token: string | undefined;
        for (let attempt = 0; attempt < 3 && !token; attempt += 1)
          token = (await logIn(route, personas[index]))?.cookie(route.base, route.sessionCookie);
        if (!token) throw new Error(`${personas[index].id} could not log in at ${route.base}`);
        cookies[index] = `${route.sessionCookie}=${token}`;
      }
    }),
  );
  return cookies;
}
