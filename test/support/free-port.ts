import { createServer } from 'node:net';

const LOWEST = 15_000;
const SPAN = 17_000;
const WORKER_SLICES = 8;

/** Ports this process handed out: a caller may not listen on one yet when it asks for the next. */
const handedOut = new Set<number>();

/**
 * A TCP port that was free a moment ago on 127.0.0.1 (for servers the tests and the benchmark start). Chosen below
 * Linux's ephemeral range (32768–60999): a port the kernel hands out for listen(0) is also one it hands out for
 * outgoing connections, and under load a database or HTTP client connection took one before its server started.
 * Each jest worker draws from its own slice of that range, and a process never gets the same port twice: a testbed
 * asks for its port before it listens on it, and another worker, or the next call, could otherwise take it between.
 */
export async function freePort(): Promise<number> {
  const { low, size } = slice(Number(process.env.JEST_WORKER_ID));
  for (let attempt = 0; ; attempt += 1) {
    const candidate = low + Math.floor(Math.random() * size);
    if (!handedOut.has(candidate) && (await isFree(candidate))) {
      handedOut.add(candidate);
      return candidate;
    }
    if (attempt > 50) throw new Error(`no free TCP port between ${low} and ${low + size} on 127.0.0.1`);
  }
}

/**
 * Jest numbers its workers from 1; anything else (the benchmark, a script) draws from the whole range. Workers of one
 * run take consecutive slices (up to WORKER_SLICES workers, which jest.config.js's maxWorkers stays below), from a
 * slice the run's seed picks (global-setup.js).
 */
export function slice(
  workerId: number,
  seed = Number(process.env.RMI_TEST_PORT_SLICE_SEED ?? 0),
): { low: number; size: number } {
  if (!Number.isInteger(workerId) || workerId < 1) return { low: LOWEST, size: SPAN };
  const size = Math.floor(SPAN / WORKER_SLICES);
  const index =
    (((workerId - 1 + (Number.isInteger(seed) ? seed : 0)) % WORKER_SLICES) + WORKER_SLICES) % WORKER_SLICES;
  return { low: LOWEST + index * size, size };
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
