import { describe, expect, it } from '@jest/globals';
import { readSettings } from '../../bench/flags.js';
import { benchNodeArgs, checkoutNodeFlags, imageNodeFlags, machineBusyMs } from '../../bench/processes.js';
import {
  disturbedWindows,
  elsewhereCores,
  loginCpuReading,
  roundOrder,
  splitSeries,
  windowSchedule,
} from '../../bench/readings.js';
import { loginPacer } from '../../bench/logins.js';

/** One system's rounds from app + Postgres CPU per login, each round all app (the split does not matter here). */
const measured = (perRound: number[], allRounds = perRound.reduce((a, b) => a + b) / perRound.length) => ({
  rounds: perRound.map((app) => ({ app, postgres: 0 })),
  cpuAllRounds: allRounds,
});

describe("the bench's reading of the login target", () => {
  it('is not flattered by one peer round that strays: the median of the pairs of rounds counts', () => {
    const backend = measured([5, 5, 5, 5, 5, 5]);
    const peer = measured([8, 8, 8, 8, 8, 40]);
    const reading = loginCpuReading(backend, peer);
    expect(reading.byPair).toEqual([0.625 * Math.sqrt(0.2), 0.625, 0.625]);
    expect(reading.allRounds).toBeCloseTo(30 / 80);
    expect(reading.ratio).toBe(0.625);
  });

  it('takes all rounds together when a cost the median misses comes every other pair of rounds', () => {
    // The peer's CPU alternates; two of three pairs fall in its expensive phase, so the median flatters.
    const backend = measured([5, 5, 5, 5, 5, 5], 5);
    const peer = measured([8, 8, 5.6, 5.6, 8, 8], 7.2);
    const reading = loginCpuReading(backend, peer);
    expect(reading.pairsMedian).toBe(0.625);
    expect(reading.allRounds).toBeCloseTo(0.694, 3);
    expect(reading.ratio).toBe(reading.allRounds);
  });

  it('adds app and Postgres CPU of each round, and pairs rounds in the order run', () => {
    const backend = {
      rounds: [
        { app: 3, postgres: 1 },
        { app: 1, postgres: 1 },
      ],
      cpuAllRounds: 3,
    };
    const peer = {
      rounds: [
        { app: 4, postgres: 4 },
        { app: 2, postgres: 2 },
      ],
      cpuAllRounds: 6,
    };
    expect(loginCpuReading(backend, peer)).toEqual({ byPair: [0.5], pairsMedian: 0.5, allRounds: 0.5, ratio: 0.5 });
  });

  it('refuses an odd count of rounds, which would put one system first once more', () => {
    expect(() => loginCpuReading(measured([5, 5, 5]), measured([8, 8, 8]))).toThrow('odd count');
  });

  it('cancels what going first in a round costs: same code against itself reads 1 whichever is listed first', () => {
    // Rounds run A B, B A, …; whichever system goes first in a round costs 10 % more in it.
    const first = 1.1;
    const listedFirst = measured([5 * first, 5, 5 * first, 5, 5 * first, 5]);
    const listedSecond = measured([5, 5 * first, 5, 5 * first, 5, 5 * first]);
    const reading = loginCpuReading(listedFirst, listedSecond);
    expect(reading.byPair).toEqual([1, 1, 1].map((one) => expect.closeTo(one, 12)));
    expect(reading.ratio).toBeCloseTo(1, 12);
  });
});

describe("one system's windows of an alternating comparison", () => {
  it('leaves the lead-in out of the measured figures, but counts its operations with the commits and its failures', () => {
    const series = splitSeries([
      { round: null, allOperations: 50, errors: 1 },
      { round: 0, allOperations: 100, errors: 0 },
      { round: 1, allOperations: 150, errors: 2 },
    ]);
    expect(series.measured.map(({ round }) => round)).toEqual([0, 1]);
    expect(series.allOperations).toBe(300);
    expect(series.errors).toBe(3);
  });
});

