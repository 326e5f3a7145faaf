import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmod, chown, cp, mkdir, readFile, realpath, rename, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);

export interface EmbeddedPostgresOptions {
  /** Folder that holds the cluster, its log and the generated password. Created when missing. */
  dataDir: string;
  port: number;
  databaseName?: string;
  /** `durable` for data you keep; `fast` (no fsync) for throw-away test clusters. */
  durability?: 'durable' | 'fast';
  log?: (message: string) => void;
}

interface Binaries {
  initdb: string;
  pg_ctl: string;
}

/**
 * Where a root-run embedded Postgres keeps what the `postgres` system user cannot reach inside the project: a
 * project cloned into a private (0700) folder, such as root's home, is closed to it. Root-owned and traversable.
 */
const ROOT_RUN_BASE = '/var/lib/rmi-identity-backend';

interface RunAs {
  uid?: number;
  gid?: number;
}

async function loadBinaries(): Promise<Binaries> {
  const platformPackage = `@embedded-postgres/${process.platform}-${process.arch}`;
  try {
    return (await import(platformPackage)) as Binaries;
  } catch {
    throw new Error(
      `No embedded Postgres binaries for ${process.platform}-${process.arch} (${platformPackage}); set DATABASE_URL instead`,
    );
  }
}

/** Postgres refuses to run as root; when we are root it runs as the `postgres` system user (created if missing). */
async function resolveRunAs(): Promise<RunAs> {
  if (userInfo().uid !== 0) return {};
  const lookup = async () => {
    const [uid, gid] = await Promise.all([run('id', ['-u', 'postgres']), run('id', ['-g', 'postgres'])]);
    return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  };
  try {
    return await lookup();
  } catch {
    await run('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres']);
    return lookup();
  }
}

/** Whether the (unprivileged) user `runAs` can enter this folder or run this file. */
function reachable(path: string, runAs: RunAs): Promise<boolean> {
  return run('test', ['-x', path], runAs).then(
    () => true,
    () => false,
  );
}

/**
 * The binaries as the `postgres` user can run them: from node_modules when it can reach them there, otherwise from
 * a copy under ROOT_RUN_BASE (made once per package version, completed atomically).
 */
async function runnableBinaries(binaries: Binaries, runAs: RunAs, log: (message: string) => void): Promise<Binaries> {
  if (runAs.uid === undefined || (await reachable(binaries.initdb, runAs))) return binaries;
  const native = dirname(dirname(binaries.initdb));
  // One copy per package version on this machine, whichever checkout (a CI run's private copy, say) needs it.
  const { version } = JSON.parse(await readFile(join(native, '..', 'package.json'), 'utf8')) as { version: string };
  const target = join(ROOT_RUN_BASE, `postgres-${version}-${process.platform}-${process.arch}`);
  if (!existsSync(join(target, '.complete'))) {
    log(`the postgres system user cannot reach ${native}; copying the Postgres binaries to ${target}`);
    await mkdir(ROOT_RUN_BASE, { recursive: true, mode: 0o755 });
    await chmod(ROOT_RUN_BASE, 0o755);
    const staging = `${target}.${process.pid}.tmp`;
    await rm(staging, { recursive: true, force: true });
    await cp(native, staging, { recursive: true, verbatimSymlinks: true });
    await writeFile(join(staging, '.complete'), '');
    // Another process may have finished the same copy meanwhile (and may be running from it): keep that one.
    await rename(staging, target).catch(async (error: NodeJS.ErrnoException) => {
      await rm(staging, { recursive: true, force: true });
      if (!existsSync(join(target, '.complete'))) throw error;
    });
  }
  return { initdb: join(target, 'bin', 'initdb'), pg_ctl: join(target, 'bin', 'pg_ctl') };
}

/**
 * Where the cluster lives: `<dataDir>/cluster`, unless the `postgres` user cannot reach it (root in a private
 * folder); then a folder under ROOT_RUN_BASE named after the data folder, so each project keeps its own cluster
 * across restarts. The password file stays in the data folder.
 */
async function clusterLocation(root: string, runAs: RunAs, log: (message: string) => void): Promise<string> {
  const inProject = join(root, 'cluster');
  if (runAs.uid === undefined || (await reachable(root, runAs))) return inProject;
  const id = createHash('sha256')
    .update(await realpath(root))
    .digest('hex')
    .slice(0, 16);
  const relocated = join(ROOT_RUN_BASE, 'clusters', id);
  await mkdir(dirname(relocated), { recursive: true, mode: 0o755 });
  await chmod(ROOT_RUN_BASE, 0o755);
  await chmod(dirname(relocated), 0o755);
  log(`the postgres system user cannot reach ${root}; its cluster lives in ${relocated}`);
  return relocated;
}

/**
 * A real PostgreSQL server from the `embedded-postgres` binaries, managed with pg_ctl. Used when DATABASE_URL is
 * unset (development) and by the test suite. Listens on 127.0.0.1 only, password-protected.
 */
export class EmbeddedPostgres {
  private constructor(
    readonly url: string,
    readonly adminUrl: string,
    private readonly clusterDir: string,
    private readonly binaries: Binaries,
    private readonly runAs: RunAs,
    /** False when we found the server already running (e.g. left over from a killed process) and reused it. */
    private readonly startedByUs: boolean,
  ) {}

