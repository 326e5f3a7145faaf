import { type ChildProcess, spawn, type StdioOptions } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { freePort } from '../test/support/free-port.js';
import { waitForReady } from './wait-for-ready.js';

/** A system under test in a process of its own. */
export interface Service {
  process: ChildProcess;
  port: number;
  /** CPU time of the whole process (every thread) so far, in milliseconds. */
  cpu(): Promise<number>;
  /** Resident set size in bytes. */
  rss(): Promise<number>;
  /** Where its inspector listens on loopback, when started with `{ inspect: true }` (for `fullCollection()`). */
  inspectorPort?: number;
  stop(): Promise<void>;
}

/** Node flags for both systems under test, from BENCH_NODE_ARGS (e.g. `--cpu-prof --cpu-prof-dir=/tmp/profiles`). */
function nodeArgs(): string[] {
  return (process.env.BENCH_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
}

/**
 * The Node flags the production image starts the backend with: its Dockerfile's `CMD ["node", …flags,
 * "dist/src/main.js"]` (the last `CMD` at the start of a line; the health check's is indented).
 */
export function imageNodeFlags(dockerfile: string): string[] {
  const cmd = dockerfile
    .split('\n')
    .filter((line) => line.startsWith('CMD ['))
    .at(-1);
  const argv = cmd === undefined ? undefined : (JSON.parse(cmd.slice('CMD '.length)) as unknown);
  const script = Array.isArray(argv) ? argv.indexOf('dist/src/main.js') : -1;
  if (!Array.isArray(argv) || argv[0] !== 'node' || script < 0) {
    throw new Error(`the Dockerfile's CMD does not run node … dist/src/main.js: ${cmd ?? '(no CMD)'}`);
  }
  return argv.slice(1, script) as string[];
}

/** The Node flags of a checkout's production image (its `Dockerfile`). */
export function checkoutNodeFlags(checkout = '.'): string[] {
  return imageNodeFlags(readFileSync(join(checkout, 'Dockerfile'), 'utf8'));
}

/** The same, as the bench's report shows them. */
export const nodeFlagsText = (checkout = '.') => checkoutNodeFlags(checkout).join(' ') || 'none';

/**
 * A process's own Node flags for the bench: BENCH_NODE_ARGS, then an inspector on loopback when it has a port — last,
 * since Node takes the last `--inspect`. Nothing attaches to the inspector but the bench's full collection, so the
 * process otherwise runs as without it.
 */
export function benchNodeArgs(inspectorPort: number | undefined): string[] {
  return [...nodeArgs(), ...(inspectorPort === undefined ? [] : [`--inspect=127.0.0.1:${inspectorPort}`])];
}

function quiet(logLevel: string | undefined): StdioOptions {
  return ['ignore', logLevel ? 'inherit' : 'ignore', 'pipe'];
}

/** Node's notes about the inspector (listening, a client attached or gone) are noise in the bench's report. */
const INSPECTOR_NOTE = /^(Debugger (listening on|attached|ending on)|For help, see: |Waiting for the debugger)/;

/** The child's stderr on the bench's, without the inspector's notes. */
function forwardErrors(child: ChildProcess): void {
  if (!child.stderr) return;
  createInterface({ input: child.stderr }).on('line', (line) => {
    if (!INSPECTOR_NOTE.test(line)) process.stderr.write(`${line}\n`);
  });
}

export function cpuMillis(pid: number): Promise<number> {
  // utime + stime in clock ticks (fields 14 and 15 of /proc/<pid>/stat); 100 ticks per second on Linux.
  return readFile(`/proc/${pid}/stat`, 'utf8').then((stat) => {
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  });
}

/** Busy time of the whole machine so far (ms): /proc/stat's first line without idle and iowait; 100 ticks a second. */
export function machineBusyMs(procStat: string): number {
  const [user, nice, system, , , irq, softirq, steal] = procStat
    .split('\n')[0]
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  return ((user + nice + system + irq + softirq + steal) * 1000) / 100;
}

async function rssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? Number.NaN) * 1024;
}

