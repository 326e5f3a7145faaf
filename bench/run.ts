import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startDigidentitySandbox } from '../sandbox/digidentity/digidentity-sandbox.js';
import { IOE_CLAIMS, type Persona } from '../sandbox/digidentity/personas.js';
import { EmbeddedPostgres } from '../src/database/embedded-postgres.js';
import { csrfTokenFor, hashSessionToken, newSessionToken } from '../src/access/session-token.js';
import { Browser } from '../test/support/browser.js';
import { freePort } from '../test/support/free-port.js';
import { reachCallback } from '../test/support/web-login.js';
import { type LoadOptions, type LoadResult, percentile, runLoad } from './load.js';
import { waitForReady } from './wait-for-ready.js';

/**
 * `npm run bench`: builds the backend and runs it as production does (its own process, node dist/src/main.js) on a
 * real Postgres with synchronous commit, with Digidentity played by the sandbox provider (in this process, so its
 * work is not counted as the backend's). Prints throughput, latency percentiles and the backend's CPU time per
 * request or login (from /proc, so Linux only), then checks the targets of docs/benchmark.md#targets.
 *
 * Postgres: DATABASE_URL's server when set (a scratch database is created and dropped), otherwise a temporary
 * embedded one. Tuning: BENCH_CONCURRENCY (32, HTTP scenarios), BENCH_LOGIN_CONCURRENCY (50),
 * BENCH_SECONDS (5 per scenario), BENCH_PERSONAS (200 distinct people logging in).
 */
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 32);
const loginConcurrency = Number(process.env.BENCH_LOGIN_CONCURRENCY ?? 50);
const durationMs = Number(process.env.BENCH_SECONDS ?? 5) * 1000;
const personaCount = Number(process.env.BENCH_PERSONAS ?? 200);

const TARGET_CPU_PER_LOGIN_MS = 2.0;
const TARGET_ME_THROUGHPUT_RATIO = 0.6;
const TARGET_CPU_PER_DECISION_MS = 1.0;
const TARGET_DECISION_P99_MS = 50;
const DECISION_CONCURRENCY = 50;
const WARMUP_MS = Math.min(1000, durationMs);

function cpuMillis(pid: number): Promise<number> {
  // utime + stime in clock ticks (fields 14 and 15 of /proc/<pid>/stat); 100 ticks per second on Linux.
  return readFile(`/proc/${pid}/stat`, 'utf8').then((stat) => {
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (process.env.BENCH_CPU_SPLIT) console.error(`utime ${fields[11]} stime ${fields[12]}`);
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  });
}

/** A load scenario after a warm-up on the same connections, with the backend's CPU time over the measured window. */
async function measuredLoad(options: Omit<LoadOptions, 'warmupMs' | 'onMeasureStart'>, cpu: () => Promise<number>) {
  let before = cpu();
  const result = await runLoad({
    ...options,
    warmupMs: WARMUP_MS,
    onMeasureStart: () => {
      before = cpu();
    },
  });
  return { result, cpuMsPerRequest: ((await cpu()) - (await before)) / result.requests };
}

