/** One benchmark result (DESIGN §15). */
export interface BenchRow {
  name: string;
  value: number;
  unit: string;
  /** What was run beside it, or null. */
  baseline: string | null;
  baselineValue: number | null;
  /** value / baselineValue, or null without a baseline. */
  ratio: number | null;
  /** Shown in the table for people, left out of the JSON rows (not a DESIGN §15 name). */
  humanOnly?: boolean;
}

/** A row, rounded for reading; the ratio is taken before rounding. */
export function benchRow(
  name: string,
  value: number,
  unit: string,
  baseline: string | null = null,
  baselineValue: number | null = null,
): BenchRow {
  const round = (n: number) => Math.round(n * 1000) / 1000;
  return {
    name,
    value: round(value),
    unit,
    baseline,
    baselineValue: baselineValue === null ? null : round(baselineValue),
    ratio: baselineValue ? round(value / baselineValue) : null,
  };
}

/** The median of a few timings: one slow run (a cold cache, another job) does not decide. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Seconds taken by `work`. */
export async function timed(work: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await work();
  return Number(process.hrtime.bigint() - start) / 1e9;
}
