import { readFile } from 'node:fs/promises';
import { afterAll, describe, expect, it } from '@jest/globals';
import { requestPool } from '../../src/database/sql.js';
import { eventually } from '../support/eventually.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/**
 * The timer of the TCP socket on this machine whose local port is `port` (/proc/net/tcp and tcp6, the `tr` field):
 * 2 while a keep-alive probe is scheduled, 0 on a socket without keep-alive.
 */
async function socketTimer(port: number): Promise<number | undefined> {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of (await readFile(table, 'utf8')).split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields[1]?.endsWith(`:${hexPort}`) && fields[3] === '01') return Number.parseInt(fields[5].split(':')[0], 16);
    }
  }
  return undefined;
}

describe('the request pool (DATABASE_POOL_*)', () => {
  const apps: TestApp[] = [];
  afterAll(async () => {
    for (const app of apps) await app.close();
  });

  it('closes a connection left unused for DATABASE_POOL_IDLE_TIMEOUT_MS, and keeps it open until then', async () => {
    const [brief, patient] = await Promise.all([
      startTestApp({ DATABASE_POOL_IDLE_TIMEOUT_MS: '1000' }),
      startTestApp({ DATABASE_POOL_IDLE_TIMEOUT_MS: '600000' }),
    ]);
    apps.push(brief, patient);
    for (const app of [patient, brief]) {
      await app.dataSource.query('SELECT 1');
      expect(requestPool(app.dataSource).totalCount).toBe(1);
    }
    // pg's own default (10 s) would keep it longer than this.
    await eventually(() => requestPool(brief.dataSource).totalCount === 0, 8000);
    expect(requestPool(patient.dataSource).totalCount).toBe(1);
  });

  it('has TCP keep-alive on its connections, so that a firewall or NAT in between keeps them', async () => {
    const app = await startTestApp();
    apps.push(app);
    const [{ port }] = await app.dataSource.query<{ port: number }[]>(
      'SELECT client_port AS port FROM pg_stat_activity WHERE pid = pg_backend_pid()',
    );
    expect(await socketTimer(port)).toBe(2);
  });
});
