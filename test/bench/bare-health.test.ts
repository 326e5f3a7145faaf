import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type Service, startBareHealth } from '../../bench/processes.js';
import { freePort } from '../support/free-port.js';

/** The floor of `npm run bench -- --only floor`: the backend's health answer from Node's HTTP server alone. */
describe("the bench's bare health server", () => {
  let server: Service;
  let base: string;

  beforeAll(async () => {
    server = await startBareHealth(await freePort());
    base = `http://127.0.0.1:${server.port}`;
  });
  afterAll(() => server.stop());

  it('answers GET /health with the body the backend answers it with', async () => {
    const response = await fetch(`${base}/health`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('answers nothing else', async () => {
    expect((await fetch(`${base}/ready`)).status).toBe(404);
    expect((await fetch(`${base}/health`, { method: 'POST' })).status).toBe(404);
  });

  it("reads its own process's CPU, which its answers use", async () => {
    const before = await server.cpu();
    const mine = process.cpuUsage();
    for (let i = 0; i < 2000; i++) await (await fetch(`${base}/health`)).arrayBuffer();
    const own = process.cpuUsage(mine);
    const ownMs = (own.user + own.system) / 1000;
    // The bench's CPU figure is the server's alone: it grew, and by less than this process spent sending.
    const serverMs = (await server.cpu()) - before;
    expect(serverMs).toBeGreaterThan(0);
    expect(serverMs).toBeLessThan(ownMs);
  });
});
