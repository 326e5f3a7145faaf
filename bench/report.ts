import { type LoadResult, percentile } from './load.js';

export const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};
export const format = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : '-');
export const mb = (bytes: number) => `${format(bytes / 2 ** 20, 1)} MB`;
export const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');
export const merged = (parts: Float64Array[]) => Float64Array.from(parts.flatMap((part) => [...part])).sort();

/** One line of a scenario table. */
export interface Row {
  name: string;
  perSecond: number;
  latencies: Float64Array;
  cpuMsPerUnit: number;
  errors: number;
}

/** Answered requests a second over the measured window. */
export const perSecond = (result: Pick<LoadResult, 'requests' | 'elapsedMs'>) =>
  result.requests / (result.elapsedMs / 1000);

/** The table line of a measured load (measuredLoad). */
export function rowOf(name: string, measured: { result: LoadResult; cpuMsPerRequest: number }): Row {
  const { result, cpuMsPerRequest } = measured;
  return {
    name,
    perSecond: perSecond(result),
    latencies: result.latenciesMs,
    cpuMsPerUnit: cpuMsPerRequest,
    errors: result.errors,
  };
}

export function printRows(unit: string, rows: Row[]) {
  const rateHeader = `${unit}/s`.padStart(9);
  const cpuHeader = ` cpu ms/${unit}`.padStart(14);
  console.log(
    'scenario'.padEnd(44) +
      rateHeader +
      ['p50 ms', 'p95 ms', 'p99 ms', 'max ms'].map((h) => h.padStart(8)).join('') +
      cpuHeader +
      'errors'.padStart(8),
  );
  for (const row of rows) {
    console.log(
      row.name.padEnd(44) +
        format(row.perSecond, 0).padStart(rateHeader.length) +
        [50, 95, 99].map((p) => format(percentile(row.latencies, p)).padStart(8)).join('') +
        format(row.latencies.at(-1) ?? Number.NaN).padStart(8) +
        format(row.cpuMsPerUnit, 3).padStart(cpuHeader.length) +
        String(row.errors).padStart(8),
    );
  }
}

/**
 * A table of two columns and their ratio (`ratio(a, b)`), one line per figure; a figure neither column has (NaN in
 * both, e.g. the commits of two systems on one database) is left out.
 */
export function printComparison(
  heading: string,
  columns: [string, string],
  lines: { label: string; values: [number, number]; digits?: number }[],
  ratio: (a: number, b: number) => number,
) {
  console.log(heading.padEnd(42) + columns[0].padStart(12) + columns[1].padStart(12) + 'ratio'.padStart(10));
  for (const { label, values, digits = 2 } of lines) {
    if (values.every(Number.isNaN)) continue;
    console.log(
      label.padEnd(42) +
        format(values[0], digits).padStart(12) +
        format(values[1], digits).padStart(12) +
        format(ratio(values[0], values[1])).padStart(10),
    );
  }
}
