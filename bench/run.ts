import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { reportAgainst } from './against.js';
import { commitOf } from './other-build.js';
import {
  backendDecisionSessions,
  closedLoopDecisions,
  reportShiftStart,
  reportSteadyRates,
  sermiLogAfterRun,
} from './decisions.js';
import { reportInstances } from './instances.js';
import { reportFloor } from './floor.js';
import { measuredLoad, percentile } from './load.js';
import { nodeFlagsText } from './processes.js';
import { backendLogin, logInEach, peerLogin } from './logins.js';
import { format, printRows, type Row, rowOf, verdict } from './report.js';
import { loginCpuReading } from './readings.js';
import { type Rig, startRig } from './rig.js';
import { DECISIONS, settings, TARGETS } from './settings.js';
import {
  alternateLoad,
  backendHealth,
  backendSystem,
  disturbanceWarning,
  loginsAndMe,
  printSideBySide,
  type Side,
  type System,
} from './side-by-side.js';
import { reportSoak } from './soak.js';

/**
 * `npm run bench [-- --instances N] [-- --soak 10m] [-- --only logins|instances|soak|steady] [-- --against REV]`: builds the backend and runs it
 * as production does (its own process, node dist/src/main.js) on a real Postgres with synchronous commit, next to the
 * idiomatic peer (bench/peer, its own process), both logging in at the Digidentity sandbox (in this process, so its
 * work is counted for neither). Method, flags and targets: docs/benchmark.md; the flags and the BENCH_* tuning are
 * read in bench/settings.ts, the Postgres server (DATABASE_URL or a temporary embedded one) in bench/rig.ts.
 */

/** The audited write, on the backend alone (the trivial route runs beside "who am I": meAgainstHealth). */
async function httpScenarios(rig: Rig): Promise<void> {
  const scenarios = [
    {
      name: 'PATCH admin account (tx + audit event)',
      expectStatus: 200,
      request: (i: number) => ({
        method: 'PATCH',
        path: `/api/admin/accounts/${rig.admin.targetId}`,
        headers: rig.admin.headers,
        body: JSON.stringify({ roles: i % 2 === 0 ? ['admin'] : [], reason: `Bench change ${i}` }),
      }),
    },
  ];
  const rows: Row[] = [];
  for (const scenario of scenarios) {
    const measured = await measuredLoad(
      {
        port: rig.port,
        concurrency: settings.concurrency,
        durationMs: settings.durationMs,
        warmupMs: settings.warmupMs,
        ...scenario,
      },
      () => rig.backend.cpu(),
    );
    rows.push(rowOf(scenario.name, measured));
  }
  console.log(`\nHTTP (${settings.concurrency} concurrent keep-alive clients)`);
  printRows('req', rows);
}

/** Returning logins and "who am I", backend and peer in alternating windows. */
async function sideBySide(rig: Rig) {
  const systems: System[] = [
    backendSystem('backend', rig.backend, rig.databases.backend.name, rig.base),
    {
      name: 'peer',
      service: rig.peer,
      database: rig.databases.peer.name,
      login: peerLogin(rig.peerBase),
      mePath: '/me',
      meCookies: [],
    },
  ];
  const { logins } = await loginsAndMe(systems, rig, `GET /api/me vs the peer's GET /me`);
  return { logins, meCookies: systems[0].meCookies };
}

/**
 * "Who am I" against the trivial route on the backend, in alternating windows: the throughput ratio the target reads.
 * Measured minutes apart, the two drifted with the VM's speed (57–88 % for the same code).
 */
async function meAgainstHealth(rig: Rig, meCookies: string[]): Promise<number> {
  const me = { ...backendSystem('GET /api/me', rig.backend, rig.databases.backend.name, rig.base), meCookies };
  const health = backendHealth('GET /health', rig);
  const sides = await alternateLoad([me, health], rig.usage, settings.concurrency, (system) =>
    system === me
      ? (i) => ({ method: 'GET', path: me.mePath, headers: { Cookie: meCookies[i % meCookies.length] } })
      : () => ({ method: 'GET', path: health.mePath }),
  );
  printSideBySide(
    `Who am I against the trivial route, on the backend (${settings.concurrency} keep-alive clients, alternating windows)`,
    'request',
    sides,
  );
  return sides[0].perSecond / sides[1].perSecond;
}

/** The targets of the side-by-side logins. */
function printLoginTargets([backendLogins, peerLogins]: Side[]) {
  const { byPair, pairsMedian, allRounds, ratio: cpuRatio } = loginCpuReading(backendLogins, peerLogins);
  const loginP99 = [percentile(backendLogins.latencies, 99), percentile(peerLogins.latencies, 99)];
  console.log(
    `  backend CPU per web login: ${format(backendLogins.appCpuMs)} ms (target ≤ ${TARGETS.cpuPerLoginMs} ms): ${verdict(backendLogins.appCpuMs <= TARGETS.cpuPerLoginMs)}`,
  );
  console.log(
    `  backend + Postgres CPU per login vs the peer: ${format(cpuRatio)}× (the higher of the median of ` +
      `${byPair.length} pairs of rounds, ${format(pairsMedian)} in ${format(byPair[0])}–${format(byPair.at(-1)!)}, ` +
      `and all rounds together, ${format(allRounds)}; target ≤ ${TARGETS.loginCpuRatio}×): ${verdict(cpuRatio <= TARGETS.loginCpuRatio)}`,
  );
  console.log(
    `  login p99 vs the peer: ${format(loginP99[0], 0)} vs ${format(loginP99[1], 0)} ms (target ≤ the peer's): ${verdict(loginP99[0] <= loginP99[1])}`,
  );
  const disturbed = disturbanceWarning([backendLogins, peerLogins]);
  if (disturbed) console.log(`  the three above, login windows: ${disturbed}`);
}