describe("the bench's flags", () => {
  it('runs everything with a 30 s soak by default, its load from the environment', () => {
    const settings = readSettings([], { BENCH_SECONDS: '2', BENCH_WINDOWS: '8', BENCH_PERSONAS: '60' });
    expect(readSettings([], {}).windowsPerSystem).toBe(6);
    expect(settings).toMatchObject({ only: undefined, instances: 1, soakMs: 30_000, against: undefined });
    expect(settings).toMatchObject({ durationMs: 2000, windowsPerSystem: 8, personaCount: 60, warmupMs: 1000 });
    expect(settings).toMatchObject({ concurrency: 32, loginConcurrency: 50, loginWarmups: 1500 });
    expect(readSettings([], { BENCH_LOGIN_WARMUP: '600' }).loginWarmups).toBe(600);
  });

  it('stops at a mistyped number rather than run with it', () => {
    expect(readSettings([], { BENCH_SECONDS: '0.5' }).durationMs).toBe(500);
    for (const [name, wrong] of [
      ['BENCH_SECONDS', '5s'],
      ['BENCH_SECONDS', '0'],
      ['BENCH_WINDOWS', 'five'],
      ['BENCH_WINDOWS', '2.5'],
      ['BENCH_PERSONAS', '-1'],
      ['BENCH_CONCURRENCY', ''],
      ['BENCH_LOGIN_CONCURRENCY', 'Infinity'],
      ['BENCH_LOGIN_WARMUP', '1e400'],
    ] as const) {
      expect(() => readSettings([], { [name]: wrong })).toThrow(`${name}: a `);
    }
  });

  it('runs pairs of rounds, so that each system goes first in as many rounds as the other', () => {
    for (const odd of ['1', '5', '7']) {
      expect(() => readSettings([], { BENCH_WINDOWS: odd })).toThrow(`BENCH_WINDOWS: an even number`);
    }
    expect(readSettings([], { BENCH_WINDOWS: '2' }).windowsPerSystem).toBe(2);
  });

  it('runs the login windows in a closed loop unless told a pace', () => {
    expect(readSettings([], {}).loginPace).toBe('closed');
    expect(readSettings([], { BENCH_LOGIN_PACE: '0.5' }).loginPace).toBe(0.5);
    expect(readSettings([], { BENCH_LOGIN_PACE: 'closed' }).loginPace).toBe('closed');
    for (const wrong of ['0', '1.5', 'fast', '']) {
      expect(() => readSettings([], { BENCH_LOGIN_PACE: wrong })).toThrow('BENCH_LOGIN_PACE: a fraction in (0, 1]');
    }
  });

  it.each([
    [['--only', 'logins'], { only: 'logins' }],
    [['--only', 'floor'], { only: 'floor' }],
    [['--only', 'soak', '--soak', '10m'], { only: 'soak', soakMs: 600_000 }],
    [['--only', 'instances', '--instances', '3'], { only: 'instances', instances: 3 }],
    [['--soak', '0'], { soakMs: 0 }],
    [['--soak', '1.5s'], { soakMs: 1500 }],
    [['--against', 'HEAD~1'], { against: 'HEAD~1' }],
  ])('reads %j', (args, expected) => {
    expect(readSettings(args, {})).toMatchObject(expected);
  });

  it.each([
    [['--only', 'everything'], '--only: one of logins, instances, soak, steady, floor'],
    [['--only', 'soak', '--soak', '0'], '--only soak needs a soak length'],
    [['--only', 'instances'], '--only instances needs --instances N'],
    [['--instances', '0'], '--instances: a whole number ≥ 1'],
    [['--soak', 'ten minutes'], '--soak: not a duration'],
    [['--against', 'HEAD~1', '--only', 'logins'], '--against runs alone'],
    [['--against', 'HEAD~1', '--instances', '3'], '--against runs alone'],
    [['--fast'], "Unknown option '--fast'"],
  ])('refuses %j', (args, message) => {
    expect(() => readSettings(args, {})).toThrow(message);
  });
});

describe('the Node flags the bench starts the backend with', () => {
  it("are the production image's: what its CMD puts between node and the script", () => {
    const dockerfile = [
      'FROM node:22-bookworm-slim',
      'HEALTHCHECK --interval=10s \\',
      '  CMD ["node", "-e", "fetch(\'http://127.0.0.1:3000/ready\')"]',
      'CMD ["node", "--max-semi-space-size=32", "--stack-size=2000", "dist/src/main.js"]',
    ].join('\n');
    expect(imageNodeFlags(dockerfile)).toEqual(['--max-semi-space-size=32', '--stack-size=2000']);
    expect(imageNodeFlags('CMD ["node", "dist/src/main.js"]')).toEqual([]);
  });

  it("are this checkout's image's, whose young generation is twice the default", () => {
    expect(checkoutNodeFlags()).toContain('--max-semi-space-size=32');
  });

  it("come with BENCH_NODE_ARGS, and the bench's inspector last, as Node takes the last --inspect", () => {
    const saved = process.env.BENCH_NODE_ARGS;
    process.env.BENCH_NODE_ARGS = '--trace-gc  --inspect=127.0.0.1:9229';
    try {
      expect(benchNodeArgs(undefined)).toEqual(['--trace-gc', '--inspect=127.0.0.1:9229']);
      expect(benchNodeArgs(4321)).toEqual(['--trace-gc', '--inspect=127.0.0.1:9229', '--inspect=127.0.0.1:4321']);
    } finally {
      if (saved === undefined) delete process.env.BENCH_NODE_ARGS;
      else process.env.BENCH_NODE_ARGS = saved;
    }
  });

  it('refuse an image that does not start the backend with node, rather than run it without its flags', () => {
    expect(() => imageNodeFlags('CMD ["npm", "start"]')).toThrow(/does not run node/);
    expect(() => imageNodeFlags('CMD node dist/src/main.js')).toThrow();
    expect(() => imageNodeFlags('FROM node:22')).toThrow(/no CMD/);
  });
});