async function database(): Promise<{ url: string; cleanup: () => Promise<void> }> {
  if (process.env.DATABASE_URL) {
    const name = `rmi_bench_${randomUUID().slice(0, 8)}`;
    const admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const url = new URL(process.env.DATABASE_URL);
    url.pathname = `/${name}`;
    return {
      url: url.toString(),
      cleanup: async () => {
        const again = new pg.Client({ connectionString: process.env.DATABASE_URL });
        await again.connect();
        await again.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await again.end();
      },
    };
  }
  const dataDir = await mkdtemp(join(tmpdir(), 'rmi-bench-pg-'));
  await chmod(dataDir, 0o755);
  const server = await EmbeddedPostgres.start({ dataDir, port: await freePort(), durability: 'durable' });
  return {
    url: server.url,
    cleanup: async () => {
      await server.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** An admin with a session (for the audited write scenario) and an account for it to change. */
async function seedAdmin(url: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const insertAccount = async (name: string, roles: string[]) =>
      (await client.query(`INSERT INTO accounts (display_name, roles) VALUES ($1, $2) RETURNING id`, [name, roles]))
        .rows[0].id as string;
    const adminId = await insertAccount('Bench admin', ['admin']);
    const targetId = await insertAccount('Bench target', []);
    await client.query(
      `INSERT INTO rmi_items (code, title, security_related) VALUES ('IMMO_KEY_PROGRAMMING', 'Key programming', true)`,
    );
    const token = newSessionToken();
    await client.query(
      `INSERT INTO sessions (token_hash, account_id, provider, authenticated_at, last_seen_at, idle_expires_at, absolute_expires_at)
       VALUES ($1, $2, 'digidentity', now(), now(), now() + interval '1 hour', now() + interval '2 hours')`,
      [hashSessionToken(token), adminId],
    );
    // Distinct people for the /api/me scenario, so concurrent lookups are of different sessions, as in production.
    const memberTokens: string[] = [];
    for (let i = 0; i < concurrency; i += 1) {
      const memberId = await insertAccount(`Bench member ${i}`, []);
      const memberToken = newSessionToken();
      await client.query(
        `INSERT INTO sessions (token_hash, account_id, provider, authenticated_at, last_seen_at, idle_expires_at, absolute_expires_at)
         VALUES ($1, $2, 'digidentity', now(), now(), now() + interval '1 hour', now() + interval '2 hours')`,
        [hashSessionToken(memberToken), memberId],
      );
      memberTokens.push(memberToken);
    }
    return { token, targetId, memberTokens };
  } finally {
    await client.end();
  }
}

function benchPersonas(count: number): Persona[] {
  return Array.from({ length: count }, (_, i) => {
    const number = String(1_000_000_000 + i);
    return {
      id: `bench-${randomUUID()}`,
      label: `Bench IOE ${i}`,
      description: 'benchmark',
      claims: { ...IOE_CLAIMS, ioeuid: `NL/EXAMPLECAB/${number}B` },
    };
  });
}

interface Row {
  name: string;
  perSecond: number;
  latencies: Float64Array;
  cpuMsPerUnit: number;
  errors: number;
}

const format = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : '-');

function printRows(unit: string, rows: Row[]) {
  const rateHeader = `${unit}/s`.padStart(9);
  const cpuHeader = ` cpu ms/${unit}`.padStart(14);
  console.log(
    'scenario'.padEnd(44) +
      rateHeader +
      ['p50 ms', 'p95 ms', 'p99 ms', 'max ms'].map((h) => h.padStart(8)).join('') +
      cpuHeader +
      'errors'.padStart(8),
  );
  for (const row of rows) {
    console.log(
      row.name.padEnd(44) +
        format(row.perSecond, 0).padStart(rateHeader.length) +
        [50, 95, 99].map((p) => format(percentile(row.latencies, p)).padStart(8)).join('') +
        format(row.latencies.at(-1) ?? Number.NaN).padStart(8) +
        format(row.cpuMsPerUnit, 3).padStart(cpuHeader.length) +
        String(row.errors).padStart(8),
    );
  }
}

/** The first few failed logins, said on stderr, so an error count in the table comes with a reason. */
let loginErrorsReported = 0;
function reportLoginError(what: string) {
  if (loginErrorsReported++ < 3) console.error(`login failed: ${what}`);
}

/**
 * `workers` browsers log in over and over for `duration` (or until `limit` logins); only the callback request's
 * latency is recorded.
 */
async function runLogins(
  base: string,
  personas: Persona[],
  workers: number,
  duration: number,
  limit = Number.POSITIVE_INFINITY,
): Promise<Omit<LoadResult, 'expectedAnswers'>> {
  const latencies: number[] = [];
  let errors = 0;
  let next = 0;
  const started = performance.now();
  const deadline = started + duration;
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (performance.now() < deadline && next < limit) {
        const persona = personas[next++ % personas.length];
        const browser = new Browser();
        try {
          const callback = await reachCallback(browser, base, persona.id, '/api/me');
          const begin = performance.now();
          const response = await browser.request(callback);
          latencies.push(performance.now() - begin);
          if (response.status !== 302 || response.location !== `${base}/api/me`) {
            errors += 1;
            reportLoginError(`callback answered ${response.status} → ${response.location ?? '(no location)'}`);
          }
        } catch (error) {
          errors += 1;
          reportLoginError(`before the callback: ${String(error)}`);
        }
      }
    }),
  );
  return {
    requests: latencies.length,
    errors,
    elapsedMs: performance.now() - started,
    latenciesMs: Float64Array.from(latencies).sort(),
  };
}