/** Every scenario, the targets checked; then the several instances and the soak when asked for. */
async function everything(rig: Rig) {
  await httpScenarios(rig);
  const { logins, meCookies } = await sideBySide(rig);
  const meRatio = await meAgainstHealth(rig, meCookies);
  const decisionSessions = await backendDecisionSessions(rig);
  const decisions = await closedLoopDecisions(rig, decisionSessions);
  await reportSteadyRates(rig, decisionSessions);
  await reportShiftStart(rig, decisionSessions);

  console.log(`\nTargets`);
  printLoginTargets(logins);
  console.log(
    `  GET /api/me throughput / GET /health throughput: ${format(meRatio * 100, 0)} % (target ≥ ${TARGETS.meThroughputRatio * 100} %): ${verdict(meRatio >= TARGETS.meThroughputRatio)}`,
  );
  const chain = (await (
    await fetch(`${rig.base}/api/admin/audit-events/verify`, { method: 'POST', headers: rig.admin.headers })
  ).json()) as { valid: boolean; checkedEvents: number };
  console.log(`  audit chain after the run: ${chain.valid ? 'valid' : 'BROKEN'} (${chain.checkedEvents} events)`);
  if (!chain.valid) process.exitCode = 1;
  const decisionCpu = decisions.cpuMsPerUnit;
  console.log(
    `  backend CPU per security decision: ${format(decisionCpu, 3)} ms (target ≤ ${TARGETS.cpuPerDecisionMs} ms): ${verdict(decisionCpu <= TARGETS.cpuPerDecisionMs)}`,
  );
  const p99 = percentile(decisions.latencies, 99);
  console.log(
    `  security decision p99 at ${DECISIONS.concurrency} clients: ${format(p99)} ms (target < ${TARGETS.decisionP99Ms} ms): ${verdict(p99 < TARGETS.decisionP99Ms)}`,
  );
  const log = await sermiLogAfterRun(rig);
  const counted =
    log.recorded === log.answered
      ? 'none lost'
      : log.recorded < log.answered
        ? 'LOST RECORDS'
        : 'MORE RECORDS THAN ANSWERS: a scenario is not counted';
  console.log(
    `  SERMI access log: ${log.recorded} access records for ${log.answered} answered decisions (${counted}); ` +
      `chain ${log.valid ? 'valid' : 'BROKEN'} (${log.checkedRecords} records in ${log.checkedSeals} seals)`,
  );
  if (!log.valid || log.recorded !== log.answered) process.exitCode = 1;

  if (settings.instances > 1) await reportInstances(rig);
  if (settings.soakMs > 0) await reportSoak(rig, meCookies, decisionSessions);
}

async function main() {
  // A revision git does not know fails here, before anything is built or started.
  const against =
    settings.against === undefined ? undefined : { revision: settings.against, commit: commitOf(settings.against) };
  console.error('building…');
  execFileSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
  const rig = await startRig();
  try {
    console.log(
      `node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), Postgres with synchronous_commit=on, ` +
        `${settings.durationMs / 1000}s per window; load generator and Digidentity sandbox share the machine; ` +
        `the backend with its image's Node flags (${nodeFlagsText()}), ` +
        `the peer with Node's defaults` +
        (rig.usage.seesProcesses ? '' : '; Postgres runs elsewhere, so its CPU is not measured') +
        (process.env.BENCH_NODE_ARGS ? `; PROFILED with node ${process.env.BENCH_NODE_ARGS}` : ''),
    );
    const only = settings.only;
    if (against) {
      await reportAgainst(rig, against);
      return;
    }
    switch (only) {
      case 'steady':
        await reportSteadyRates(rig, await backendDecisionSessions(rig));
        break;
      case 'soak': {
        const cookies = await logInEach(backendLogin(rig.base), rig.personas, settings.loginConcurrency);
        await reportSoak(rig, cookies.slice(0, settings.concurrency), await backendDecisionSessions(rig));
        break;
      }
      case 'instances':
        await reportInstances(rig);
        break;
      case 'floor':
        await reportFloor(rig);
        break;
      case 'logins': {
        const { logins } = await sideBySide(rig);
        console.log(`\nTargets`);
        printLoginTargets(logins);
        break;
      }
      case undefined:
        await everything(rig);
        break;
      default:
        throw new Error(`--only ${only satisfies never}: no such part`);
    }
  } finally {
    await rig.close();
  }
}

await main();
