import { median } from './report.js';

/** What a side-by-side comparison measured of one system: CPU per operation in each round, and over all rounds. */
export interface CpuByRound {
  /** App and Postgres CPU per operation in each round, in the order run. */
  rounds: { app: number; postgres: number }[];
  /** App + Postgres CPU per operation over all rounds together. */
  cpuAllRounds: number;
}

const cpuOf = (round: CpuByRound['rounds'][number]) => round.app + round.postgres;

/** App + Postgres CPU per operation, a over b, in each round, in the order run. */
export const ratiosInOrder = (a: CpuByRound, b: CpuByRound) =>
  a.rounds.map((round, i) => cpuOf(round) / cpuOf(b.rounds[i]));

/**
 * App + Postgres CPU per operation, a over b, for each pair of rounds (A B, then B A): the geometric mean of the two
 * rounds' ratios. Each system goes first in one round of the pair, so what going first in a round costs or saves
 * cancels out of the pair's ratio. Counted by rounds, the system listed first went first in one round more in an
 * odd count, and a median of the rounds' ratios came from the listing order's side (docs/benchmark.md, pairs of
 * rounds).
 */
export function ratiosByPair(a: CpuByRound, b: CpuByRound): number[] {
  const byRound = ratiosInOrder(a, b);
  if (byRound.length % 2 !== 0) throw new Error(`pairs of rounds: ${byRound.length} rounds is an odd count`);
  return Array.from({ length: byRound.length / 2 }, (_, pair) => Math.sqrt(byRound[2 * pair] * byRound[2 * pair + 1]));
}

/**
 * The login target's reading of a over b. The windows of a pair of rounds ran back to back, so the VM's drift between
 * pairs falls out of each pair's ratio, and their median is one that a single disturbed round cannot move; but a
 * cost that comes every few windows (the peer's app CPU alternated from round to round on 12-04) lands in a median
 * by whichever phase has more pairs. All rounds together count it. Each reading has its blind spot, so the target
 * takes the less favourable of the two.
 */
export function loginCpuReading(a: CpuByRound, b: CpuByRound) {
  const byPair = ratiosByPair(a, b).sort((x, y) => x - y);
  const pairsMedian = median(byPair);
  const allRounds = a.cpuAllRounds / b.cpuAllRounds;
  return { byPair, pairsMedian, allRounds, ratio: Math.max(pairsMedian, allRounds) };
}

/**
 * The machine's busy CPU in a window less what the system under test, its Postgres and the bench used, in cores.
 * Postgres on another server (its CPU unknown, NaN) uses none of this machine's; the counters' different clocks can
 * read a little below zero on an idle machine, which is none.
 */
export function elsewhereCores(cpu: {
  machineMs: number;
  appCpuMs: number;
  postgresCpuMs: number;
  benchMs: number;
  elapsedMs: number;
}): number {
  const elsewhereMs = cpu.machineMs - cpu.appCpuMs - (cpu.postgresCpuMs || 0) - cpu.benchMs;
  return Math.max(0, elsewhereMs) / cpu.elapsedMs;
}

/**
 * The systems of one round of alternating windows, in the order they run: each goes first in every other round
 * (A B, B A, A B …), and in one round of each pair. Run always in one order, the system measured first in each round
 * read 3–9 % dearer than an identical build after it on this VM (docs/benchmark-log.md, 12-05, fourteenth session).
 */
export const roundOrder = <T>(systems: readonly T[], round: number): T[] =>
  round % 2 === 0 ? [...systems] : [...systems].reverse();

/**
 * One system's windows of an alternating comparison, its lead-in included, by what each counts in: the measured ones
 * give the CPU, latency and rate figures; every window's operations, warm-ups and lead-in too, divide its database's
 * commits (whose count includes them), and every window's failures count.
 */
export function splitSeries<W extends { round: number | null; allOperations: number; errors: number }>(
  windows: readonly W[],
) {
  return {
    measured: windows.filter((window) => window.round !== null),
    allOperations: windows.reduce((sum, window) => sum + window.allOperations, 0),
    errors: windows.reduce((sum, window) => sum + window.errors, 0),
  };
}

/** One window of an alternating comparison: a system's measured window in a round, or its unmeasured lead-in. */
export interface ScheduledWindow<T> {
  system: T;
  /** The round, from 0; null for the lead-in. */
  round: number | null;
}

/**
 * The windows of an alternating comparison in the order they run: an unmeasured lead-in window of each system, the
 * last-listed first, then `rounds` rounds in roundOrder. Every measured round then starts alike: the system going
 * first has just run, the other waited through two windows of it (the last of the round before and this one's).
 * Without the lead-ins the first round's second system came to its window after the longest wait of the run (the
 * 11 s the commit counts need, then the other's window), and paid for it: the peer's first login window cost 3.75 ms
 * of app CPU against 2.3–2.5 in its others (12-06).
 */
export function windowSchedule<T>(systems: readonly T[], rounds: number): ScheduledWindow<T>[] {
  const leadIns = roundOrder(systems, 1).map((system) => ({ system, round: null }));
  const measured = Array.from({ length: rounds }, (_, round) =>
    roundOrder(systems, round).map((system) => ({ system, round })),
  );
  return [...leadIns, ...measured.flat()];
}

/**
 * Cores busy elsewhere on the machine (elsewhereCores) from which a window counts as disturbed from outside. In an
 * undisturbed run the other system idling and Postgres's background work come to 0.00–0.13 cores; a compiler or a
 * test run started meanwhile on this 2-core VM reads 0.7–1.1 (12-05, fifteenth session: that run's login target read
 * 0.76 where the undisturbed runs of the day read 0.66).
 */
export const DISTURBED_CORES = 0.3;

/** How many windows of a comparison ran while something else kept the machine busy, of how many. */
export function disturbedWindows(sides: readonly { rounds: readonly { elsewhere: number }[] }[]) {
  const all = sides.flatMap((side) => side.rounds);
  return { disturbed: all.filter((round) => round.elsewhere >= DISTURBED_CORES).length, windows: all.length };
}
