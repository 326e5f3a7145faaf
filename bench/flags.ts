import { parseArgs } from 'node:util';

/**
 * The benchmark's flags and the environment that shapes its load (docs/benchmark.md#flags-and-settings). Read once
 * by settings.ts; here without reading the process's own, so that a test can give them.
 *
 * `--only logins`: just the logins and "who am I" side by side with the peer, for work on the login;
 * `--only instances`: just the several-instances comparison (with `--instances N`), for work on batching;
 * `--only soak`: just the soak (with `--soak 10m`, say), for work on memory; `--only steady`: just the decisions at
 * steady rates, for work on the linger; `--only floor`: just the backend's `GET /health` against the same answer
 * from Node's HTTP server alone, what the framework costs a request. `--against REV`: just this build against another
 * commit's (the A/B of a change).
 */
const ALONE = ['logins', 'instances', 'soak', 'steady', 'floor'] as const;
export type Alone = (typeof ALONE)[number];
const isAlone = (value: string): value is Alone => (ALONE as readonly string[]).includes(value);

function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!match) throw new Error(`--soak: not a duration: ${text} (e.g. 30s, 10m, 0)`);
  return Number(match[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] ?? 's']!;
}

/**
 * `BENCH_LOGIN_PACE`: the side-by-side login windows' arrival rate, as a fraction of the slower system's rate in its
 * last closed-loop warm-up (both systems get the same rate), or `closed` (the default) for browsers that start the
 * next login as soon as the last one ended.
 */
function parseLoginPace(text: string | undefined): number | 'closed' {
  if (text === undefined || text === 'closed') return 'closed';
  const fraction = Number(text);
  if (fraction > 0 && fraction <= 1) return fraction;
  throw new Error(`BENCH_LOGIN_PACE: a fraction in (0, 1] or closed, not ${text}`);
}

/** A BENCH_* number: `fallback` when unset; a mistyped one stops the bench rather than run it with NaN. */
export function positiveNumber(env: NodeJS.ProcessEnv, name: string, fallback: number, wholeNumber = true): number {
  const text = env[name];
  if (text === undefined) return fallback;
  const value = Number(text);
  if (text.trim() === '' || !(value > 0) || !Number.isFinite(value) || (wholeNumber && !Number.isInteger(value))) {
    throw new Error(`${name}: a ${wholeNumber ? 'whole ' : ''}number above 0, not ${text}`);
  }
  return value;
}

/**
 * A BENCH_* count of rounds that must be even: in a pair of rounds each system goes first once (roundOrder), and an
 * odd count would put the first-listed system first once more often (readings.ts, ratiosByPair).
 */
function evenNumber(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const value = positiveNumber(env, name, fallback);
  if (value % 2 !== 0)
    throw new Error(`${name}: an even number (pairs of rounds, each system first in one), not ${value}`);
  return value;
}

/** The settings from the command line's arguments (after the script) and the environment. */
export function readSettings(args: string[], env: NodeJS.ProcessEnv) {
  const { values: flags } = parseArgs({
    args,
    options: {
      instances: { type: 'string', default: '1' },
      soak: { type: 'string', default: '30s' },
      only: { type: 'string' },
      against: { type: 'string' },
    },
  });
  const instances = Number(flags.instances);
  if (!Number.isInteger(instances) || instances < 1) throw new Error('--instances: a whole number ≥ 1');
  const only = flags.only;
  if (only !== undefined && !isAlone(only)) throw new Error(`--only: one of ${ALONE.join(', ')}`);
  const soakMs = parseDuration(flags.soak);
  if (only === 'soak' && soakMs === 0) throw new Error('--only soak needs a soak length (--soak 10m)');
  if (only === 'instances' && instances < 2) throw new Error('--only instances needs --instances N (N ≥ 2)');
  if (flags.against !== undefined && (only !== undefined || instances > 1)) {
    throw new Error('--against runs alone: no --only or --instances with it');
  }
  const durationMs = positiveNumber(env, 'BENCH_SECONDS', 5, false) * 1000;
  return {
    /** Keep-alive clients of the HTTP scenarios and "who am I". */
    concurrency: positiveNumber(env, 'BENCH_CONCURRENCY', 32),
    /** Browsers logging in at once. */
    loginConcurrency: positiveNumber(env, 'BENCH_LOGIN_CONCURRENCY', 50),
    /** Length of a measured window. */
    durationMs,
    /** Distinct people logging in. */
    personaCount: positiveNumber(env, 'BENCH_PERSONAS', 200),
    /** Windows per system in the alternating scenarios: pairs of rounds, each system first in one of each pair. */
    windowsPerSystem: evenNumber(env, 'BENCH_WINDOWS', 6),
    /** Each HTTP scenario runs this long unmeasured first, on the same connections. */
    warmupMs: Math.min(1000, durationMs),
    /**
     * Logins each system runs before the first login window, twice (around a full collection): a login runs through
     * far more code than a request, and after 300 logins both systems still cost about half as much again as in
     * steady state. Counted in logins, not seconds: V8 optimizes by how often code ran, and a slow stretch of the VM
     * runs a third fewer logins in the same time.
     */
    loginWarmups: positiveNumber(env, 'BENCH_LOGIN_WARMUP', 1500),
    /**
     * The login windows' pace (parseLoginPace): closed loop by default, the issue's 50 browsers, each system at the
     * rate it reaches; a fraction gives both systems the same rate below their capacity (docs/benchmark.md: CPU per
     * login at a set rate).
     */
    loginPace: parseLoginPace(env.BENCH_LOGIN_PACE),
    instances,
    soakMs,
    only,
    /** A commit to compare this build with (`--against`). */
    against: flags.against,
  };
}
