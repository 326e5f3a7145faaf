import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { EmbeddedPostgres } from '../../src/database/embedded-postgres.js';
import { applyMigrations } from '../../src/app/migrations.js';
import { freePort } from './free-port.js';

/**
 * The test run's Postgres, driven by global-setup.js / global-teardown.js in a child process (jest's global
 * hooks cannot load the ESM TypeScript sources). `start` prints the run's settings as JSON; `stop` undoes it.
 *
 * One server for the whole run: TEST_DATABASE_URL when given (a server where we may create databases),
 * otherwise an embedded one in a temporary folder. Migrations are applied once into a template database;
 * every test file clones it (see test-database.ts).
 */
interface TestRun {
  serverUrl: string;
  template: string;
  embeddedDir?: string;
  embeddedPort?: number;
}

async function adminQuery(serverUrl: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

async function start(): Promise<TestRun> {
  const run: Partial<TestRun> = { template: `rmi_test_template_${process.ppid}` };
  if (process.env.TEST_DATABASE_URL) {
    run.serverUrl = process.env.TEST_DATABASE_URL;
  } else {
    run.embeddedDir = await mkdtemp(join(tmpdir(), 'rmi-test-pg-'));
    run.embeddedPort = await freePort();
    const server = await EmbeddedPostgres.start({
      dataDir: run.embeddedDir,
      port: run.embeddedPort,
      durability: 'fast',
      databaseName: 'postgres',
    });
    run.serverUrl = server.adminUrl;
  }
  await adminQuery(run.serverUrl, `DROP DATABASE IF EXISTS ${run.template} WITH (FORCE)`);
  await adminQuery(run.serverUrl, `CREATE DATABASE ${run.template}`);
  const templateUrl = new URL(run.serverUrl);
  templateUrl.pathname = `/${run.template}`;
  await applyMigrations(templateUrl.toString());
  return run as TestRun;
}

async function stop(run: TestRun): Promise<void> {
  if (run.embeddedDir && run.embeddedPort) {
    const server = await EmbeddedPostgres.start({
      dataDir: run.embeddedDir,
      port: run.embeddedPort,
      databaseName: 'postgres',
    });
    await server.stop({ evenIfReused: true });
    await rm(run.embeddedDir, { recursive: true, force: true });
  } else {
    await adminQuery(run.serverUrl, `DROP DATABASE IF EXISTS ${run.template} WITH (FORCE)`);
  }
}

const [command, payload] = process.argv.slice(2);
try {
  if (command === 'start') process.stdout.write(JSON.stringify(await start()));
  else if (command === 'stop') await stop(JSON.parse(payload) as TestRun);
  else throw new Error('usage: test-postgres.ts start | stop <json>');
} catch (error) {
  console.error(error);
  process.exitCode = 1;
}