/** Real SERMI logins of a few IOEs, then DECISION_CONCURRENCY clients asking for a security item on their sessions. */
async function benchDecisions(base: string, port: number, personas: Persona[], cpu: () => Promise<number>) {
  const sessions = await Promise.all(
    personas.map(async (persona) => {
      const browser = new Browser();
      await browser.request(await reachCallback(browser, base, persona.id, '/'));
      const token = browser.cookie(base, '__Host-rmi_session')!;
      return {
        Cookie: `__Host-rmi_session=${token}`,
        Origin: base,
        'X-CSRF-Token': csrfTokenFor(token),
        'Content-Type': 'application/json',
      };
    }),
  );
  const scenario = {
    port,
    concurrency: DECISION_CONCURRENCY,
    expectStatus: 200,
    request: (i: number) => ({
      method: 'POST',
      path: '/api/sermi/access',
      headers: sessions[i % sessions.length],
      body: JSON.stringify({
        vin: `WVWZZZ1JZXW${String(i % 1_000_000).padStart(6, '0')}`,
        item: 'IMMO_KEY_PROGRAMMING',
      }),
    }),
  };
  const { result, cpuMsPerRequest } = await measuredLoad({ ...scenario, durationMs }, cpu);
  return {
    answered: result.expectedAnswers,
    row: {
      name: 'POST /api/sermi/access (granted + grant)',
      perSecond: result.requests / (result.elapsedMs / 1000),
      latencies: result.latenciesMs,
      cpuMsPerUnit: cpuMsPerRequest,
      errors: result.errors,
    },
  };
}

/** Counts the granted access records and, once the sealer caught up, verifies the access log's chain. */
async function sermiLogAfterRun(base: string, adminHeaders: Record<string, string>, url: string) {
  const client = new pg.Client({ connectionString: url });
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
    const response = await fetch(`${base}/api/admin/sermi/access-log/verify`, {
      method: 'POST',
      headers: adminHeaders,
    });
    verification = (await response.json()) as typeof verification;
  } while (verification.valid && verification.unsealedRecords > 0 && Date.now() < deadline);
  return { recorded, ...verification };
}

