import { describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { freePort, PROJECT_ROOT } from '../support/spawn-process.js';
import { createTestDatabase } from '../support/test-database.js';

const SHUTDOWN_TIMEOUT_SECONDS = 3;

/** Resolves with the exit code, or with 'still running' once `ms` have passed. */
function exitWithin(exited: Promise<number | null>, ms: number): Promise<number | null | 'still running'> {
  return Promise.race([
    exited,
    new Promise<'still running'>((resolve) => setTimeout(() => resolve('still running'), ms)),
  ]);
}

/**
 * A log reader that stops reading (a stalled collector, a supervisor that no longer drains the pipe) must not
 * freeze the process: requests are still answered, and SIGTERM still ends it within the shutdown timeout.
 */
describe('the backend process with a log reader that never reads', () => {
  it('keeps answering requests and shuts down in time while stdout and stderr are never read', async () => {
    const database = await createTestDatabase();
    const port = await freePort();
    const child = spawn(process.execPath, ['--import', '@swc-node/register/esm-register', 'src/main.ts'], {
      cwd: PROJECT_ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        ENV_FILE: '/dev/null',
        PORT: String(port),
        DATABASE_URL: database.url,
        DIGIDENTITY_ENABLED: 'false',
        LOG_LEVEL: 'info',
        SHUTDOWN_TIMEOUT_SECONDS: String(SHUTDOWN_TIMEOUT_SECONDS),
      },
      // Pipes nobody reads: once the pipe and the parent's stream buffer are full, every write to them would wait.
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const base = `http://127.0.0.1:${port}`;
      for (let attempt = 0; ; attempt += 1) {
        const ready = await fetch(`${base}/health`).then(
          (response) => response.status,
          () => 0,
        );
        if (ready === 200) break;
        if (attempt > 600 || child.exitCode !== null) throw new Error('the backend did not start');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }

      // Every request writes an access line (and an unknown path a warning): about 1 MB of log, far more than a
      // pipe holds. Each one must still be answered.
      const statuses: number[] = [];
      for (let batch = 0; batch < 40; batch += 1) {
        const answers = await Promise.all(
          Array.from({ length: 50 }, (_, i) =>
            fetch(`${base}/${i % 2 === 0 ? 'health' : `no-such-page-${'x'.repeat(200)}`}`, {
              signal: AbortSignal.timeout(10_000),
            }).then(async (response) => {
              await response.arrayBuffer();
              return response.status;
            }),
          ),
        );
        statuses.push(...answers);
      }
      expect(statuses.length).toBe(2000);
      expect(new Set(statuses)).toEqual(new Set([200, 404]));

      child.kill('SIGTERM');
      const code = await exitWithin(exited, (SHUTDOWN_TIMEOUT_SECONDS + 2) * 1000);
      expect(code).not.toBe('still running');
    } finally {
      child.kill('SIGKILL');
      await exited;
      child.stdout?.destroy();
      child.stderr?.destroy();
      await database.drop();
    }
  }, 90_000);
});
