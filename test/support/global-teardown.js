import { execFileSync } from 'node:child_process';

export default function globalTeardown() {
  execFileSync(
    process.execPath,
    ['--import', '@swc-node/register/esm-register', 'test/support/test-postgres.ts', 'stop', process.env.RMI_TEST_RUN],
    {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, NODE_OPTIONS: '' },
    },
  );
}
