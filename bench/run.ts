import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { startDigidentitySandbox } from '../sandbox/digidentity/digidentity-sandbox.js';
import { IOE_CLAIMS, type Persona } from '../sandbox/digidentity/personas.js';
import { EmbeddedPostgres } from '../src/database/embedded-postgres.js';
import { csrfTokenFor, hashSessionToken, newSessionToken } from '../src/access/session-token.js';
import { freePort } from '../test/support/free-port.js';
import { type LoadOptions, percentile, runLoad } from './load.js';
import { backendLogin, type LoginRoute, peerLogin, logInEach, runLogins } from './logins.js';
import { PostgresUsage, scratchDatabases, settle } from './postgres-usage.js';
import { type Service, startBackend, startPeerProcess } from './processes.js';
import { startRoundRobinProxy } from './proxy.js';

/**
 * `npm run bench [-- --instances N] [-- --soak 10m] [-- --only instances|soak|steady]`: builds the backend and runs it as production does (its own
 * process, node dist/src/main.js) on a real Postgres with synchronous commit, next to the idiomatic peer
 * (bench/peer, its own process), both logging in at the Digidentity sandbox (in this process, so its work is counted
 * for neither). Method, flags and targets: docs/benchmark.md.
 *
 * Postgres: DATABASE_URL's server when set (scratch databases are created and dropped), otherwise a temporary
 * embedded one. Tuning: BENCH_CONCURRENCY (32, HTTP scenarios), BENCH_LOGIN_CONCURRENCY (50),
 * BENCH_SECONDS (5 per window), BENCH_PERSONAS (200 distinct people logging in), BENCH_WINDOWS (3 per system).
 */
const { values: flags } = parseArgs({
  options: {
    instances: { type: 'string', default: '1' },
    soak: { type: 'string', default: '30s' },
    only: { type: 'string' },
  },
});
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 32);
const loginConcurrency = Number(process.env.BENCH_LOGIN_CONCURRENCY ?? 50);
const durationMs = Number(process.env.BENCH_SECONDS ?? 5) * 1000;
const personaCount = Number(process.env.BENCH_PERSONAS ?? 200);
const windowsPerSystem = Number(process.env.BENCH_WINDOWS ?? 3);
const instances = Number(flags.instances);
const soakMs = parseDuration(flags.soak);
/**
 * `--only instances`: just the several-instances comparison (with `--instances N`), for work on batching;
 * `--only soak`: just the soak (with `--soak 10m`, say), for work on memory; `--only steady`: just the decisions at
 * steady rates, for work on the linger.
 */
const ALONE = ['instances', 'soak', 'steady'] as const;
const only = flags.only as (typeof ALONE)[number] | undefined;
if (only !== undefined && !ALONE.includes(only)) throw new Error(`--only: one of ${ALONE.join(', ')}`);

const TARGET_CPU_PER_LOGIN_MS = 2.0;
const TARGET_ME_THROUGHPUT_RATIO = 0.6;
const TARGET_CPU_PER_DECISION_MS = 1.0;
const TARGET_DECISION_P99_MS = 50;
const TARGET_LOGIN_CPU_RATIO = 0.7;
const TARGET_INSTANCES_PG_CPU_RATIO = 1.5;
const DECISION_CONCURRENCY = 50;
const DECISION_PEOPLE = 10;
/** Below, inside and above the range where batched statements linger (HOT_STATEMENT_BATCHING). */
const STEADY_DECISION_RATES = [100, 500, 1500];
const WARMUP_MS = Math.min(1000, durationMs);

function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!match) throw new Error(`--soak: not a duration: ${text} (e.g. 30s, 10m, 0)`);
  return Number(match[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] ?? 's']!;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};
const format = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : '-');
const mb = (bytes: number) => `${format(bytes / 2 ** 20, 1)} MB`;
const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');
const merged = (parts: Float64Array[]) => Float64Array.from(parts.flatMap((part) => [...part])).sort();

