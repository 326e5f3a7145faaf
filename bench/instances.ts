import { randomBytes } from 'node:crypto';
import { freePort } from '../test/support/free-port.js';
import { decisionRequest, decisionSessionsAt } from './decisions.js';
import { percentile, runLoad } from './load.js';
import { type PostgresUsage, settle } from './postgres-usage.js';
import { startBackend } from './processes.js';
import { format, median, merged, printComparison, verdict } from './report.js';
import { roundOrder } from './readings.js';
import { type Rig, seedAdmin } from './rig.js';
import { DECISIONS, settings, TARGETS } from './settings.js';

/**
 * `settings.instances` backends on a database of their own behind the round-robin proxy: SERMI decisions through
 * one of them vs all, in alternating windows (1 first in every other round); the per-decision figures of each.
 */
async function oneVersusAll(rig: Rig) {
  const count = settings.instances;
  const { proxy, usage } = rig;
  const database = rig.databases.instances;
  const base = `http://localhost:${proxy.port}`;
  const writerPort = await freePort();
  const backendSettings = {
    PUBLIC_BASE_URL: base,
    TRUST_PROXY: 'loopback',
    DATABASE_URL: database.url,
    // The first instance writes the access log records of all (docs/operations.md#one-writer-for-the-access-log).
    SERMI_LOG_WRITER_URL: `http://127.0.0.1:${writerPort}`,
    SERMI_LOG_WRITER_SECRET: randomBytes(32).toString('base64url'),
    ...rig.sandbox.backendSettings,
  };
  // The first one migrates the database; the others start on it.
  const first = await startBackend(await freePort(), { ...backendSettings, SERMI_LOG_WRITER_PORT: String(writerPort) });
  const rest = await Promise.allSettled(
    Array.from({ length: count - 1 }, async () => startBackend(await freePort(), backendSettings)),
  );
  const all = [first, ...rest.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []))];
  try {
    const failed = rest.find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;
    await seedAdmin(database.url);
    proxy.route(all.map((service) => service.port));
    const headers = await decisionSessionsAt(base, rig.personas);
    const rows = new Map<number, { postgres: number[]; commits: number[]; app: number[]; latencies: Float64Array[] }>(
      [1, count].map((n) => [n, { postgres: [], commits: [], app: [], latencies: [] }]),
    );
    const appCpu = async () => (await Promise.all(all.map((service) => service.cpu()))).reduce((a, b) => a + b, 0);
    await settle();
    for (let round = 0; round < settings.windowsPerSystem; round += 1) {
      for (const n of roundOrder([1, count], round)) {
        proxy.route(all.slice(0, n).map((service) => service.port));
        const commitsBefore = await usage.commits(database.name);
        let postgres: ReturnType<PostgresUsage['cpu']> | undefined;
        let appBefore: Promise<number> | undefined;
        const result = await runLoad({
          port: proxy.port,
          concurrency: DECISIONS.concurrency,
          durationMs: settings.durationMs,
          warmupMs: settings.warmupMs,
          expectStatus: 200,
          request: decisionRequest(headers),
          onMeasureStart: () => {
            postgres = usage.cpu(database.name);
            appBefore = appCpu();
          },
        });
        const row = rows.get(n)!;
        // CPU in the steady state after the warm-up (the sealer keeps up within a second, so the window's sealing is
        // in it); commits of every decision sent, sealing included, once the database was idle long enough to tell.
        row.postgres.push((await (await postgres!).stop()).ms / result.requests);
        row.app.push(((await appCpu()) - (await appBefore!)) / result.requests);
        await settle();
        row.commits.push(((await usage.commits(database.name)) - commitsBefore) / result.expectedAnswers);
        row.latencies.push(result.latenciesMs);
        if (result.errors > 0) console.error(`${result.errors} failed decisions at ${n} instance(s)`);
      }
    }
    return [1, count].map((n) => {
      const row = rows.get(n)!;
      return {
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

/** 1 vs `settings.instances` backends behind the round-robin proxy, printed as ratios; the target checked. */
export async function reportInstances(rig: Rig) {
  const count = settings.instances;
  const [one, many] = await oneVersusAll(rig);
  console.log(
    `\nSERMI decisions behind a round-robin proxy: 1 vs ${count} instances on one database ` +
      `(${DECISIONS.concurrency} clients, alternating windows; CPU after the warm-up, commits until Postgres was idle again)`,
  );
  printComparison(
    'per decision',
    ['1', String(count)],
    [
      { label: 'Postgres CPU ms (median of windows)', values: [one.postgres, many.postgres], digits: 3 },
      { label: 'Postgres commits (median of windows)', values: [one.commits, many.commits], digits: 3 },
      { label: 'backend CPU ms, all instances', values: [one.app, many.app], digits: 3 },
      { label: 'latency p99 ms', values: [percentile(one.latencies, 99), percentile(many.latencies, 99)] },
    ],
    (x, y) => y / x,
  );
  const ratio = many.postgres / one.postgres;
  const target = TARGETS.instancesPostgresCpuRatio;
  console.log(
    `  Postgres CPU per decision at ${count} instances vs 1: ${format(ratio)}× (target ≤ ${target}×): ${verdict(ratio <= target)}`,
  );
}
