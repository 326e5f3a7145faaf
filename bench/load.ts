import { Agent, request } from 'node:http';

export interface LoadOptions {
  port: number;
  concurrency: number;
  durationMs: number;
  /** Builds request number `i`. */
  request: (i: number) => { method: string; path: string; headers?: Record<string, string>; body?: string };
  expectStatus: number;
  /**
   * Run this long first, on the same connections, without recording: the measured window then starts in the
   * steady state instead of with every client connecting at the same instant.
   */
  warmupMs?: number;
  /** Called when the measured window starts (e.g. to read the backend's CPU time). */
  onMeasureStart?: () => void;
  /** Ends the run early (checked before each request). */
  shouldStop?: () => boolean;
  /**
   * Open loop: send this many requests a second on a fixed schedule, whether or not earlier ones were answered
   * (`concurrency` caps the requests in flight). Without it, closed loop.
   */
  ratePerSecond?: number;
  /** Called for every answer, warm-up included, with when the request was sent (performance.now()). */
  onAnswer?: (sentAt: number, latencyMs: number, ok: boolean) => void;
}

export interface LoadResult {
  requests: number;
  errors: number;
  elapsedMs: number;
  latenciesMs: Float64Array;
  /** Every answer with the expected status, warm-up included (e.g. to count the records a scenario wrote). */
  expectedAnswers: number;
}

/**
 * Closed-loop load: `concurrency` clients on keep-alive connections, each sending its next request on reply; or, with
 * `ratePerSecond`, open-loop load at that rate. Only requests sent after the warm-up are counted.
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency });
  const latencies: number[] = [];
  let errors = 0;
  let expectedAnswers = 0;
  let issued = 0;
  const measureFrom = performance.now() + (options.warmupMs ?? 0);
  const deadline = measureFrom + options.durationMs;
  let started = Number.NaN;
  const measuring = () => {
    if (!Number.isNaN(started)) return true;
    if (performance.now() < measureFrom) return false;
    started = performance.now();
    options.onMeasureStart?.();
    return true;
  };

  const once = (i: number) =>
    new Promise<void>((resolve) => {
      const spec = options.request(i);
      const counted = measuring();
      const begin = performance.now();
      const req = request(
        { host: '127.0.0.1', port: options.port, method: spec.method, path: spec.path, headers: spec.headers, agent },
        (res) => {
          res.resume();
          res.on('end', () => {
            if (res.statusCode === options.expectStatus) expectedAnswers += 1;
            options.onAnswer?.(begin, performance.now() - begin, res.statusCode === options.expectStatus);
            if (counted) {
              latencies.push(performance.now() - begin);
              if (res.statusCode !== options.expectStatus) errors += 1;
            }
            resolve();
          });
        },
      );
      req.on('error', () => {
        if (counted) errors += 1;
        resolve();
      });
      req.end(spec.body);
    });

  const client = async () => {
    while (performance.now() < deadline && !options.shouldStop?.()) await once(issued++);
  };
  const openLoop = async (rate: number) => {
    const inFlight = new Set<Promise<void>>();
    let due = performance.now();
    while (performance.now() < deadline && !options.shouldStop?.()) {
      if (inFlight.size < options.concurrency) {
        const sent = once(issued++).finally(() => inFlight.delete(sent));
        inFlight.add(sent);
      }
      due += 1000 / rate;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
    await Promise.all(inFlight);
  };
  if (options.ratePerSecond) await openLoop(options.ratePerSecond);
  else await Promise.all(Array.from({ length: options.concurrency }, client));
  const elapsedMs = performance.now() - started;
  agent.destroy();
  return {
    requests: latencies.length,
    errors,
    elapsedMs,
    latenciesMs: Float64Array.from(latencies).sort(),
    expectedAnswers,
  };
}

export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** A load scenario after a warm-up on the same connections, with the service's CPU time over the measured window. */
export async function measuredLoad(
  options: Omit<LoadOptions, 'onMeasureStart'> & { warmupMs: number },
  cpu: () => Promise<number>,
) {
  let before = cpu();
  const result = await runLoad({
    ...options,
    onMeasureStart: () => {
      before = cpu();
    },
  });
  return { result, cpuMsPerRequest: ((await cpu()) - (await before)) / result.requests };
}
