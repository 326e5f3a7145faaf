import { spawn, execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { EmbeddedPostgres } from '../src/database/embedded-postgres.js';
import { csrfTokenFor, hashSessionToken, newSessionToken } from '../src/sessions/session-token.js';
import { freePort } from '../test/support/free-port.js';
import { waitForReady } from './wait-for-ready.js';
import { percentile, runLoad } from './load.js';

/**
 * `npm run bench`: builds the backend, runs it as production does (node dist/src/main.js, its own process) on a
 * real Postgres with synchronous commit, drives it over HTTP and prints throughput, latency percentiles and the
 * server's CPU time per request.
 *
 * Postgres: DATABASE_URL's server when set (a scratch database is created and dropped), otherwise a temporary
 * embedded one. Tuning: BENCH_CONCURRENCY (32), BENCH_SECONDS (5 per scenario).
 */
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 32);
const durationMs = Number(process.env.BENCH_SECONDS ?? 5) * 1000;
const PUBLIC_BASE_URL = 'http://bench.localhost';

function cpuMillis(pid: number): Promise<number> {
  // utime + stime in clock ticks (fields 14 and 15 of /proc/<pid>/stat); 100 ticks per second on Linux.
  return readFile(`/proc/${pid}/stat`, 'utf8').then((stat) => {
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  });
}

async function database(): Promise<{ url: string; cleanup: () => Promise<void> }> {
  if (process.env.DATABASE_URL) {
    const name = `rmi_bench_${randomUUID().slice(0, 8)}`;
    const admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const url = new URL(process.env.DATABASE_URL);
    url.pathname = `/${name}`;
    return {
      url: url.toString(),
      cleanup: async () => {
        const again = new pg.Client({ connectionString: process.env.DATABASE_URL });
        await again.connect();
        await again.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await again.end();
      },
    };
  }
  const dataDir = await mkdtemp(join(tmpdir(), 'rmi-bench-pg-'));
  await chmod(dataDir, 0o755);
  const server = await EmbeddedPostgres.start({ dataDir, port: await freePort(), durability: 'durable' });
  return {
    url: server.url,
    cleanup: async () => {
      await server.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

async function seed(url: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const insertAccount = async (name: string, roles: string[]) =>
      (await client.query(`INSERT INTO accounts (display_name, roles) VALUES ($1, $2) RETURNING id`, [name, roles]))
        .rows[0].id as string;
    const adminId = await insertAccount('Bench admin', ['admin']);
    const targetId = await insertAccount('Bench target', []);
    const link = await client.query(
      `INSERT INTO identity_links (account_id, provider, issuer, subject, attributes, first_login_at, last_login_at)
       VALUES ($1, 'digidentity', 'https://auth.digidentity.eu', $2, $3, now(), now()) RETURNING id`,
      [adminId, randomUUID(), { cabuid: 'EXA/NL/1234/1EXA2MP34LE5', ioeuid: 'NL/EXAMPLECAB/1234567890B' }],
    );
    const token = newSessionToken();
    await client.query(
      `INSERT INTO sessions (token_hash, account_id, provider, identity_link_id, authenticated_at, last_seen_at, idle_expires_at, absolute_expires_at)
       VALUES ($1, $2, 'digidentity', $3, now(), now(), now() + interval '1 hour', now() + interval '2 hours')`,
      [hashSessionToken(token), adminId, link.rows[0].id],
    );
    return { token, targetId };
  } finally {
    await client.end();
  }
}

const format = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : '-');

async function main() {
  console.error('building…');
  execFileSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
  const db = await database();
  const port = await freePort();
  const backend = spawn(process.execPath, ['dist/src/main.js'], {
    env: {
      PATH: process.env.PATH ?? '',
      ENV_FILE: '/dev/null',
      NODE_ENV: 'production',
      PORT: String(port),
      DATABASE_URL: db.url,
      PUBLIC_BASE_URL: PUBLIC_BASE_URL.replace('http:', 'https:'),
      LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
      DATABASE_POOL_SIZE: '20',
    },
    stdio: ['ignore', process.env.BENCH_LOG_LEVEL ? 'inherit' : 'ignore', 'inherit'],
  });
  try {
    await waitForReady(port);
    const { token, targetId } = await seed(db.url);
    const cookie = `__Host-rmi_session=${token}`;
    const writeHeaders = {
      Cookie: cookie,
      Origin: PUBLIC_BASE_URL.replace('http:', 'https:'),
      'X-CSRF-Token': csrfTokenFor(token),
      'Content-Type': 'application/json',
    };
    const scenarios = [
      { name: 'GET /health (framework floor)', expectStatus: 200, request: () => ({ method: 'GET', path: '/health' }) },
      {
        name: 'GET /api/me (session + account + links)',
        expectStatus: 200,
        request: () => ({ method: 'GET', path: '/api/me', headers: { Cookie: cookie } }),
      },
      {
        name: 'PATCH admin account (tx + audit chain)',
        expectStatus: 200,
        request: (i: number) => ({
          method: 'PATCH',
          path: `/api/admin/accounts/${targetId}`,
          headers: writeHeaders,
          body: JSON.stringify({ roles: i % 2 === 0 ? ['admin'] : [] }),
        }),
      },
    ];
    console.log(
      `node ${process.version}, ${concurrency} concurrent clients, ${durationMs / 1000}s per scenario, Postgres with synchronous_commit=on`,
    );
    console.log(
      [
        'scenario'.padEnd(42),
        'req/s'.padStart(8),
        'p50 ms'.padStart(8),
        'p90 ms'.padStart(8),
        'p99 ms'.padStart(8),
        'max ms'.padStart(8),
        'cpu ms/req'.padStart(11),
        'errors'.padStart(7),
      ].join(''),
    );
    for (const scenario of scenarios) {
      await runLoad({ port, concurrency, durationMs: Math.min(1000, durationMs), ...scenario });
      const cpuBefore = await cpuMillis(backend.pid!);
      const result = await runLoad({ port, concurrency, durationMs, ...scenario });
      const cpuAfter = await cpuMillis(backend.pid!);
      console.log(
        [
          scenario.name.padEnd(42),
          format(result.requests / (result.elapsedMs / 1000), 0).padStart(8),
          format(percentile(result.latenciesMs, 50)).padStart(8),
          format(percentile(result.latenciesMs, 90)).padStart(8),
          format(percentile(result.latenciesMs, 99)).padStart(8),
          format(result.latenciesMs.at(-1) ?? Number.NaN).padStart(8),
          format((cpuAfter - cpuBefore) / result.requests, 3).padStart(11),
          String(result.errors).padStart(7),
        ].join(''),
      );
    }
    const verify = await fetch(`http://127.0.0.1:${port}/api/admin/audit-events/verify`, {
      method: 'POST',
      headers: writeHeaders,
    });
    const chain = (await verify.json()) as { valid: boolean; checkedEvents: number };
    console.log(`audit chain after the run: ${chain.valid ? 'valid' : 'BROKEN'} (${chain.checkedEvents} events)`);
    if (!chain.valid) process.exitCode = 1;
  } finally {
    backend.kill('SIGTERM');
    await new Promise((resolve) => backend.once('exit', resolve));
    await db.cleanup();
  }
}

await main();
