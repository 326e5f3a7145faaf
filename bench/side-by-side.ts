import { readFile } from 'node:fs/promises';
import type { Persona } from '../sandbox/digidentity/personas.js';
import { fullCollection } from './inspector.js';
import { type LoadOptions, percentile, runLoad } from './load.js';
import { backendLogin, type LoginRoute, logInEach, runLogins } from './logins.js';
import type { PostgresUsage } from './postgres-usage.js';
import { settle } from './postgres-usage.js';
import { machineBusyMs, type Service } from './processes.js';
import {
  DISTURBED_CORES,
  disturbedWindows,
  elsewhereCores,
  ratiosInOrder,
  roundOrder,
  splitSeries,
  windowSchedule,
} from './readings.js';
import { format, median, merged, perSecond, printComparison } from './report.js';
import { settings } from './settings.js';
import type { Rig } from './rig.js';
import { relativeSpeeds, speedProbe } from './speed-probe.js';

/** One system of the side-by-side comparison. */
export interface System {
  name: string;
  service: Service;
  database: string;
  login: LoginRoute;
  /** The authenticated "who am I" route. */
  mePath: string;
  meCookies: string[];
}

/** A backend (this build or another) as a system of the comparison, signed in at `base`. */
export function backendSystem(name: string, service: Service, database: string, base: string): System {
  return { name, service, database, login: backendLogin(base), mePath: '/api/me', meCookies: [] };
}

/** The backend's trivial route, `GET /health`, as a system of a comparison (its "who am I" route is /health). */
export function backendHealth(name: string, rig: Rig): System {
  return { ...backendSystem(name, rig.backend, rig.databases.backend.name, rig.base), mePath: '/health' };
}

interface Window {
  /** Operations in the measured part of the window (the CPU figures). */
  operations: number;
  /** Warm-up included (the commit counts, read only once Postgres reported them). */
  allOperations: number;
  appCpuMs: number;
  postgresCpuMs: number;
  /** The part of postgresCpuMs autovacuum workers spent on the system's database. */
  autovacuumCpuMs: number;
  /** Write-ahead log the server wrote meanwhile. */
  walBytes: number;
  /** The speed probe's median time for its unit of work meanwhile, µs (see SpeedProbe). */
  probeMicros: number;
  /** CPU the rest of the machine used meanwhile, in cores: see Measure. */
  elsewhereCores: number;
  /** CPU of the bench's own process meanwhile (the load generator and the sandbox provider), in cores. */
  benchCores: number;
  latencies: Float64Array;
  perSecond: number;
  errors: number;
}

/** What a window's workload counts itself; Measure reads the rest. */
type Counted = Pick<Window, 'operations' | 'allOperations' | 'latencies' | 'perSecond' | 'errors'>;

/**
 * Alternating windows of one workload on each system, the same load in each: a lead-in window of each, unmeasured,
 * then A B, B A, A B … (windowSchedule).
 */
export async function alternate(
  systems: System[],
  usage: PostgresUsage,
  windowOf: (system: System, measure: Measure) => Promise<Counted>,
) {
  const windows = new Map<System, (Window & { round: number | null })[]>(systems.map((system) => [system, []]));
  const commitsBefore = await Promise.all(systems.map((system) => usage.commits(system.database)));
  for (const { system, round } of windowSchedule(systems, settings.windowsPerSystem)) {
    const measure = new Measure(system, usage);
    const result = await windowOf(system, measure);
    windows.get(system)!.push({ ...result, ...(await measure.end()), round });
  }
  await settle();
  const commitsAfter = await Promise.all(systems.map((system) => usage.commits(system.database)));
  return systems.map((system, i) => {
    const { measured: mine, allOperations, errors } = splitSeries(windows.get(system)!);
    const operations = mine.reduce((sum, w) => sum + w.operations, 0);
    return {
      system,
      appCpuMs: median(mine.map((w) => w.appCpuMs / w.operations)),
      postgresCpuMs: median(mine.map((w) => w.postgresCpuMs / w.operations)),
      // Commits are counted per database over the whole run: not one system's when another shares its database.
      commits: systems.some((other) => other !== system && other.database === system.database)
        ? Number.NaN
        : (commitsAfter[i] - commitsBefore[i]) / allOperations,
      /** App + Postgres CPU per operation over all rounds together: a cost that comes every few windows counts. */
      cpuAllRounds: mine.reduce((sum, w) => sum + w.appCpuMs + w.postgresCpuMs, 0) / operations,
      /** App and Postgres CPU per operation in each round, in the order run, for the spread of the ratio. */
      rounds: mine.map((w) => ({
        app: w.appCpuMs / w.operations,
        postgres: w.postgresCpuMs / w.operations,
        autovacuum: w.autovacuumCpuMs / w.operations,
        walKb: w.walBytes / 1024 / w.operations,
        probeMicros: w.probeMicros,
        p99: percentile(w.latencies, 99),
        elsewhere: w.elsewhereCores,
        bench: w.benchCores,
      })),
      perSecond: median(mine.map((w) => w.perSecond)),
      latencies: merged(mine.map((w) => w.latencies)),
      errors,
      operations,
    };
  });
}
export type Side = Awaited<ReturnType<typeof alternate>>[number];

const benchCpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

interface Clocks {
  app: Promise<number>;
  postgres: ReturnType<PostgresUsage['cpu']>;
  machine: Promise<number>;
  wal: Promise<number>;
  bench: number;
  at: number;
}

/**
 * The CPU of a service and of its database's Postgres processes, from `start()` (or construction) to `end()`; the
 * bench's own (load generator and sandbox provider), in cores; and what the rest of the machine used meanwhile, in
 * cores: everything busy but those three — the other system idling, Postgres's background work,
 * anything else on the VM. A round whose ratio strays while this rose was disturbed from outside. What the VM cannot
 * see (the host, a sibling hyperthread) shows in the speed probe's reading of the window instead. And the WAL the
 * server wrote.
 */
export class Measure {
  private clocks: Clocks;

  constructor(
    private readonly system: System,
    private readonly usage: PostgresUsage,
  ) {
    speedProbe();
    this.clocks = this.read();
  }

  private read(): Clocks {
    return {
      app: this.system.service.cpu(),
      postgres: this.usage.cpu(this.system.database),
      machine: readFile('/proc/stat', 'utf8').then(machineBusyMs),
      wal: this.usage.walBytes(),
      bench: benchCpuMs(),
      at: performance.now(),
    };
  }

  /** Restarts the clock (e.g. after a warm-up). */
  start(): void {
    void this.clocks.postgres.then((tracker) => tracker.stop());
    this.clocks = this.read();
  }

  async end(): Promise<Omit<Window, keyof Counted>> {
    const { app, postgres, machine, wal, bench, at } = this.clocks;
    const [appAfter, { ms: postgresCpuMs, autovacuumMs: autovacuumCpuMs }, machineAfter, walAfter] = await Promise.all([
      this.system.service.cpu(),
      postgres.then((tracker) => tracker.stop()),
      readFile('/proc/stat', 'utf8').then(machineBusyMs),
      this.usage.walBytes(),
    ]);
    const benchMs = benchCpuMs() - bench;
    const elapsedMs = performance.now() - at;
    const appCpuMs = appAfter - (await app);
    const machineMs = machineAfter - (await machine);
    return {
      appCpuMs,
      postgresCpuMs,
      autovacuumCpuMs,
      walBytes: walAfter - (await wal),
      probeMicros: speedProbe().medianSince(at),
      elsewhereCores: elsewhereCores({ machineMs, appCpuMs, postgresCpuMs, benchMs, elapsedMs }),
      benchCores: benchMs / elapsedMs,
    };
  }
}

