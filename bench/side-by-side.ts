import type { LoginRoute } from './logins.js';
import { percentile } from './load.js';
import type { PostgresUsage } from './postgres-usage.js';
import { settle } from './postgres-usage.js';
import type { Service } from './processes.js';
import { median, merged, printComparison } from './report.js';
import { settings } from './settings.js';

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
export async function alternate(
  systems: System[],
  usage: PostgresUsage,
  windowOf: (system: System, measure: Measure) => Promise<Omit<Window, 'appCpuMs' | 'postgresCpuMs'>>,
) {
  const windows = new Map<System, Window[]>(systems.map((system) => [system, []]));
  const commitsBefore = await Promise.all(systems.map((system) => usage.commits(system.database)));
  for (let round = 0; round < settings.windowsPerSystem; round += 1) {
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
export type Side = Awaited<ReturnType<typeof alternate>>[number];

/** The CPU of a service and of its database's Postgres processes, from `start()` (or construction) to `end()`. */
export class Measure {
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
      { label: 'Postgres commits', values: [a.commits, b.commits], digits: 3 },
      { label: 'latency p50 ms', values: [percentile(a.latencies, 50), percentile(b.latencies, 50)] },
      { label: 'latency p99 ms', values: [percentile(a.latencies, 99), percentile(b.latencies, 99)] },
      { label: `${unit}s per second (median)`, values: [a.perSecond, b.perSecond], digits: 0 },
    ],
    (x, y) => x / y,
  );
  console.log(
    `${a.system.name}: ${a.operations} in ${settings.windowsPerSystem} windows, ${a.errors} errors; ` +
      `${b.system.name}: ${b.operations}, ${b.errors} errors (ratio = ${a.system.name}/${b.system.name})`,
  );
}
