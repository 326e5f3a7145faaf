import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { appendFile, chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startDigidentitySandbox } from '../sandbox/digidentity/digidentity-sandbox.js';
import { IOE_CLAIMS, type Persona } from '../sandbox/digidentity/personas.js';
import { EmbeddedPostgres } from '../src/database/embedded-postgres.js';
import { freePort } from '../test/support/free-port.js';
import { positiveNumber } from './flags.js';
import { backendLogin, logInEach, runLogins } from './logins.js';
import { PostgresUsage, scratchDatabases, settle } from './postgres-usage.js';
import { startBackend } from './processes.js';

/**
 * `npm run bench:statements`: where the Postgres time of a returning web login goes, statement by statement. Starts a
 * throw-away embedded Postgres with pg_stat_statements (nested statements of triggers and functions tracked too) and
 * the built backend on it, logs BENCH_PERSONAS (100) people in once, then measures BENCH_LOGINS (1000) logins at
 * BENCH_LOGIN_CONCURRENCY (10) browsers. Prints per login: calls and execution time of each statement (top level and
 * nested; a nested statement's time is also inside its caller's), planning time, and the Postgres CPU of the
 * database's server processes over the same logins; then buffer accesses by table and index, rows written, and the
 * triggers' functions. The sealers' statements are in the list too. BENCH_HOLD=1 keeps the database (its URL on
 * stderr) until the process gets SIGUSR2, for EXPLAIN by hand. Method and findings: docs/benchmark.md.
 */
const personaCount = positiveNumber(process.env, 'BENCH_PERSONAS', 100);
const loginCount = positiveNumber(process.env, 'BENCH_LOGINS', 1000);
const concurrency = positiveNumber(process.env, 'BENCH_LOGIN_CONCURRENCY', 10);
/**
 * With BENCH_EXPLAIN=n, n more logins (one browser, on the pool's warm connections) with auto_explain logging every
 * plan with buffers and WAL, nested statements and triggers included: the plans are printed.
 */
const explainLogins = Number(process.env.BENCH_EXPLAIN ?? 0);

async function explain(admin: pg.Client, dataDir: string, run: () => Promise<void>) {
  const settings = {
    'auto_explain.log_min_duration': '0',
    'auto_explain.log_analyze': 'on',
    'auto_explain.log_buffers': 'on',
    'auto_explain.log_wal': 'on',
    'auto_explain.log_triggers': 'on',
    'auto_explain.log_nested_statements': 'on',
  };
  // A throw-away cluster: reloaded, the settings reach the backend's open connections too.
  for (const [name, value] of Object.entries(settings)) await admin.query(`ALTER SYSTEM SET ${name} = '${value}'`);
  await admin.query('SELECT pg_reload_conf()');
  await settle(500);
  const log = join(dataDir, 'cluster', 'server.log');
  const from = (await readFile(log, 'utf8')).length;
  await run();
  console.log('\nplans (auto_explain)\n' + (await readFile(log, 'utf8')).slice(from));
}

interface StatementRow {
  toplevel: boolean;
  calls: string;
  total_exec_time: number;
  total_plan_time: number;
  rows: string;
  shared_blks_hit: string;
  shared_blks_dirtied: string;
  wal_records: string;
  wal_bytes: string;
  query: string;
}