/** Each round's figures in the order run: which system and which part moved when a round's ratio strays. */
function printRounds(unit: string, a: Side, b: Side) {
  const row = (label: string, digits: number, values: number[]) =>
    console.log(label.padEnd(42) + values.map((v) => format(v, digits).padStart(8)).join(''));
  const numbers = a.rounds.map((_, i) => i + 1);
  row(`per ${unit}, by round`, 0, numbers);
  const ofSystem: [string, number, (round: Side['rounds'][number]) => number][] = [
    ['app CPU ms', 3, (r) => r.app],
    ['Postgres CPU ms', 3, (r) => r.postgres],
    ['  of it autovacuum', 3, (r) => r.autovacuum],
    ['  WAL written, kB', 2, (r) => r.walKb],
    ['  latency p99 ms', 0, (r) => r.p99],
  ];
  for (const { system, rounds } of [a, b]) {
    for (const [label, digits, value] of ofSystem) {
      row(label.startsWith(' ') ? label : `${system.name} ${label}`, digits, rounds.map(value));
    }
  }
  const cores: [string, (round: Side['rounds'][number]) => number][] = [
    ['elsewhere, cores', (r) => r.elsewhere],
    ['bench process, cores', (r) => r.bench],
  ];
  for (const [label, value] of cores) {
    for (const { system, rounds } of [a, b]) row(`${label} (${system.name} window)`, 2, rounds.map(value));
  }
  const { speeds, typicalMicros } = relativeSpeeds([...a.rounds, ...b.rounds].map((r) => r.probeMicros));
  for (const [i, { system }] of [a, b].entries()) {
    row(`machine speed (${system.name} window)`, 2, speeds.slice(i * a.rounds.length, (i + 1) * a.rounds.length));
  }
  row('app + Postgres CPU ratio', 2, ratiosInOrder(a, b));
  console.log(
    `machine speed 1.00: the speed probe's unit in ${format(typicalMicros, 0)} µs of CPU (compare runs by it)`,
  );
}

export function printSideBySide(title: string, unit: string, sides: Side[]) {
  const [a, b] = sides;
  console.log(`\n${title}`);
  printComparison(
    `per ${unit}`,
    [a.system.name, b.system.name],
    [
      { label: 'app CPU ms (median of windows)', values: [a.appCpuMs, b.appCpuMs], digits: 3 },
      { label: 'Postgres CPU ms (median of windows)', values: [a.postgresCpuMs, b.postgresCpuMs], digits: 3 },
      {
        label: 'app + Postgres CPU ms',
        values: [a.appCpuMs + a.postgresCpuMs, b.appCpuMs + b.postgresCpuMs],
        digits: 3,
      },
      { label: 'app + Postgres CPU ms, all rounds together', values: [a.cpuAllRounds, b.cpuAllRounds], digits: 3 },
      { label: 'Postgres commits', values: [a.commits, b.commits], digits: 3 },
      { label: 'latency p50 ms', values: [percentile(a.latencies, 50), percentile(b.latencies, 50)] },
      { label: 'latency p99 ms', values: [percentile(a.latencies, 99), percentile(b.latencies, 99)] },
      { label: `${unit}s per second (median)`, values: [a.perSecond, b.perSecond], digits: 0 },
    ],
    (x, y) => x / y,
  );
  printRounds(unit, a, b);
  console.log(
    `${a.system.name}: ${a.operations} in ${settings.windowsPerSystem} windows, ${a.errors} errors; ` +
      `${b.system.name}: ${b.operations}, ${b.errors} errors (ratio = ${a.system.name}/${b.system.name})`,
  );
  const warning = disturbanceWarning(sides);
  if (warning) console.log(warning);
}

/** A line saying that windows of the comparison were disturbed from outside, or null when none was. */
export function disturbanceWarning(sides: Side[]): string | null {
  const { disturbed, windows } = disturbedWindows(sides);
  if (disturbed === 0) return null;
  return (
    `DISTURBED: ${disturbed} of ${windows} windows ran with ${DISTURBED_CORES} cores or more busy elsewhere on the ` +
    `machine (other work than the systems, their Postgres and the bench): repeat the run before reading these figures`
  );
}

/**
 * The same closed-loop requests (`request`, at `concurrency` keep-alive clients) on each system in alternating
 * windows; every answer must be 200.
 */
export function alternateLoad(
  systems: System[],
  usage: PostgresUsage,
  concurrency: number,
  request: (system: System) => LoadOptions['request'],
) {
  return alternate(systems, usage, async (system, measure) => {
    const result = await runLoad({
      port: system.service.port,
      concurrency,
      durationMs: settings.durationMs,
      warmupMs: settings.warmupMs,
      expectStatus: 200,
      onMeasureStart: () => measure.start(),
      request: request(system),
    });
    return {
      operations: result.requests,
      allOperations: result.expectedAnswers,
      latencies: result.latenciesMs,
      perSecond: perSecond(result),
      errors: result.errors,
    };
  });
}