async function postgresServer(): Promise<{ adminUrl: string; cleanup: () => Promise<void> }> {
  if (process.env.DATABASE_URL) return { adminUrl: process.env.DATABASE_URL, cleanup: async () => undefined };
  const dataDir = await mkdtemp(join(tmpdir(), 'rmi-bench-pg-'));
  await chmod(dataDir, 0o755);
  const server = await EmbeddedPostgres.start({ dataDir, port: await freePort(), durability: 'durable' });
  return {
    adminUrl: server.adminUrl,
    cleanup: async () => {
      await server.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** An admin with a session (for the audited write scenario), an account for it to change, and a security item. */
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
      `INSERT INTO rmi_items (code, title, security_related) VALUES ('IMMO_KEY_PROGRAMMING', 'Key programming', true)
       ON CONFLICT (code) DO UPDATE SET security_related = true`,
    );
    const token = newSessionToken();
    await client.query(
      `INSERT INTO sessions (token_hash, account_id, provider, authenticated_at, last_seen_at, idle_expires_at, absolute_expires_at)
       VALUES ($1, $2, 'digidentity', now(), now(), now() + interval '1 hour', now() + interval '2 hours')`,
      [hashSessionToken(token), adminId],
    );
    return { token, targetId };
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

/** A load scenario after a warm-up on the same connections, with the service's CPU time over the measured window. */
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

/** One system of the side-by-side comparison. */
interface System {
  name: string;
  service: Service;
  database: string;
  login: LoginRoute;
  /** The authenticated "who am I" route. */
  mePath: string;
  meCookies: string[];
}

interface Window {
  /** Operations in the measured part of the window (the CPU figures). */
  operations: number;
  /** Warm-up included (the commit counts, read only once Postgres reported them). */
  allOperations: number;
  appCpuMs: number;
  postgresCpuMs: number;
  latencies: Float64Array;
  perSecond: number;
  errors: number;
}

/** Alternating windows of one workload on each system: A B A B …, the same load in each. */
async function alternate(
  systems: System[],
  usage: PostgresUsage,
  windowOf: (system: System, measure: Measure) => Promise<Omit<Window, 'appCpuMs' | 'postgresCpuMs'>>,
) {
  const windows = new Map<System, Window[]>(systems.map((system) => [system, []]));
  const commitsBefore = await Promise.all(systems.map((system) => usage.commits(system.database)));
  for (let round = 0; round < windowsPerSystem; round += 1) {
    for (const system of systems) {
      const measure = new Measure(system, usage);
      const result = await windowOf(system, measure);
      windows.get(system)!.push({ ...result, ...(await measure.end()) });
    }
  }
  await settle();
  const commitsAfter = await Promise.all(systems.map((system) => usage.commits(system.database)));
  return systems.map((system, i) => {
    const mine = windows.get(system)!;
    const operations = mine.reduce((sum, w) => sum + w.operations, 0);
    const allOperations = mine.reduce((sum, w) => sum + w.allOperations, 0);
    return {
      system,
      appCpuMs: median(mine.map((w) => w.appCpuMs / w.operations)),
      postgresCpuMs: median(mine.map((w) => w.postgresCpuMs / w.operations)),
      commits: (commitsAfter[i] - commitsBefore[i]) / allOperations,
      perSecond: median(mine.map((w) => w.perSecond)),
      latencies: merged(mine.map((w) => w.latencies)),
      errors: mine.reduce((sum, w) => sum + w.errors, 0),
      operations,
    };
  });
}
type Side = Awaited<ReturnType<typeof alternate>>[number];

/** The CPU of a service and of its database's Postgres processes, from `start()` (or construction) to `end()`. */
class Measure {
  private app: Promise<number>;
  private postgres: Promise<{ stop: () => Promise<number> }>;

  constructor(
    private readonly system: System,
    private readonly usage: PostgresUsage,
  ) {
    this.app = system.service.cpu();
    this.postgres = usage.cpu(system.database);
  }

  /** Restarts the clock (e.g. after a warm-up). */
  start(): void {
    void this.postgres.then((tracker) => tracker.stop());
    this.app = this.system.service.cpu();
    this.postgres = this.usage.cpu(this.system.database);
  }

  async end(): Promise<{ appCpuMs: number; postgresCpuMs: number }> {
    const [appAfter, postgresCpuMs] = await Promise.all([
      this.system.service.cpu(),
      this.postgres.then((tracker) => tracker.stop()),
    ]);
    return { appCpuMs: appAfter - (await this.app), postgresCpuMs };
  }
}

function printSideBySide(title: string, unit: string, sides: Side[]) {
  const [a, b] = sides;
  console.log(`\n${title}`);
  console.log(
    'per ' + unit.padEnd(38) + a.system.name.padStart(12) + b.system.name.padStart(12) + 'ratio'.padStart(10),
  );
  const line = (label: string, x: number, y: number, digits = 2) =>
    console.log(
      label.padEnd(42) + format(x, digits).padStart(12) + format(y, digits).padStart(12) + format(x / y).padStart(10),
    );
  line('app CPU ms (median of windows)', a.appCpuMs, b.appCpuMs, 3);
  line('Postgres CPU ms (median of windows)', a.postgresCpuMs, b.postgresCpuMs, 3);
  line('app + Postgres CPU ms', a.appCpuMs + a.postgresCpuMs, b.appCpuMs + b.postgresCpuMs, 3);
  line('Postgres commits', a.commits, b.commits, 3);
  line('latency p50 ms', percentile(a.latencies, 50), percentile(b.latencies, 50));
  line('latency p99 ms', percentile(a.latencies, 99), percentile(b.latencies, 99));
  line(`${unit}s per second (median)`, a.perSecond, b.perSecond, 0);
  console.log(
    `${a.system.name}: ${a.operations} in ${windowsPerSystem} windows, ${a.errors} errors; ` +
      `${b.system.name}: ${b.operations}, ${b.errors} errors (ratio = ${a.system.name}/${b.system.name})`,
  );
}

/** Sessions of IOEs logged in through `route`, as the headers of a SERMI access request. */
async function decisionHeaders(route: LoginRoute, personas: Persona[]) {
  return (await logInEach(route, personas)).map((cookie) => ({
    Cookie: cookie,
    Origin: route.base,
    'X-CSRF-Token': csrfTokenFor(cookie.slice(cookie.indexOf('=') + 1)),
    'Content-Type': 'application/json',
  }));
}

function decisionRequest(headers: Record<string, string>[]) {
  return (i: number) => ({
    method: 'POST',
    path: '/api/sermi/access',
    headers: headers[i % headers.length],
    body: JSON.stringify({ vin: `WVWZZZ1JZXW${String(i % 1_000_000).padStart(6, '0')}`, item: 'IMMO_KEY_PROGRAMMING' }),
  });
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

/**
 * Shift start: SERMI decisions run steadily, then every person logs in at once (50 browsers) while they go on.
 * Decision latencies are split by when the request was sent: before the burst, and during it.
 */
async function shiftStart(port: number, route: LoginRoute, personas: Persona[], headers: Record<string, string>[]) {
  const steadyMs = 3000;
  const before: number[] = [];
  const during: number[] = [];
  let burst: { start: number; end: number } | undefined;
  let done = false;
  const decisions = runLoad({
    port,
    concurrency: DECISION_CONCURRENCY,
    durationMs: 10 * 60_000,
    warmupMs: WARMUP_MS,
    expectStatus: 200,
    request: decisionRequest(headers),
    shouldStop: () => done,
    onAnswer: (sentAt, latency) => {
      if (!burst) before.push(latency);
      else if (sentAt >= burst.start && sentAt < burst.end) during.push(latency);
    },
  });
  await new Promise((resolve) => setTimeout(resolve, WARMUP_MS + steadyMs));
  burst = { start: performance.now(), end: Number.POSITIVE_INFINITY };
  const logins = await runLogins(route, personas, loginConcurrency, Number.POSITIVE_INFINITY, personas.length);
  burst.end = performance.now();
  await new Promise((resolve) => setTimeout(resolve, 1000));
  done = true;
  const result = await decisions;
  const sorted = (values: number[]) => Float64Array.from(values).sort();
  return { logins, before: sorted(before), during: sorted(during), burstMs: burst.end - burst.start, result };
}

/** `instances` backends on one database behind the round-robin proxy: SERMI decisions through one of them vs all. */
async function instancesMode(options: {
  count: number;
  usage: PostgresUsage;
  database: string;
  databaseUrl: string;
  proxy: Awaited<ReturnType<typeof startRoundRobinProxy>>;
  sandboxSettings: Record<string, string>;
  personas: Persona[];
}) {
  const { count, usage, database, proxy } = options;
  const base = `http://localhost:${proxy.port}`;
  const settings = {
    PUBLIC_BASE_URL: base,
    TRUST_PROXY: 'loopback',
    DATABASE_URL: options.databaseUrl,
    ...options.sandboxSettings,
  };
  // The first one migrates the database; the others start on it.
  const first = await startBackend(await freePort(), settings);
  const rest = await Promise.all(
    Array.from({ length: count - 1 }, async () => startBackend(await freePort(), settings)),
  );
  const all = [first, ...rest];
  try {
    await seedAdmin(options.databaseUrl);
    proxy.route(all.map((service) => service.port));
    const headers = await decisionHeaders(backendLogin(base), options.personas);
    const rows = new Map<number, { postgres: number[]; commits: number[]; app: number[]; latencies: Float64Array[] }>(
      [1, count].map((n) => [n, { postgres: [], commits: [], app: [], latencies: [] }]),
    );
    const appCpu = async () => (await Promise.all(all.map((service) => service.cpu()))).reduce((a, b) => a + b, 0);
    await settle();
    for (let round = 0; round < windowsPerSystem; round += 1) {
      for (const n of [1, count]) {
        proxy.route(all.slice(0, n).map((service) => service.port));
        const commitsBefore = await usage.commits(database);
        let postgres: ReturnType<PostgresUsage['cpu']> | undefined;
        let appBefore: Promise<number> | undefined;
        const result = await runLoad({
          port: proxy.port,
          concurrency: DECISION_CONCURRENCY,
          durationMs,
          warmupMs: WARMUP_MS,
          expectStatus: 200,
          request: decisionRequest(headers),
          onMeasureStart: () => {
            postgres = usage.cpu(database);
            appBefore = appCpu();
          },
        });
        const row = rows.get(n)!;
        // CPU in the steady state after the warm-up (the sealer keeps up within a second, so the window's sealing is
        // in it); commits of every decision sent, sealing included, once the database was idle long enough to tell.
        row.postgres.push((await (await postgres!).stop()) / result.requests);
        row.app.push(((await appCpu()) - (await appBefore!)) / result.requests);
        await settle();
        row.commits.push(((await usage.commits(database)) - commitsBefore) / result.expectedAnswers);
        row.latencies.push(result.latenciesMs);
        if (result.errors > 0) console.error(`${result.errors} failed decisions at ${n} instance(s)`);
      }
    }
    return [1, count].map((n) => {
      const row = rows.get(n)!;
      return {
        n,
        postgres: median(row.postgres),
        commits: median(row.commits),
        app: median(row.app),
        latencies: merged(row.latencies),
      };
    });
  } finally {
    await Promise.all(all.map((service) => service.stop()));
  }
}

/**
 * A backend with its metrics listener (for the heap figure) under mixed load — logins, /api/me and decisions — for
 * `ms`; its memory sampled throughout.
 */
async function soak(options: {
  ms: number;
  port: number;
  settings: Record<string, string>;
  route: LoginRoute;
  personas: Persona[];
  meCookies: string[];
  decisionHeaders: Record<string, string>[];
}) {
  const metricsPort = await freePort();
  const service = await startBackend(options.port, {
    ...options.settings,
    METRICS_PORT: String(metricsPort),
    METRICS_HOST: '127.0.0.1',
  });
  try {
    const heapUsed = async () => {
      const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      return Number(/^nodejs_heap_size_used_bytes (\S+)$/m.exec(text)?.[1] ?? Number.NaN);
    };
    const samples: { at: number; rss: number; heap: number }[] = [];
    const started = performance.now();
    const deadline = started + options.ms;
    const sampler = setInterval(
      () => {
        void Promise.all([service.rss(), heapUsed()]).then(([rss, heap]) =>
          samples.push({ at: performance.now() - started, rss, heap }),
        );
      },
      Math.max(1000, options.ms / 60),
    );
    const load = (concurrency: number, request: LoadOptions['request']) =>
      runLoad({ port: options.port, concurrency, durationMs: options.ms, expectStatus: 200, request });
    const [decisions, me, logins] = await Promise.all([
      load(20, decisionRequest(options.decisionHeaders)),
      load(10, (i) => ({
        method: 'GET',
        path: '/api/me',
        headers: { Cookie: options.meCookies[i % options.meCookies.length] },
      })),
      runLogins(options.route, options.personas, 10, deadline - performance.now()),
    ]);
    clearInterval(sampler);
    const fifth = Math.max(1, Math.floor(samples.length / 5));
    const first = samples.slice(0, fifth);
    const last = samples.slice(-fifth);
    return {
      decisions,
      me,
      logins,
      rss: [median(first.map((s) => s.rss)), median(last.map((s) => s.rss))],
      heap: [Math.min(...first.map((s) => s.heap)), Math.min(...last.map((s) => s.heap))],
      samples: samples.length,
    };
  } finally {
    await service.stop();
  }
}

async function main() {
  if (!Number.isInteger(instances) || instances < 1) throw new Error('--instances: a whole number ≥ 1');
  console.error('building…');
  execFileSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
  const server = await postgresServer();
  const dbs = await scratchDatabases(server.adminUrl, ['backend', 'peer', ...(instances > 1 ? ['instances'] : [])]);
  const [backendDb, peerDb] = dbs.names;
  const [backendUrl, peerUrl] = dbs.urls;
  const port = await freePort();
  const peerPort = await freePort();
  const base = `http://localhost:${port}`;
  const peerBase = `http://localhost:${peerPort}`;
  const proxy = await startRoundRobinProxy([]);
  const proxyBase = `http://localhost:${proxy.port}`;
  const personas = benchPersonas(personaCount);
  const sandbox = await startDigidentitySandbox({
    redirectUris: [
      `${base}/auth/digidentity/callback`,
      `${peerBase}/auth/callback`,
      `${proxyBase}/auth/digidentity/callback`,
    ],
    personas,
  });
  const backendSettings = { PUBLIC_BASE_URL: base, DATABASE_URL: backendUrl, ...sandbox.backendSettings };
  let backend: Service | undefined;
  let peer: Service | undefined;
  const usage = await PostgresUsage.connect(server.adminUrl);
  try {
    [backend, peer] = await Promise.all([
      startBackend(port, backendSettings),
      startPeerProcess(peerPort, {
        PUBLIC_BASE_URL: peerBase,
        DATABASE_URL: peerUrl,
        OIDC_ISSUER: sandbox.issuer,
        OIDC_CLIENT_ID: sandbox.clientId,
        OIDC_CLIENT_SECRET: sandbox.clientSecret,
        OIDC_SCOPE: `openid sermi ${sandbox.productScope}`,
        SESSION_SECRET: randomBytes(32).toString('base64url'),
      }),
    ]);
    const { token, targetId } = await seedAdmin(backendUrl);
    const writeHeaders = {
      Cookie: `__Host-rmi_session=${token}`,
      Origin: base,
      'X-CSRF-Token': csrfTokenFor(token),
      'Content-Type': 'application/json',
    };

    console.log(
      `node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), Postgres with synchronous_commit=on, ` +
        `${durationMs / 1000}s per window; load generator and Digidentity sandbox share the machine` +
        (usage.seesProcesses ? '' : '; Postgres runs elsewhere, so its CPU is not measured'),
    );

    /** 1 vs `instances` backends behind the round-robin proxy, printed as ratios. */
    async function reportInstances() {
      const [one, many] = await instancesMode({
        count: instances,
        usage,
        database: dbs.names[2],
        databaseUrl: dbs.urls[2],
        proxy,
        sandboxSettings: sandbox.backendSettings,
        personas: personas.slice(0, DECISION_PEOPLE),
      });
      console.log(
        `\nSERMI decisions behind a round-robin proxy: 1 vs ${instances} instances on one database ` +
          `(${DECISION_CONCURRENCY} clients, alternating windows; CPU after the warm-up, commits until Postgres was idle again)`,
      );
      console.log('per decision'.padEnd(42) + '1'.padStart(12) + String(instances).padStart(12) + 'ratio'.padStart(10));
      const line = (label: string, x: number, y: number, digits = 3) =>
        console.log(
          label.padEnd(42) +
            format(x, digits).padStart(12) +
            format(y, digits).padStart(12) +
            format(y / x).padStart(10),
        );
      line('Postgres CPU ms (median of windows)', one.postgres, many.postgres);
      line('Postgres commits (median of windows)', one.commits, many.commits);
      line('backend CPU ms, all instances', one.app, many.app);
      line('latency p99 ms', percentile(one.latencies, 99), percentile(many.latencies, 99), 2);
      const ratio = many.postgres / one.postgres;
      console.log(
        `  Postgres CPU per decision at ${instances} instances vs 1: ${format(ratio)}× (target ≤ ${TARGET_INSTANCES_PG_CPU_RATIO}×): ${verdict(ratio <= TARGET_INSTANCES_PG_CPU_RATIO)}`,
      );
    }

    /** A fresh backend under mixed load for the soak's length, its memory at the start and the end. */
    async function reportSoak(meCookies: string[], decisionSessionHeaders: Record<string, string>[]) {
      // The soak backend takes the port (and so the registered callback) of the one that ran until now.
      await backend?.stop();
      const soaked = await soak({
        ms: soakMs,
        port,
        settings: backendSettings,
        route: backendLogin(base),
        personas,
        meCookies,
        decisionHeaders: decisionSessionHeaders,
      });
      console.log(
        `\nSoak (${format(soakMs / 1000, 0)} s of mixed load on a fresh backend: ${soaked.decisions.requests} decisions, ` +
          `${soaked.me.requests} /api/me, ${soaked.logins.requests} logins; ${soaked.samples} memory samples)`,
      );
      console.log(
        `  RSS (median of the first / last fifth): ${mb(soaked.rss[0])} → ${mb(soaked.rss[1])} (${format(soaked.rss[1] / soaked.rss[0])}×)`,
      );
      console.log(
        `  heap used (lowest of the first / last fifth): ${mb(soaked.heap[0])} → ${mb(soaked.heap[1])} (${format(soaked.heap[1] / soaked.heap[0])}×)`,
      );
      const soakErrors = soaked.decisions.errors + soaked.me.errors + soaked.logins.errors;
      if (soakErrors > 0) console.log(`  errors: ${soakErrors}`);
    }

    /** Decisions at steady rates (open loop): what batching and its linger cost in latency below saturation. */
    async function reportSteadyRates(sessions: Record<string, string>[]) {
      const rows: Row[] = [];
      for (const rate of STEADY_DECISION_RATES) {
        const { result, cpuMsPerRequest } = await measuredLoad(
          {
            port,
            concurrency: 4 * DECISION_CONCURRENCY,
            ratePerSecond: rate,
            durationMs,
            expectStatus: 200,
            request: decisionRequest(sessions),
          },
          () => backend!.cpu(),
        );
        rows.push({
          name: `POST /api/sermi/access, ${rate} a second`,
          perSecond: result.requests / (result.elapsedMs / 1000),
          latencies: result.latenciesMs,
          cpuMsPerUnit: cpuMsPerRequest,
          errors: result.errors,
        });
      }
      console.log(`\nSERMI access decisions at steady rates (open loop, ${DECISION_PEOPLE} IOE sessions)`);
      printRows('decision', rows);
    }

    if (only === 'steady') {
      await reportSteadyRates(await decisionHeaders(backendLogin(base), personas.slice(0, DECISION_PEOPLE)));
      return;
    }
    if (only === 'soak') {
      if (soakMs === 0) throw new Error('--only soak needs a soak length (--soak 10m)');
      const cookies = (await logInEach(backendLogin(base), personas, loginConcurrency)).slice(0, concurrency);
      await reportSoak(cookies, await decisionHeaders(backendLogin(base), personas.slice(0, DECISION_PEOPLE)));
      return;
    }
    if (only === 'instances') {
      if (instances < 2) throw new Error('--only instances needs --instances N (N ≥ 2)');
      await reportInstances();
      return;
    }

    const scenarios = [
      {
        name: 'GET /health (trivial public route)',
        expectStatus: 200,
        request: () => ({ method: 'GET', path: '/health' }),
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
      const service = backend;
      const { result, cpuMsPerRequest } = await measuredLoad({ port, concurrency, durationMs, ...scenario }, () =>
        service.cpu(),
      );
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

    const systems: System[] = [
      {
        name: 'backend',
        service: backend,
        database: backendDb,
        login: backendLogin(base),
        mePath: '/api/me',
        meCookies: [],
      },
      { name: 'peer', service: peer, database: peerDb, login: peerLogin(peerBase), mePath: '/me', meCookies: [] },
    ];
    // Every persona logs in once first, so the measured logins are returning people (the common case); the first
    // `concurrency` sessions serve the "who am I" windows.
    for (const system of systems) {
      system.meCookies = (await logInEach(system.login, personas, loginConcurrency)).slice(0, concurrency);
    }
    await settle();

    const logins = await alternate(systems, usage, async (system, measure) => {
      const warmup = await runLogins(system.login, personas, loginConcurrency, WARMUP_MS);
      measure.start();
      const result = await runLogins(system.login, personas, loginConcurrency, durationMs);
      return {
        operations: result.requests,
        allOperations: warmup.requests + result.requests,
        latencies: result.latenciesMs,
        perSecond: result.requests / (result.elapsedMs / 1000),
        errors: result.errors,
      };
    });
    printSideBySide(
      `Returning web login, side by side (${loginConcurrency} browsers, ${personaCount} people, alternating ${durationMs / 1000}s windows; ` +
        'latency of the callback; CPU of the whole login: start + callback)',
      'login',
      logins,
    );

    const me = await alternate(systems, usage, async (system, measure) => {
      const result = await runLoad({
        port: system.service.port,
        concurrency,
        durationMs,
        warmupMs: WARMUP_MS,
        expectStatus: 200,
        onMeasureStart: () => measure.start(),
        request: (i) => ({
          method: 'GET',
          path: system.mePath,
          headers: { Cookie: system.meCookies[i % system.meCookies.length], ...system.login.proxyHeaders },
        }),
      });
      return {
        operations: result.requests,
        allOperations: result.expectedAnswers,
        latencies: result.latenciesMs,
        perSecond: result.requests / (result.elapsedMs / 1000),
        errors: result.errors,
      };
    });
    printSideBySide(
      `Who am I (GET /api/me vs the peer's GET /me; ${concurrency} keep-alive clients on ${concurrency} people's sessions)`,
      'request',
      me,
    );

    const decisionSessions = await decisionHeaders(backendLogin(base), personas.slice(0, DECISION_PEOPLE));
    const service = backend;
    const decisions = await measuredLoad(
      {
        port,
        concurrency: DECISION_CONCURRENCY,
        durationMs,
        expectStatus: 200,
        request: decisionRequest(decisionSessions),
      },
      () => service.cpu(),
    );
    console.log(
      `\nSERMI access decision (${DECISION_CONCURRENCY} concurrent clients on ${DECISION_PEOPLE} IOE sessions; security item: grant signed, log written)`,
    );
    const decisionRow = {
      name: 'POST /api/sermi/access (granted + grant)',
      perSecond: decisions.result.requests / (decisions.result.elapsedMs / 1000),
      latencies: decisions.result.latenciesMs,
      cpuMsPerUnit: decisions.cpuMsPerRequest,
      errors: decisions.result.errors,
    };
    printRows('decision', [decisionRow]);
    await reportSteadyRates(decisionSessions);

    const shift = await shiftStart(port, backendLogin(base), personas, decisionSessions);
    console.log(
      `\nShift start (decisions at ${DECISION_CONCURRENCY} clients; then all ${personaCount} people log in at once with ` +
        `${loginConcurrency} browsers, in ${format(shift.burstMs / 1000, 1)} s)`,
    );
    console.log('scenario'.padEnd(44) + 'count'.padStart(9) + 'p50 ms'.padStart(8) + 'p99 ms'.padStart(8));
    for (const [name, latencies] of [
      ['decisions before the burst', shift.before],
      ['decisions during the burst', shift.during],
      ['logins in the burst (callback)', shift.logins.latenciesMs],
    ] as const) {
      console.log(
        name.padEnd(44) +
          String(latencies.length).padStart(9) +
          format(percentile(latencies, 50)).padStart(8) +
          format(percentile(latencies, 99)).padStart(8),
      );
    }
    if (shift.logins.errors + shift.result.errors > 0)
      console.log(`  errors: ${shift.logins.errors} logins, ${shift.result.errors} decisions`);

    const [backendLogins, peerLogins] = logins;
    const cpuRatio =
      (backendLogins.appCpuMs + backendLogins.postgresCpuMs) / (peerLogins.appCpuMs + peerLogins.postgresCpuMs);
    const loginP99 = [percentile(backendLogins.latencies, 99), percentile(peerLogins.latencies, 99)];
    const meRatio = me[0].perSecond / httpRows[0].perSecond;
    console.log(`\nTargets`);
    console.log(
      `  backend CPU per web login: ${format(backendLogins.appCpuMs)} ms (target ≤ ${TARGET_CPU_PER_LOGIN_MS} ms): ${verdict(backendLogins.appCpuMs <= TARGET_CPU_PER_LOGIN_MS)}`,
    );
    console.log(
      `  backend + Postgres CPU per login vs the peer: ${format(cpuRatio)}× (target ≤ ${TARGET_LOGIN_CPU_RATIO}×): ${verdict(cpuRatio <= TARGET_LOGIN_CPU_RATIO)}`,
    );
    console.log(
      `  login p99 vs the peer: ${format(loginP99[0], 0)} vs ${format(loginP99[1], 0)} ms (target ≤ the peer's): ${verdict(loginP99[0] <= loginP99[1])}`,
    );
    console.log(
      `  GET /api/me throughput / GET /health throughput: ${format(meRatio * 100, 0)} % (target ≥ ${TARGET_ME_THROUGHPUT_RATIO * 100} %): ${verdict(meRatio >= TARGET_ME_THROUGHPUT_RATIO)}`,
    );
    const chain = (await (
      await fetch(`${base}/api/admin/audit-events/verify`, { method: 'POST', headers: writeHeaders })
    ).json()) as { valid: boolean; checkedEvents: number };
    console.log(`  audit chain after the run: ${chain.valid ? 'valid' : 'BROKEN'} (${chain.checkedEvents} events)`);
    if (!chain.valid) process.exitCode = 1;
    console.log(
      `  backend CPU per security decision: ${format(decisionRow.cpuMsPerUnit, 3)} ms (target ≤ ${TARGET_CPU_PER_DECISION_MS} ms): ${verdict(decisionRow.cpuMsPerUnit <= TARGET_CPU_PER_DECISION_MS)}`,
    );
    const p99 = percentile(decisionRow.latencies, 99);
    console.log(
      `  security decision p99 at ${DECISION_CONCURRENCY} clients: ${format(p99)} ms (target < ${TARGET_DECISION_P99_MS} ms): ${verdict(p99 < TARGET_DECISION_P99_MS)}`,
    );
    const answered = decisions.result.expectedAnswers + shift.result.expectedAnswers;
    const log = await sermiLogAfterRun(base, writeHeaders, backendUrl);
    console.log(
      `  SERMI access log: ${log.recorded} access records for ${answered} answered decisions (${log.recorded === answered ? 'none lost' : 'LOST RECORDS'}); ` +
        `chain ${log.valid ? 'valid' : 'BROKEN'} (${log.checkedRecords} records in ${log.checkedSeals} seals)`,
    );
    if (!log.valid || log.recorded !== answered) process.exitCode = 1;

    if (instances > 1) await reportInstances();

    if (soakMs > 0) await reportSoak(systems[0].meCookies, decisionSessions);
  } finally {
    await Promise.all([backend?.stop(), peer?.stop()]);
    await proxy.close();
    await sandbox.close();
    await usage.close();
    await dbs.cleanup();
    await server.cleanup();
  }
}

await main();
