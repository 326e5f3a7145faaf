import { execFileSync } from 'node:child_process';

/** Starts the run's Postgres and template database (see test-postgres.ts); workers inherit the settings. */
export default function globalSetup() {
  const output = execFileSync(
    process.execPath,
    ['--import', '@swc-node/register/esm-register', 'test/support/test-postgres.ts', 'start'],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, NODE_OPTIONS: '' },
    },
  );
  const run = JSON.parse(output);
  process.env.RMI_TEST_RUN = output;
  process.env.RMI_TEST_SERVER_URL = run.serverUrl;
  process.env.RMI_TEST_TEMPLATE_DB = run.template;
  // Which slices of the port range this run's workers take (free-port.ts): another run at the same time, say CI
  // beside a developer's, most likely takes others.
  process.env.RMI_TEST_PORT_SLICE_SEED = String(Math.floor(Math.random() * 1_000_000));
}
