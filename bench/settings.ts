import { readSettings } from './flags.js';

/**
 * The benchmark's flags and the environment that shapes its load, read once (bench/flags.ts). What only the
 * processes it starts need is read where they start: BENCH_LOG_LEVEL and BENCH_NODE_ARGS in processes.ts
 * (bench:statements uses it too), DATABASE_URL in rig.ts.
 */
export const settings = readSettings(process.argv.slice(2), process.env);

/** SERMI decisions: closed-loop clients, on the sessions of this many IOEs. */
export const DECISIONS = { concurrency: 50, people: 10 } as const;
/** Below, inside and above the range where batched statements linger (hotStatementBatcher, DATABASE_BATCH_LINGER_MS). */
export const STEADY_DECISION_RATES = [100, 500, 1500];

export const TARGETS = {
  cpuPerLoginMs: 2.0,
  meThroughputRatio: 0.6,
  cpuPerDecisionMs: 1.0,
  decisionP99Ms: 50,
  loginCpuRatio: 0.7,
  instancesPostgresCpuRatio: 1.5,
} as const;
