import pg from 'pg';
import type { Persona } from '../sandbox/digidentity/personas.js';
import { csrfTokenFor } from '../src/access/session-token.js';
import { type LoadOptions, measuredLoad, percentile } from './load.js';
import { backendLogin, type LoginRoute, logInEach, runLogins } from './logins.js';
import { format, printRows, type Row, rowOf } from './report.js';
import type { Rig } from './rig.js';
import { DECISIONS, settings, STEADY_DECISION_RATES } from './settings.js';

/** Sessions of IOEs logged in through `route`, as the headers of a SERMI access request. */
export async function decisionHeaders(route: LoginRoute, personas: Persona[]) {
  return (await logInEach(route, personas)).map((cookie) => ({
    Cookie: cookie,
    Origin: route.base,
    'X-CSRF-Token': csrfTokenFor(cookie.slice(cookie.indexOf('=') + 1)),
    'Content-Type': 'application/json',
  }));
}

/** The sessions of the first DECISIONS.people personas, signed in at the backend at `base`. */
export function decisionSessionsAt(base: string, personas: Persona[]) {
  return decisionHeaders(backendLogin(base), personas.slice(0, DECISIONS.people));
}

/** The same at the rig's backend. */
export function backendDecisionSessions(rig: Rig) {
  return decisionSessionsAt(rig.base, rig.personas);
}

/** What the closed-loop decision figures measure, as their tables say it. */
export const DECISIONS_TITLE =
  `SERMI access decision (${DECISIONS.concurrency} concurrent clients on ${DECISIONS.people} IOE sessions; ` +
  'security item: grant signed, log written)';

export function decisionRequest(headers: Record<string, string>[]) {
  return (i: number) => ({
    method: 'POST',
    path: '/api/sermi/access',
    headers: headers[i % headers.length],
    body: JSON.stringify({ vin: `WVWZZZ1JZXW${String(i % 1_000_000).padStart(6, '0')}`, item: 'IMMO_KEY_PROGRAMMING' }),
  });
}

/**
 * SERMI decisions against the rig's backend with its CPU over the measured window; every answered one is added to
 * `rig.decisionsAnswered`, which the access-log check compares with the records.
 */
async function loadDecisions(
  rig: Rig,
  sessions: Record<string, string>[],
  options: Omit<LoadOptions, 'port' | 'request' | 'expectStatus' | 'onMeasureStart'> & { warmupMs: number },
) {
  const measured = await measuredLoad(
    { ...options, port: rig.port, expectStatus: 200, request: decisionRequest(sessions) },
    () => rig.backend.cpu(),
  );
  rig.decisionsAnswered += measured.result.expectedAnswers;
  return measured;
}

/** Decisions at DECISIONS.concurrency closed-loop clients: printed, and their table row. */
export async function closedLoopDecisions(rig: Rig, sessions: Record<string, string>[]): Promise<Row> {
  const measured = await loadDecisions(rig, sessions, {
    concurrency: DECISIONS.concurrency,
    durationMs: settings.durationMs,
    warmupMs: settings.warmupMs,
  });
  console.log(`\n${DECISIONS_TITLE}`);
  const row = rowOf('POST /api/sermi/access (granted + grant)', measured);
  printRows('decision', [row]);
  return row;
}

/** Decisions at steady rates (open loop): what batching and its linger cost in latency below saturation. */
export async function reportSteadyRates(rig: Rig, sessions: Record<string, string>[]) {
  const rows: Row[] = [];
  for (const rate of STEADY_DECISION_RATES) {
    const measured = await loadDecisions(rig, sessions, {
      concurrency: 4 * DECISIONS.concurrency,
      ratePerSecond: rate,
      durationMs: settings.durationMs,
      warmupMs: settings.warmupMs,
    });
    rows.push(rowOf(`POST /api/sermi/access, ${rate} a second`, measured));
  }
  console.log(`\nSERMI access decisions at steady rates (open loop, ${DECISIONS.people} IOE sessions)`);
  printRows('decision', rows);
}

/**
 * Shift start: SERMI decisions run steadily, then every person logs in at once (50 browsers) while they go on.
 * Decision latencies are split by when the request was sent: before the burst, and during it.
 */
export async function reportShiftStart(rig: Rig, sessions: Record<string, string>[]) {
  const steadyMs = 3000;
  const before: number[] = [];
  const during: number[] = [];
  let burst: { start: number; end: number } | undefined;
  let done = false;
  const decisions = loadDecisions(rig, sessions, {
    concurrency: DECISIONS.concurrency,
    durationMs: 10 * 60_000,
    warmupMs: settings.warmupMs,
    shouldStop: () => done,
    onAnswer: (sentAt, latency) => {
      if (!burst) before.push(latency);
      else if (sentAt >= burst.start && sentAt < burst.end) during.push(latency);
    },
  });
  await new Promise((resolve) => setTimeout(resolve, settings.warmupMs + steadyMs));
  burst = { start: performance.now(), end: Number.POSITIVE_INFINITY };
  const logins = await runLogins(
    backendLogin(rig.base),
    rig.personas,
    settings.loginConcurrency,
    Number.POSITIVE_INFINITY,
    { limit: rig.personas.length },
  );
  burst.end = performance.now();
  await new Promise((resolve) => setTimeout(resolve, 1000));
  done = true;
  const { result } = await decisions;

  console.log(
    `\nShift start (decisions at ${DECISIONS.concurrency} clients; then all ${rig.personas.length} people log in at once with ` +
      `${settings.loginConcurrency} browsers, in ${format((burst.end - burst.start) / 1000, 1)} s)`,
  );
  console.log('scenario'.padEnd(44) + 'count'.padStart(9) + 'p50 ms'.padStart(8) + 'p99 ms'.padStart(8));
  const sorted = (values: number[]) => Float64Array.from(values).sort();
  for (const [name, latencies] of [
    ['decisions before the burst', sorted(before)],
    ['decisions during the burst', sorted(during)],
    ['logins in the burst (callback)', logins.latenciesMs],
  ] as const) {
    console.log(
      name.padEnd(44) +
        String(latencies.length).padStart(9) +
        format(percentile(latencies, 50)).padStart(8) +
        format(percentile(latencies, 99)).padStart(8),
    );
  }
  if (logins.errors + result.errors > 0) console.log(`  errors: ${logins.errors} logins, ${result.errors} decisions`);
}

/**
 * Counts the granted access records against the decisions the backend answered so far and, once the sealer caught
 * up, verifies the access log's chain.
 */
export async function sermiLogAfterRun(rig: Rig) {
  const client = new pg.Client({ connectionString: rig.databases.backend.url });
  await client.connect();
  const recorded = Number(
    (await client.query(`SELECT count(*) FROM sermi_access_log WHERE kind = 'access' AND decision = 'granted'`)).rows[0]
      .count,
  );
  await client.end();
  let verification: { valid: boolean; unsealedRecords: number; checkedRecords: number; checkedSeals: number };
  const deadline = Date.now() + 30_000;
  do {
    await new Promise((resolve) => setTimeout(resolve, 500));
    const response = await fetch(`${rig.base}/api/admin/sermi/access-log/verify`, {
      method: 'POST',
      headers: rig.admin.headers,
    });
    verification = (await response.json()) as typeof verification;
  } while (verification.valid && verification.unsealedRecords > 0 && Date.now() < deadline);
  return { recorded, answered: rig.decisionsAnswered, ...verification };
}
