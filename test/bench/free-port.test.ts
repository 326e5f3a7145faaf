import { describe, expect, it } from '@jest/globals';
import { freePort, slice } from '../support/free-port.js';

describe('freePort (the port every testbed and the benchmark listen on)', () => {
  it('gives each jest worker its own slice of the range, so two workers never draw the same port', () => {
    const slices = [1, 2, 3, 4, 5, 6, 7, 8].map((worker) => slice(worker, 5));
    for (const [i, a] of slices.entries()) {
      expect(a.size).toBeGreaterThan(1000);
      expect(a.low).toBeGreaterThanOrEqual(15_000);
      expect(a.low + a.size).toBeLessThanOrEqual(32_000);
      for (const b of slices.slice(i + 1)) expect(a.low + a.size <= b.low || b.low + b.size <= a.low).toBe(true);
    }
    expect(slice(Number(undefined))).toEqual({ low: 15_000, size: 17_000 });
  });

  it('lets each run start at a slice of its own, so two runs at once most likely draw from different ports', () => {
    const firstSlices = [0, 1, 2, 3, 4, 5, 6, 7].map((seed) => slice(1, seed).low);
    expect(new Set(firstSlices).size).toBe(8);
    // Within a run the workers still follow each other.
    expect(slice(2, 3).low - slice(1, 3).low).toBe(slice(1, 3).size);
  });

  it('draws from this worker’s slice', async () => {
    const { low, size } = slice(Number(process.env.JEST_WORKER_ID));
    const port = await freePort();
    expect(port).toBeGreaterThanOrEqual(low);
    expect(port).toBeLessThan(low + size);
  });

  it('never hands out a port twice, though nobody listens on it yet', async () => {
    // 300 draws from about 2,000 ports repeat one almost surely unless the ports handed out are remembered.
    const ports = [];
    for (let i = 0; i < 300; i += 1) ports.push(await freePort());
    expect(new Set(ports).size).toBe(300);
  });
});