async function main() {
  console.error('building…');
  execFileSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
  const dataDir = await mkdtemp(join(tmpdir(), 'rmi-statements-pg-'));
  await chmod(dataDir, 0o755);
  const port = await freePort();
  // Initialise, then restart with the extension preloaded (a throw-away cluster: nothing else is reconfigured).
  let server = await EmbeddedPostgres.start({ dataDir, port, durability: 'durable' });
  await server.stop();
  await appendFile(
    join(dataDir, 'cluster', 'postgresql.conf'),
    `\nshared_preload_libraries = 'pg_stat_statements,auto_explain'\npg_stat_statements.track = all\n` +
      `pg_stat_statements.track_planning = on\npg_stat_statements.max = 5000\ntrack_functions = all\n`,
  );
  server = await EmbeddedPostgres.start({ dataDir, port, durability: 'durable' });
  const admin = new pg.Client({ connectionString: server.adminUrl });
  await admin.connect();
  await admin.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
  const dbs = await scratchDatabases(server.adminUrl, ['statements']);
  const appPort = await freePort();
  const base = `http://localhost:${appPort}`;
  const personas: Persona[] = Array.from({ length: personaCount }, (_, i) => ({
    id: `bench-${randomUUID()}`,
    label: `Bench IOE ${i}`,
    description: 'benchmark',
    claims: { ...IOE_CLAIMS, ioeuid: `NL/EXAMPLECAB/${String(1_000_000_000 + i)}B` },
  }));
  const sandbox = await startDigidentitySandbox({ redirectUris: [`${base}/auth/digidentity/callback`], personas });
  const backend = await startBackend(appPort, {
    PUBLIC_BASE_URL: base,
    DATABASE_URL: dbs.urls[0],
    ...sandbox.backendSettings,
  });
  const usage = await PostgresUsage.connect(server.adminUrl);
  try {
    const route = backendLogin(base);
    await logInEach(route, personas, concurrency);
    await runLogins(route, personas, concurrency, Number.POSITIVE_INFINITY, { limit: 100 });
    await settle(2000);
    const db = dbs.names[0];
    const dbid = (await admin.query<{ oid: number }>('SELECT oid FROM pg_database WHERE datname = $1', [db])).rows[0]
      .oid;
    const target = new pg.Client({ connectionString: dbs.urls[0] });
    await target.connect();
    await admin.query('SELECT pg_stat_statements_reset()');
    await target.query('SELECT pg_stat_reset()');
    const cpu = await usage.cpu(db);
    const appBefore = await backend.cpu();
    const result = await runLogins(route, personas, concurrency, Number.POSITIVE_INFINITY, { limit: loginCount });
    // The sealers catch up within a second or two: their work for these logins is counted.
    await settle(3000);
    const postgresMs = (await cpu.stop()).ms;
    const appMs = (await backend.cpu()) - appBefore;
    const logins = result.requests;
    const { rows } = await admin.query<StatementRow>(
      `SELECT toplevel, calls, total_exec_time, total_plan_time, rows, shared_blks_hit, shared_blks_dirtied,
              wal_records, wal_bytes, query
         FROM pg_stat_statements WHERE dbid = $1 ORDER BY total_exec_time + total_plan_time DESC`,
      [dbid],
    );
    const execTop = rows.filter((r) => r.toplevel).reduce((sum, r) => sum + r.total_exec_time, 0);
    const planTop = rows.filter((r) => r.toplevel).reduce((sum, r) => sum + r.total_plan_time, 0);
    console.log(`\n${logins} logins (${result.errors} errors), ${concurrency} browsers, ${personaCount} people`);
    console.log(
      `per login: Postgres CPU ${(postgresMs / logins).toFixed(3)} ms, app CPU ${(appMs / logins).toFixed(3)} ms`,
    );
    console.log(
      `per login: top-level execution ${(execTop / logins).toFixed(3)} ms, planning ${(planTop / logins).toFixed(3)} ms`,
    );
    const { rows: commits } = await admin.query<{ xact_commit: string }>(
      'SELECT xact_commit FROM pg_stat_database WHERE datname = $1',
      [db],
    );
    console.log(`commits per login (may lag): ${(Number(commits[0].xact_commit) / logins).toFixed(2)}`);
    console.log(
      '\n' +
        [
          'level',
          'calls/login',
          'exec ms/login',
          'plan ms/login',
          'ms/call',
          'rows/call',
          'blks hit/call',
          'WAL rec/call',
          'WAL B/call',
        ]
          .map((h, i) => (i === 0 ? h.padEnd(6) : h.padStart(14)))
          .join('') +
        '  statement',
    );
    for (const row of rows) {
      const calls = Number(row.calls);
      if ((row.total_exec_time + row.total_plan_time) / logins < 0.002) continue;
      console.log(
        (row.toplevel ? 'top' : 'nested').padEnd(6) +
          [
            calls / logins,
            row.total_exec_time / logins,
            row.total_plan_time / logins,
            row.total_exec_time / calls,
            Number(row.rows) / calls,
            Number(row.shared_blks_hit) / calls,
            Number(row.wal_records) / calls,
            Number(row.wal_bytes) / calls,
          ]
            .map((n) => n.toFixed(3).padStart(14))
            .join('') +
          '  ' +
          row.query.replace(/\s+/g, ' ').slice(0, Number(process.env.BENCH_QUERY_CHARS ?? 160)),
      );
    }
    await settle();
    const { rows: functions } = await target.query<{
      funcname: string;
      calls: string;
      total_time: number;
      self_time: number;
    }>(`SELECT funcname, calls, total_time, self_time FROM pg_stat_user_functions ORDER BY total_time DESC`);
    const { rows: tables } = await target.query<{ relname: string; heap: string; idx: string; toast: string }>(
      `SELECT relname, heap_blks_hit + heap_blks_read AS heap, coalesce(idx_blks_hit + idx_blks_read, 0) AS idx,
              coalesce(toast_blks_hit + toast_blks_read, 0) + coalesce(tidx_blks_hit + tidx_blks_read, 0) AS toast
         FROM pg_statio_user_tables ORDER BY heap_blks_hit + coalesce(idx_blks_hit, 0) DESC`,
    );
    console.log('\nbuffer accesses per login by table (pg_statio_user_tables: heap, indexes, toast)');
    for (const t of tables) {
      const [heap, idx, toast] = [t.heap, t.idx, t.toast].map((n) => Number(n) / logins);
      if (heap + idx + toast >= 0.5)
        console.log(
          `  ${t.relname.padEnd(28)} ${heap.toFixed(1).padStart(8)} ${idx.toFixed(1).padStart(8)} ${toast.toFixed(1).padStart(8)}`,
        );
    }
    const { rows: indexes } = await target.query<{ indexrelname: string; hit: string }>(
      `SELECT indexrelname, idx_blks_hit + idx_blks_read AS hit FROM pg_statio_user_indexes ORDER BY 2 DESC`,
    );
    console.log('\nbuffer accesses per login by index');
    for (const i of indexes)
      if (Number(i.hit) / logins >= 0.5)
        console.log(`  ${i.indexrelname.padEnd(48)} ${(Number(i.hit) / logins).toFixed(1).padStart(8)}`);
    const { rows: tuples } = await target.query<{
      relname: string;
      ins: string;
      upd: string;
      hot: string;
      del: string;
      seq: string;
      seq_read: string;
    }>(
      `SELECT relname, n_tup_ins AS ins, n_tup_upd AS upd, n_tup_hot_upd AS hot, n_tup_del AS del, seq_scan AS seq,
              seq_tup_read AS seq_read
         FROM pg_stat_user_tables
        WHERE n_tup_ins + n_tup_upd + n_tup_del > 0 ORDER BY relname`,
    );
    console.log('\nper login: rows inserted, updated, of which HOT, deleted; sequential scans, rows they read');
    for (const t of tuples)
      console.log(
        `  ${t.relname.padEnd(28)} ${[t.ins, t.upd, t.hot, t.del, t.seq, t.seq_read].map((n) => (Number(n) / logins).toFixed(2).padStart(7)).join('')}`,
      );
    await target.end();
    console.log('\nfunctions (pg_stat_user_functions, total time incl. nested; may lag like the commit counts)');
    for (const f of functions)
      console.log(
        `  ${f.funcname}: ${Number(f.calls) / logins} calls/login, ${(f.total_time / logins).toFixed(3)} ms/login`,
      );
    if (explainLogins > 0)
      await explain(admin, dataDir, () =>
        runLogins(route, personas, 1, Number.POSITIVE_INFINITY, { limit: explainLogins }).then(() => undefined),
      );
    if (process.env.BENCH_HOLD) {
      console.error(`holding the database until SIGUSR2: ${dbs.urls[0]}`);
      await new Promise((resolve) => process.once('SIGUSR2', resolve));
    }
  } finally {
    await usage.close();
    await backend.stop();
    await sandbox.close();
    await admin.end();
    await dbs.cleanup();
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
