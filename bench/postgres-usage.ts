import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import pg from 'pg';

/**
 * What one database costs its Postgres server: the CPU time of the server processes connected to it (from /proc, so
 * only when the server runs on this machine) and its committed transactions (pg_stat_database). Each system under
 * test gets a database of its own, so the two can be told apart on one server.
 */
export class PostgresUsage {
  /** The monitor's last query, settled or not: the next one waits for it (see query()). */
  private previous: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly admin: pg.Client,
    /** False when the server's processes are not visible here (a server on another machine). */
    readonly seesProcesses: boolean,
  ) {}

  /** `adminUrl`: any database on the server other than the measured ones (the monitor's own work is not counted). */
  static async connect(adminUrl: string): Promise<PostgresUsage> {
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    const pid = (await admin.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
    return new PostgresUsage(admin, (await serverCpuNanos(pid)) !== undefined);
  }

  close(): Promise<void> {
    return this.admin.end();
  }

  /** One query at a time on the monitor's connection: a window's readings overlap (pg 9 refuses queued queries). */
  private query<R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<pg.QueryResult<R>> {
    const result = this.previous.then(() => this.admin.query<R>(text, values));
    this.previous = result.catch(() => undefined);
    return result;
  }

  /**
   * Bytes of write-ahead log the whole server has written so far (its insert position): exact at once, unlike the
   * cumulative statistics. Over a window in which one system runs, its WAL; a window that writes much more than the
   * others per operation wrote full-page images, as the first change of each page after a checkpoint does.
   */
  async walBytes(): Promise<number> {
    const { rows } = await this.query<{ bytes: string }>(
      `SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0')::text AS bytes`,
    );
    return Number(rows[0].bytes);
  }

  /** The server processes connected to the database: its clients' backends and any autovacuum worker on it. */
  async processes(database: string): Promise<{ pid: number; autovacuum: boolean }[]> {
    const { rows } = await this.query<{ pid: number; autovacuum: boolean }>(
      `SELECT pid, backend_type = 'autovacuum worker' AS autovacuum FROM pg_stat_activity WHERE datname = $1`,
      [database],
    );
    return rows;
  }

  /**
   * Committed transactions of the database so far. Postgres backends report their counts at most once a second while
   * busy and up to 10 s after they go idle (PGSTAT_IDLE_INTERVAL), so read this only after the database has been
   * idle for longer than that (see settle()).
   */
  async commits(database: string): Promise<number> {
    const { rows } = await this.query<{ commits: string }>(
      'SELECT xact_commit AS commits FROM pg_stat_database WHERE datname = $1',
      [database],
    );
    return Number(rows[0]?.commits ?? Number.NaN);
  }

  /**
   * Starts counting the CPU time of the database's server processes; `stop()` returns the milliseconds spent since
   * (`ms`), and how much of it autovacuum workers spent on the database's tables (`autovacuumMs`: part of what its
   * writes cost, but it comes in bursts, so a window that had one reads higher). Connections come and go (pools close
   * idle ones), so the processes are looked up every `pollMs` and a process that ended counts with the last time seen.
   */
  async cpu(database: string, pollMs = 250): Promise<{ stop: () => Promise<{ ms: number; autovacuumMs: number }> }> {
    const first = new Map<number, number>();
    const last = new Map<number, number>();
    const autovacuum = new Set<number>();
    const sample = async (initial: boolean) => {
      for (const { pid, autovacuum: isAutovacuum } of await this.processes(database)) {
        const nanos = await serverCpuNanos(pid);
        if (nanos === undefined) continue;
        // A process that started during the window spent all of its time in it.
        if (!first.has(pid)) first.set(pid, initial ? nanos : 0);
        last.set(pid, nanos);
        if (isAutovacuum) autovacuum.add(pid);
      }
    };
    await sample(true);
    let sampling = Promise.resolve();
    const timer = setInterval(() => {
      sampling = sampling.then(() => sample(false));
    }, pollMs);
    return {
      stop: async () => {
        clearInterval(timer);
        await sampling;
        await sample(false);
        let [nanos, autovacuumNanos] = [0, 0];
        for (const [pid, end] of last) {
          nanos += end - first.get(pid)!;
          if (autovacuum.has(pid)) autovacuumNanos += end - first.get(pid)!;
        }
        return this.seesProcesses
          ? { ms: nanos / 1e6, autovacuumMs: autovacuumNanos / 1e6 }
          : { ms: Number.NaN, autovacuumMs: Number.NaN };
      },
    };
  }
}

/** Time on CPU of a single-threaded process in nanoseconds (/proc/<pid>/schedstat, finer than the 10 ms ticks of stat). */
async function serverCpuNanos(pid: number): Promise<number | undefined> {
  return readFile(`/proc/${pid}/schedstat`, 'utf8').then(
    (text) => Number(text.split(' ')[0]),
    () => undefined,
  );
}

/** Longer than Postgres backends keep counts unreported once idle (PGSTAT_IDLE_INTERVAL, 10 s). */
export const STATS_SETTLE_MS = 11_000;

export function settle(ms = STATS_SETTLE_MS): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Two scratch databases on one server (one per system under test); dropped by `cleanup`. */
export async function scratchDatabases(
  adminUrl: string,
  names: string[],
): Promise<{ urls: string[]; names: string[]; cleanup: () => Promise<void> }> {
  const suffix = randomUUID().slice(0, 8);
  const full = names.map((name) => `rmi_bench_${name}_${suffix}`);
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    for (const name of full) await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const urls = full.map((name) => {
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    return url.toString();
  });
  return {
    urls,
    names: full,
    cleanup: async () => {
      const again = new pg.Client({ connectionString: adminUrl });
      await again.connect();
      try {
        for (const name of full) await again.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await again.end();
      }
    },
  };
}