  static async start(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
    const log = options.log ?? (() => undefined);
    const root = resolve(options.dataDir);
    const passwordFile = join(root, 'password');
    const databaseName = options.databaseName ?? 'rmi';
    const runAs = await resolveRunAs();
    const binaries = await runnableBinaries(await loadBinaries(), runAs, log);
    const pgExec = (file: string, args: string[]) =>
      run(file, args, { ...runAs, env: { ...process.env, LC_ALL: 'C' }, maxBuffer: 4 * 1024 * 1024 });

    await mkdir(root, { recursive: true, mode: 0o755 });
    // The postgres user must be able to reach its cluster folder through every parent folder.
    if (runAs.uid !== undefined) await chmod(root, 0o755);
    const clusterDir = await clusterLocation(root, runAs, log);

    if (!existsSync(join(clusterDir, 'PG_VERSION'))) {
      log(`initialising embedded Postgres cluster in ${clusterDir}`);
      await rm(clusterDir, { recursive: true, force: true });
      await mkdir(clusterDir, { mode: 0o700 });
      const password = randomBytes(24).toString('base64url');
      await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
      // Next to the cluster, where the postgres user can read it (the data folder may be closed to it).
      const initPasswordFile = `${clusterDir}.initdb-password`;
      await writeFile(initPasswordFile, `${password}\n`, { mode: 0o600 });
      if (runAs.uid !== undefined) {
        await chown(clusterDir, runAs.uid, runAs.gid!);
        await chown(initPasswordFile, runAs.uid, runAs.gid!);
      }
      try {
        await pgExec(binaries.initdb, [
          `--pgdata=${clusterDir}`,
          '--username=postgres',
          `--pwfile=${initPasswordFile}`,
          '--auth=scram-sha-256',
          '--encoding=UTF8',
          '--locale=C',
        ]);
      } finally {
        await rm(initPasswordFile, { force: true });
      }
    }
    const password = (await readFile(passwordFile, 'utf8')).trim();
    const serverUrl = (database: string) =>
      `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${options.port}/${database}`;

    const running = await pgExec(binaries.pg_ctl, ['status', `--pgdata=${clusterDir}`]).then(
      () => true,
      () => false,
    );
    if (running) {
      // postmaster.pid, line 4: the port it listens on.
      const runningPort = Number((await readFile(join(clusterDir, 'postmaster.pid'), 'utf8')).split('\n')[3]);
      if (runningPort !== options.port) {
        throw new Error(
          `embedded Postgres for ${clusterDir} is already running on port ${runningPort}, not ${options.port} ` +
            `(left over from a process that did not stop): stop it with npm run db:stop, or set EMBEDDED_POSTGRES_PORT=${runningPort}`,
        );
      }
      log(`embedded Postgres already running for ${clusterDir}; reusing it`);
    } else {
      const serverFlags = [
        `-p ${options.port}`,
        '-c listen_addresses=127.0.0.1',
        "-c unix_socket_directories=''",
        ...(options.durability === 'fast'
          ? ['-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off']
          : []),
      ];
      const logFile = join(clusterDir, 'server.log');
      try {
        await pgExec(binaries.pg_ctl, [
          'start',
          `--pgdata=${clusterDir}`,
          '--wait',
          '--timeout=60',
          `--log=${logFile}`,
          `--options=${serverFlags.join(' ')}`,
        ]);
      } catch (error) {
        const tail = await readFile(logFile, 'utf8').then(
          (text) => text.trim().split('\n').slice(-5).join('\n'),
          () => '',
        );
        throw new Error(`embedded Postgres did not start on port ${options.port}: ${tail || String(error)}`);
      }
    }

    const client = new pg.Client({ connectionString: serverUrl('postgres') });
    await client.connect();
    try {
      const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [databaseName]);
      if (exists.rowCount === 0) await client.query(`CREATE DATABASE ${client.escapeIdentifier(databaseName)}`);
    } finally {
      await client.end();
    }
    return new EmbeddedPostgres(serverUrl(databaseName), serverUrl('postgres'), clusterDir, binaries, runAs, !running);
  }

  /** Stops the cluster of `dataDir` if it runs, on whatever port (npm run db:stop). Returns whether it ran. */
  static async stopRunning(dataDir: string, log: (message: string) => void = () => undefined): Promise<boolean> {
    const runAs = await resolveRunAs();
    const binaries = await runnableBinaries(await loadBinaries(), runAs, log);
    const clusterDir = await clusterLocation(resolve(dataDir), runAs, log);
    const options = { ...runAs, env: { ...process.env, LC_ALL: 'C' } };
    const running = await run(binaries.pg_ctl, ['status', `--pgdata=${clusterDir}`], options).then(
      () => true,
      () => false,
    );
    if (running) await run(binaries.pg_ctl, ['stop', `--pgdata=${clusterDir}`, '--mode=fast', '--wait'], options);
    return running;
  }

  /**
   * Fast shutdown: open connections are closed, committed data is safe. A server this process found already
   * running is left alone unless `evenIfReused`. `mode: 'immediate'` ends it as a crash would (no checkpoint; the
   * next start recovers from the WAL and empties unlogged tables), for tests of exactly that.
   */
  async stop(options: { evenIfReused?: boolean; mode?: 'fast' | 'immediate' } = {}): Promise<void> {
    if (!this.startedByUs && !options.evenIfReused) return;
    const mode = options.mode ?? 'fast';
    await run(this.binaries.pg_ctl, ['stop', `--pgdata=${this.clusterDir}`, `--mode=${mode}`, '--wait'], {
      ...this.runAs,
      env: { ...process.env, LC_ALL: 'C' },
    });
  }
}