async function started(
  child: ChildProcess,
  port: number,
  readyPath: string,
  inspectorPort: number | undefined,
): Promise<Service> {
  forwardErrors(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await Promise.race([
      waitForReady(port, 60_000, readyPath),
      exited.then(() => {
        throw new Error(`process on port ${port} exited before it was ready`);
      }),
    ]);
  } catch (error) {
    // Not ready in time: nobody gets a Service to stop it with, so it must not keep running (and its port).
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
    throw error;
  }
  return {
    process: child,
    port,
    cpu: () => cpuMillis(child.pid!),
    rss: () => rssBytes(child.pid!),
    inspectorPort,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/**
 * The backend as production runs it: `node dist/src/main.js` (built beforehand) with the Node flags of that checkout's
 * production image, settings from the environment; from the checkout in `checkout` when given (another build, for
 * `--against`), else from this one. `inspect`: with an inspector on loopback (`fullCollection()`, the soak's heap).
 */
export async function startBackend(
  port: number,
  settings: Record<string, string>,
  checkout?: string,
  { inspect = false }: { inspect?: boolean } = {},
): Promise<Service> {
  const inspectorPort = inspect ? await freePort() : undefined;
  const args = [...checkoutNodeFlags(checkout), ...benchNodeArgs(inspectorPort), 'dist/src/main.js'];
  const child = spawn(process.execPath, args, {
    cwd: checkout,
    env: {
      PATH: process.env.PATH ?? '',
      ENV_FILE: '/dev/null',
      NODE_ENV: 'development',
      PORT: String(port),
      DATABASE_POOL_SIZE: '20',
      LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
      OIDC_ALLOW_INSECURE_HTTP: 'true',
      // Every simulated browser comes from 127.0.0.1: the limits stay on (their cost is measured) but out of reach.
      LOGIN_START_LIMIT_PER_MINUTE: '1000000',
      PASSWORDLESS_START_LIMIT_PER_MINUTE: '1000000',
      // The peer's openid-client waits 30 s for the provider; so does the backend here, so that a machine busy with
      // other work shows slow logins in both rather than failed ones in one.
      OIDC_HTTP_TIMEOUT_MS: '30000',
      ...settings,
    },
    stdio: quiet(process.env.BENCH_LOG_LEVEL),
  });
  return started(child, port, '/ready', inspectorPort);
}

/**
 * The idiomatic peer (bench/peer) in its own process. Its TypeScript is compiled when the process loads it (the
 * register hook); after that it runs as plain JavaScript like the backend.
 */
export async function startPeerProcess(
  port: number,
  settings: Record<string, string>,
  { inspect = false }: { inspect?: boolean } = {},
): Promise<Service> {
  const inspectorPort = inspect ? await freePort() : undefined;
  const child = spawn(
    process.execPath,
    [...benchNodeArgs(inspectorPort), '--import', '@swc-node/register/esm-register', 'bench/peer/main.ts'],
    {
      env: {
        PATH: process.env.PATH ?? '',
        NODE_ENV: 'production',
        PORT: String(port),
        DATABASE_POOL_SIZE: '20',
        OIDC_ALLOW_INSECURE_HTTP: 'true',
        ...settings,
      },
      stdio: ['ignore', 'inherit', 'pipe'],
    },
  );
  return started(child, port, '/health', inspectorPort);
}

/**
 * The same answer as the backend's `GET /health` (`{"status":"ok"}`), from Node's own HTTP server with nothing in
 * front: the floor under what any framework costs a request (bench/floor.ts).
 */
const BARE_HEALTH_SERVER = `
const { createServer } = require('node:http');
const body = JSON.stringify({ status: 'ok' });
const server = createServer((req, res) => {
  if (req.method !== 'GET' || req.url !== '/health') {
    res.statusCode = 404;
    return res.end();
  }
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
});
server.keepAliveTimeout = 65_000;
server.listen(Number(process.env.PORT), '127.0.0.1');
`;

export async function startBareHealth(port: number): Promise<Service> {
  const child = spawn(process.execPath, ['-e', BARE_HEALTH_SERVER], {
    env: { PATH: process.env.PATH ?? '', PORT: String(port) },
    stdio: ['ignore', 'inherit', 'pipe'],
  });
  return started(child, port, '/health', undefined);
}
