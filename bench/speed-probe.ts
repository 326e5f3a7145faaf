import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { median } from './report.js';

/**
 * Runs a fixed piece of arithmetic (a few tenths of a millisecond) every 100 ms and prints the CPU time it took, in
 * microseconds. On a VM that time moves with what the process cannot see: a busy sibling hyperthread, the host taking
 * the core away (time a guest cannot tell from its own), a lower clock.
 */
const PROBE = `
const unit = () => { let x = 1; for (let i = 0; i < 400000; i += 1) x = (Math.imul(x, 1103515245) + 12345) | 0; return x; };
for (let i = 0; i < 100; i += 1) unit();
setInterval(() => {
  const before = process.cpuUsage();
  unit();
  const { user, system } = process.cpuUsage(before);
  process.stdout.write(String(user + system) + '\\n');
}, 100);
`;

/** The CPU time of the probe's unit of work over time: how fast the machine ran while the bench measured. */
export class SpeedProbe {
  private readonly readings: { at: number; micros: number }[] = [];

  private constructor(private readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      this.readings.push({ at: performance.now(), micros: Number(line) });
    });
  }

  static start(): SpeedProbe {
    const child = spawn(process.execPath, ['-e', PROBE], { stdio: ['ignore', 'pipe', 'inherit'] });
    // The bench ends however it ends; the probe goes with it and never keeps it alive.
    child.unref();
    (child.stdout as unknown as { unref(): void }).unref();
    process.once('exit', () => child.kill());
    return new SpeedProbe(child);
  }

  /** The median time of the unit (µs) among the readings since `at` (performance.now()); NaN before the first. */
  medianSince(at: number): number {
    const window = this.readings.filter((reading) => reading.at >= at).map((reading) => reading.micros);
    return window.length === 0 ? Number.NaN : median(window);
  }

  stop(): void {
    this.child.kill();
  }
}

let shared: SpeedProbe | undefined;

/** The probe of this bench run, started on first use. */
export function speedProbe(): SpeedProbe {
  shared ??= SpeedProbe.start();
  return shared;
}

/**
 * Each window's speed against the run's typical one (`micros`: each window's median unit time): 1.00 typical, 0.80 a
 * fifth slower; and the typical unit time itself, to compare runs by.
 */
export function relativeSpeeds(micros: number[]): { speeds: number[]; typicalMicros: number } {
  const typicalMicros = median(micros.filter(Number.isFinite));
  return { speeds: micros.map((value) => typicalMicros / value), typicalMicros };
}
