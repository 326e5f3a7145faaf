import { Agent, request } from 'node:http';

export interface LoadOptions {
  port: number;
  concurrency: number;
  durationMs: number;
  /** Builds request number `i`. */
  request: (i: number) => { method: string; path: string; headers?: Record<string, string>; body?: string };
  expectStatus: number;
}

export interface LoadResult {
  requests: number;
  errors: number;
  elapsedMs: number;
  latenciesMs: Float64Array;
}

/** Closed-loop load: `concurrency` clients on keep-alive connections, each sending its next request on reply. */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency });
  const latencies: number[] = [];
  let errors = 0;
  let issued = 0;
  const started = performance.now();
  const deadline = started + options.durationMs;

  const once = (i: number) =>
    new Promise<void>((resolve) => {
      const spec = options.request(i);
      const begin = performance.now();
      const req = request(
        { host: '127.0.0.1', port: options.port, method: spec.method, path: spec.path, headers: spec.headers, agent },
        (res) => {
          res.resume();
          res.on('end', () => {
            latencies.push(performance.now() - begin);
            if (res.statusCode !== options.expectStatus) errors += 1;
            resolve();
          });
        },
      );
      req.on('error', () => {
        errors += 1;
        resolve();
      });
      req.end(spec.body);
    });

  const client = async () => {
    while (performance.now() < deadline) await once(issued++);
  };
  await Promise.all(Array.from({ length: options.concurrency }, client));
  const elapsedMs = performance.now() - started;
  agent.destroy();
  return { requests: latencies.length, errors, elapsedMs, latenciesMs: Float64Array.from(latencies).sort() };
}

export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
