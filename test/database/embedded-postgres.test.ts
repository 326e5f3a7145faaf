import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedPostgres } from '../../src/database/embedded-postgres.js';
import { freePort } from '../support/free-port.js';

describe('embedded Postgres left running by a process that did not stop', () => {
  let dataDir: string;

  beforeAll(async () => {
    const workDir = await mkdtemp(join(tmpdir(), 'rmi-embedded-'));
    await chmod(workDir, 0o755);
    dataDir = join(workDir, 'pgdata');
  });
  afterAll(async () => {
    await EmbeddedPostgres.stopRunning(dataDir);
    await rm(join(dataDir, '..'), { recursive: true, force: true });
  });

  it('says on which port it still runs, and npm run db:stop (stopRunning) stops it whatever the port', async () => {
    const first = await freePort();
    await EmbeddedPostgres.start({ dataDir, port: first, durability: 'fast' });
    const other = await freePort();
    await expect(EmbeddedPostgres.start({ dataDir, port: other, durability: 'fast' })).rejects.toThrow(
      `is already running on port ${first}, not ${other}`,
    );
    expect(await EmbeddedPostgres.stopRunning(dataDir)).toBe(true);
    expect(await EmbeddedPostgres.stopRunning(dataDir)).toBe(false);
    const again = await EmbeddedPostgres.start({ dataDir, port: other, durability: 'fast' });
    await again.stop();
  }, 60_000);
});
