import { describe, expect, it } from '@jest/globals';
import { relativeSpeeds, SpeedProbe } from '../../bench/speed-probe.js';

/** The bench's machine-speed probe (bench/speed-probe.ts), printed for every measured window. */
describe("the bench's speed probe", () => {
  it('times its unit of work in CPU microseconds, readings from a moment on', async () => {
    const probe = SpeedProbe.start();
    try {
      const start = performance.now();
      expect(probe.medianSince(start)).toBeNaN();
      // The child reports every 100 ms once it has started and warmed up; on a busy machine that takes a while.
      while (Number.isNaN(probe.medianSince(start))) await new Promise((resolve) => setTimeout(resolve, 50));
      const micros = probe.medianSince(start);
      expect(micros).toBeGreaterThan(10);
      expect(micros).toBeLessThan(100_000);
      expect(probe.medianSince(performance.now())).toBeNaN();
    } finally {
      probe.stop();
    }
  });

  it("reads each window's speed against the typical window's, a window without readings as unknown", () => {
    expect(relativeSpeeds([400, 500, 400, 800, 400, Number.NaN])).toEqual({
      speeds: [1, 0.8, 1, 0.5, 1, Number.NaN],
      typicalMicros: 400,
    });
  });
});