describe("the machine's busy time, for the CPU used elsewhere during a window", () => {
  it("counts every busy field of /proc/stat's first line, steal included, but not idle or iowait", () => {
    const stat = ['cpu  29150 7 9946 36383 440 3 836 12 0 0', 'cpu0 14575 3 4973 18191 220 1 418 6 0 0'].join('\n');
    expect(machineBusyMs(stat)).toBe(((29150 + 7 + 9946 + 3 + 836 + 12) * 1000) / 100);
  });
});

describe('the CPU the rest of the machine used during a window', () => {
  const window = { machineMs: 1500, appCpuMs: 400, postgresCpuMs: 300, benchMs: 500, elapsedMs: 1000 };

  it('is the busy time less the system, its Postgres and the bench, in cores', () => {
    expect(elsewhereCores(window)).toBeCloseTo(0.3, 10);
  });

  it("counts a Postgres on another server (its CPU unknown) as none of this machine's", () => {
    expect(elsewhereCores({ ...window, postgresCpuMs: Number.NaN })).toBeCloseTo(0.6, 10);
  });

  it('reads none, not less, when the counters add up to more than the machine was busy', () => {
    expect(elsewhereCores({ ...window, machineMs: 1150 })).toBe(0);
  });
});

describe('the order of the systems in each round of alternating windows', () => {
  it('puts each system first in every other round', () => {
    const rounds = [0, 1, 2, 3, 4].map((round) => roundOrder(['backend', 'peer'], round).join(' '));
    expect(rounds).toEqual(['backend peer', 'peer backend', 'backend peer', 'peer backend', 'backend peer']);
  });

  it('runs an unmeasured lead-in of each system first, the last-listed first', () => {
    const schedule = windowSchedule(['backend', 'peer'], 2).map(
      ({ system, round }) => `${system}:${round ?? 'lead-in'}`,
    );
    expect(schedule).toEqual(['peer:lead-in', 'backend:lead-in', 'backend:0', 'peer:0', 'peer:1', 'backend:1']);
  });

  it('starts every measured round alike: its first system has just run, the other waited through two windows', () => {
    const schedule = windowSchedule(['backend', 'peer'], 6);
    const lastRan = new Map<string, number>();
    const waited: string[] = [];
    schedule.forEach(({ system, round }, position) => {
      if (round !== null) {
        const firstInRound = schedule[position - 1].round !== round;
        waited.push(`${firstInRound ? 'first' : 'second'} after ${position - lastRan.get(system)! - 1}`);
      }
      lastRan.set(system, position);
    });
    expect(new Set(waited)).toEqual(new Set(['first after 0', 'second after 2']));
    expect(schedule.filter(({ round }) => round !== null)).toHaveLength(12);
  });
});

describe("the bench's login pace", () => {
  /** A clock that stands still (every browser asks at the same moment), recording the sleeps asked for. */
  const fakeClock = (time: number) => {
    const sleeps: number[] = [];
    return { sleeps, now: () => time, sleep: async (ms: number) => void sleeps.push(ms) };
  };

  it('starts the n-th login n intervals after the start, however many browsers ask at once', async () => {
    const clock = fakeClock(1000);
    const mayStart = loginPacer(20, 1000, 2000, clock);
    expect(await Promise.all([mayStart(), mayStart(), mayStart(), mayStart()])).toEqual([true, true, true, true]);
    // 20 a second: slots at 0, 50, 100 and 150 ms after the start.
    expect(clock.sleeps).toEqual([50, 100, 150]);
  });

  it('starts no login whose slot falls at the deadline or after, nor waits for one', async () => {
    const clock = fakeClock(0);
    const mayStart = loginPacer(10, 0, 250, clock);
    expect([await mayStart(), await mayStart(), await mayStart(), await mayStart()]).toEqual([true, true, true, false]);
    expect(clock.sleeps).toEqual([100, 200]);
  });

  it('lets a login whose slot has passed start at once; a closed loop never waits, until the deadline', async () => {
    const late = fakeClock(5000);
    const mayStart = loginPacer(10, 1000, 10_000, late);
    expect([await mayStart(), await mayStart()]).toEqual([true, true]);
    expect(late.sleeps).toEqual([]);
    const closed = loginPacer(0, 0, 100, fakeClock(50));
    expect(await closed()).toBe(true);
    expect(await loginPacer(0, 0, 100, fakeClock(100))()).toBe(false);
  });
});

describe('windows disturbed from outside', () => {
  const side = (...elsewhere: number[]) => ({ rounds: elsewhere.map((cores) => ({ elsewhere: cores })) });

  it('counts the windows of both systems in which other work kept the machine busy', () => {
    // 12-05: a compiler and a test run beside the bench, against the other system idling and Postgres's own work.
    expect(disturbedWindows([side(1.03, 0.01, 0.04, 0.99, 0.94), side(1.01, 0.0, 0.7, 1.07, 0.02)])).toEqual({
      disturbed: 6,
      windows: 10,
    });
  });

  it('finds none in a quiet run', () => {
    expect(disturbedWindows([side(0.02, 0.13, 0.05), side(0.08, 0.0, 0.11)])).toEqual({ disturbed: 0, windows: 6 });
  });
});
