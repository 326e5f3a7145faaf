import { freePort } from '../test/support/free-port.js';
import { decisionRequest } from './decisions.js';
import { connectInspector } from './inspector.js';
import { type LoadOptions, runLoad } from './load.js';
import { backendLogin, runLogins } from './logins.js';
import { startBackend } from './processes.js';
import { format, mb, median } from './report.js';
import type { Rig } from './rig.js';
import { settings } from './settings.js';

/**
 * A fresh backend with its metrics listener on (as in production) under mixed load — logins, /api/me and decisions —
 * for `settings.soakMs`; its memory sampled throughout: RSS, and the heap used right after a full collection that the
 * bench asks for through the backend's inspector (the heap at an arbitrary moment says more about when V8 last
 * collected than about what is kept). It takes the port (and so the registered callback) of the rig's backend, which
 * it stops first.
 */
async function soak(rig: Rig, meCookies: string[], decisionSessions: Record<string, string>[]) {
  await rig.backend.stop();
  const ms = settings.soakMs;
  const service = await startBackend(
    rig.port,
    { ...rig.backendSettings, METRICS_PORT: String(await freePort()), METRICS_HOST: '127.0.0.1' },
    undefined,
    { inspect: true },
  );
  const inspector = await connectInspector(service.inspectorPort!);
  try {
    const samples: { at: number; rss: number; heap: number }[] = [];
    const started = performance.now();
    const deadline = started + ms;
    let sampling: Promise<unknown> = Promise.resolve();
    const sampler = setInterval(
      () => {
        // A sample that fails (the process busy or gone) is left out rather than ending the bench.
        sampling = Promise.all([service.rss(), inspector.heapAfterFullCollection()])
          .then(([rss, heap]) => samples.push({ at: performance.now() - started, rss, heap }))
          .catch(() => undefined);
      },
      Math.max(1000, ms / 60),
    );
    const load = (concurrency: number, request: LoadOptions['request']) =>
      runLoad({ port: rig.port, concurrency, durationMs: ms, expectStatus: 200, request });
    let loads;
    try {
      loads = await Promise.all([
        load(20, decisionRequest(decisionSessions)),
        load(10, (i) => ({ method: 'GET', path: '/api/me', headers: { Cookie: meCookies[i % meCookies.length] } })),
        runLogins(backendLogin(rig.base), rig.personas, 10, deadline - performance.now()),
      ]);
    } finally {
      clearInterval(sampler);
      await sampling;
    }
    const [decisions, me, logins] = loads;
    const fifth = Math.max(1, Math.floor(samples.length / 5));
    const first = samples.slice(0, fifth);
    const last = samples.slice(-fifth);
    return {
      decisions,
      me,
      logins,
      rss: [median(first.map((s) => s.rss)), median(last.map((s) => s.rss))],
      heap: [median(first.map((s) => s.heap)), median(last.map((s) => s.heap))],
      samples: samples.length,
    };
  } finally {
    inspector.close();
    await service.stop();
  }
}

/** The soak, printed: memory at its start and its end. */
export async function reportSoak(rig: Rig, meCookies: string[], decisionSessions: Record<string, string>[]) {
  const soaked = await soak(rig, meCookies, decisionSessions);
  console.log(
    `\nSoak (${format(settings.soakMs / 1000, 0)} s of mixed load on a fresh backend: ${soaked.decisions.requests} decisions, ` +
      `${soaked.me.requests} /api/me, ${soaked.logins.requests} logins; ${soaked.samples} memory samples)`,
  );
  console.log(
    `  RSS (median of the first / last fifth): ${mb(soaked.rss[0])} → ${mb(soaked.rss[1])} (${format(soaked.rss[1] / soaked.rss[0])}×)`,
  );
  console.log(
    `  heap used after a full collection (median of the first / last fifth): ${mb(soaked.heap[0])} → ${mb(soaked.heap[1])} (${format(soaked.heap[1] / soaked.heap[0])}×)`,
  );
  const errors = soaked.decisions.errors + soaked.me.errors + soaked.logins.errors;
  if (errors > 0) console.log(`  errors: ${errors}`);
}