/** Logins a system runs in one turn of the warm-up before the other system's turn. */
const WARMUP_TURN_LOGINS = 250;

/**
 * `settings.loginWarmups` logins on each system, unmeasured, in turns of WARMUP_TURN_LOGINS that alternate between
 * the systems, so that neither idles through the other's warm-up: the backend, warmed up first, idled for a minute
 * through the peer's and then cost up to twice the CPU per login in the first measured rounds, falling over three or
 * four of them (2026-12-06). Each system's closed-loop rate over its turns.
 */
async function warmUpInTurns(systems: System[], personas: Persona[]): Promise<number[]> {
  const done = systems.map(() => ({ requests: 0, elapsedMs: 0 }));
  for (let turn = 0; turn * WARMUP_TURN_LOGINS < settings.loginWarmups; turn += 1) {
    const limit = Math.min(WARMUP_TURN_LOGINS, settings.loginWarmups - turn * WARMUP_TURN_LOGINS);
    for (const system of roundOrder(systems, turn)) {
      const result = await runLogins(system.login, personas, settings.loginConcurrency, Number.POSITIVE_INFINITY, {
        limit,
      });
      const total = done[systems.indexOf(system)];
      total.requests += result.requests;
      total.elapsedMs += result.elapsedMs;
    }
  }
  return done.map(perSecond);
}

/**
 * Returning web logins, then "who am I", on two systems in alternating windows, printed side by side. Every persona
 * logs in once first, so that the measured logins are returning people (the common case), then logins run
 * unmeasured (`loginWarmups` of them) on each; the first `concurrency` sessions serve the "who am I" windows.
 */
export async function loginsAndMe(
  systems: System[],
  rig: { usage: PostgresUsage; personas: Persona[] },
  meTitle: string,
) {
  const { concurrency, loginConcurrency, loginPace } = settings;
  for (const system of systems) {
    system.meCookies = (await logInEach(system.login, rig.personas, loginConcurrency)).slice(0, concurrency);
  }
  await warmUpInTurns(systems, rig.personas);
  // The first full collection after the warm-up deoptimizes code whose embedded objects died since it was compiled
  // (78 functions at once in one backend run, 2026-12-05) and the windows after it cost up to twice the CPU until V8
  // has optimized again. So it comes now, unmeasured, followed by a second warm-up.
  for (const system of systems) await fullCollection(system.service);
  const closedLoopRates = await warmUpInTurns(systems, rig.personas);
  await settle();
  const slower = Math.min(...closedLoopRates);
  const ratePerSecond = loginPace === 'closed' ? 0 : Math.round(loginPace * slower);
  const pace = ratePerSecond
    ? `${ratePerSecond} logins/s each (${loginPace} of the slower system's closed-loop ${Math.round(slower)}/s)`
    : 'closed loop';

  const logins = await alternate(systems, rig.usage, async (system, measure) => {
    const paced = { ratePerSecond };
    const warmup = await runLogins(system.login, rig.personas, loginConcurrency, settings.warmupMs, paced);
    measure.start();
    const result = await runLogins(system.login, rig.personas, loginConcurrency, settings.durationMs, paced);
    return {
      operations: result.requests,
      allOperations: warmup.requests + result.requests,
      latencies: result.latenciesMs,
      perSecond: perSecond(result),
      errors: result.errors,
    };
  });
  printSideBySide(
    `Returning web login, side by side (${loginConcurrency} browsers at ${pace}, ${rig.personas.length} people, alternating ${settings.durationMs / 1000}s windows; ` +
      'latency of the callback; CPU of the whole login: start + callback)',
    'login',
    logins,
  );

  const me = await alternateLoad(systems, rig.usage, concurrency, (system) => (i) => ({
    method: 'GET',
    path: system.mePath,
    headers: { Cookie: system.meCookies[i % system.meCookies.length], ...system.login.proxyHeaders },
  }));
  printSideBySide(
    `Who am I (${meTitle}; ${concurrency} keep-alive clients on ${concurrency} people's sessions)`,
    'request',
    me,
  );
  return { logins };
}