async function main() {
  console.error('building…');
  execFileSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
  const db = await database();
  const port = await freePort();
  const base = `http://localhost:${port}`;
  const personas = benchPersonas(personaCount);
  const sandbox = await startDigidentitySandbox({ redirectUris: [`${base}/auth/digidentity/callback`], personas });
  const backend = spawn(process.execPath, ['dist/src/main.js'], {
    env: {
      PATH: process.env.PATH ?? '',
      ENV_FILE: '/dev/null',
      NODE_ENV: 'development',
      PORT: String(port),
      PUBLIC_BASE_URL: base,
      DATABASE_URL: db.url,
      DATABASE_POOL_SIZE: '20',
      LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
      ...sandbox.backendSettings,
      OIDC_ALLOW_INSECURE_HTTP: 'true',
      // Every simulated browser comes from 127.0.0.1: the limits stay on (their cost is measured) but out of reach.
      LOGIN_START_LIMIT_PER_MINUTE: '1000000',
      PASSWORDLESS_START_LIMIT_PER_MINUTE: '1000000',
    },
    stdio: ['ignore', process.env.BENCH_LOG_LEVEL ? 'inherit' : 'ignore', 'inherit'],
  });
  const cpu = () => cpuMillis(backend.pid!);
  try {
    await waitForReady(port);
    const { token, targetId, memberTokens } = await seedAdmin(db.url);
    const cookie = `__Host-rmi_session=${token}`;
    const writeHeaders = {
      Cookie: cookie,
      Origin: base,
      'X-CSRF-Token': csrfTokenFor(token),
      'Content-Type': 'application/json',
    };

    console.log(
      `node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), Postgres with synchronous_commit=on, ` +
        `${durationMs / 1000}s per scenario; load generator and Digidentity sandbox share the machine`,
    );

    const scenarios = [
      {
        name: 'GET /health (trivial public route)',
        expectStatus: 200,
        request: () => ({ method: 'GET', path: '/health' }),
      },
      {
        name: 'GET /api/me (authenticated)',
        expectStatus: 200,
        request: (i: number) => ({
          method: 'GET',
          path: '/api/me',
          headers: { Cookie: `__Host-rmi_session=${memberTokens[i % memberTokens.length]}` },
        }),
      },
      {
        name: 'PATCH admin account (tx + audit chain)',
        expectStatus: 200,
        request: (i: number) => ({
          method: 'PATCH',
          path: `/api/admin/accounts/${targetId}`,
          headers: writeHeaders,
          body: JSON.stringify({ roles: i % 2 === 0 ? ['admin'] : [] }),
        }),
      },
    ];
    const httpRows: Row[] = [];
    for (const scenario of scenarios) {
      const { result, cpuMsPerRequest } = await measuredLoad({ port, concurrency, durationMs, ...scenario }, cpu);
      httpRows.push({
        name: scenario.name,
        perSecond: result.requests / (result.elapsedMs / 1000),
        latencies: result.latenciesMs,
        cpuMsPerUnit: cpuMsPerRequest,
        errors: result.errors,
      });
    }
    console.log(`\nHTTP (${concurrency} concurrent keep-alive clients)`);
    printRows('req', httpRows);

    // Every persona logs in once first, so the measured logins are returning people (the common case).
    const firstLogins = await runLogins(base, personas, loginConcurrency, Number.POSITIVE_INFINITY, personas.length);
    const before = await cpu();
    const logins = await runLogins(base, personas, loginConcurrency, durationMs);
    const loginCpu = ((await cpu()) - before) / logins.requests;
    console.log(
      `\nDigidentity web login (${loginConcurrency} concurrent browsers; latency of the callback request; CPU of the whole login: start + callback)`,
    );
    printRows('login', [
      {
        name: 'web login, returning IOE',
        perSecond: logins.requests / (logins.elapsedMs / 1000),
        latencies: logins.latenciesMs,
        cpuMsPerUnit: loginCpu,
        errors: logins.errors + firstLogins.errors,
      },
    ]);

    const decisions = await benchDecisions(base, port, personas.slice(0, 10), cpu);
    console.log(
      `\nSERMI access decision (${DECISION_CONCURRENCY} concurrent clients on 10 fresh IOE sessions; security item: grant signed, log written)`,
    );
    printRows('decision', [decisions.row]);

    const ratio = httpRows[1].perSecond / httpRows[0].perSecond;
    const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');
    console.log(`\nTargets`);
    console.log(
      `  backend CPU per web login: ${format(loginCpu)} ms (target ≤ ${TARGET_CPU_PER_LOGIN_MS} ms): ${verdict(loginCpu <= TARGET_CPU_PER_LOGIN_MS)}`,
    );
    console.log(
      `  GET /api/me throughput / GET /health throughput: ${format(ratio * 100, 0)} % (target ≥ ${TARGET_ME_THROUGHPUT_RATIO * 100} %): ${verdict(ratio >= TARGET_ME_THROUGHPUT_RATIO)}`,
    );

    const chain = (await (
      await fetch(`${base}/api/admin/audit-events/verify`, { method: 'POST', headers: writeHeaders })
    ).json()) as {
      valid: boolean;
      checkedEvents: number;
    };
    console.log(`  audit chain after the run: ${chain.valid ? 'valid' : 'BROKEN'} (${chain.checkedEvents} events)`);
    if (!chain.valid) process.exitCode = 1;
    console.log(
      `  backend CPU per security decision: ${format(decisions.row.cpuMsPerUnit, 3)} ms (target ≤ ${TARGET_CPU_PER_DECISION_MS} ms): ${verdict(decisions.row.cpuMsPerUnit <= TARGET_CPU_PER_DECISION_MS)}`,
    );
    const p99 = percentile(decisions.row.latencies, 99);
    console.log(
      `  security decision p99 at ${DECISION_CONCURRENCY} clients: ${format(p99)} ms (target < ${TARGET_DECISION_P99_MS} ms): ${verdict(p99 < TARGET_DECISION_P99_MS)}`,
    );
    const log = await sermiLogAfterRun(base, writeHeaders, db.url);
    console.log(
      `  SERMI access log: ${log.recorded} access records for ${decisions.answered} answered decisions (${log.recorded === decisions.answered ? 'none lost' : 'LOST RECORDS'}); ` +
        `chain ${log.valid ? 'valid' : 'BROKEN'} (${log.checkedRecords} records in ${log.checkedSeals} seals)`,
    );
    if (!log.valid || log.recorded !== decisions.answered) process.exitCode = 1;
  } finally {
    backend.kill('SIGTERM');
    await new Promise((resolve) => backend.once('exit', resolve));
    await sandbox.close();
    await db.cleanup();
  }
}

await main();
