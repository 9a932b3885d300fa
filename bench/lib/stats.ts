/** Small statistics helpers: every figure the benchmarks report goes through these. */

export const median = (xs: readonly number[]): number => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  const n = s.length;
  if (n === 0) return Number.NaN;
  return n % 2 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
};

/** Nearest-rank percentile of an ascending-sorted sample. */
export const percentile = (sorted: ArrayLike<number>, p: number): number => {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * n);
  return sorted[Math.min(n - 1, Math.max(0, rank - 1))]!;
};

export interface LatencySummary {
  count: number;
  p50: number;
  p99: number;
  max: number;
  mean: number;
}

/** Summarises latencies (any unit; the benchmarks use milliseconds). */
export const summarize = (samples: Float64Array | number[]): LatencySummary => {
  const s = Float64Array.from(samples).sort();
  let sum = 0;
  for (const x of s) sum += x;
  return {
    count: s.length,
    p50: percentile(s, 50),
    p99: percentile(s, 99),
    max: s.length ? s[s.length - 1]! : Number.NaN,
    mean: s.length ? sum / s.length : Number.NaN,
  };
};

/** A figure measured once per repetition, with its median. */
export interface Repeated {
  median: number;
  runs: number[];
}

export const repeated = (runs: number[]): Repeated => ({ median: median(runs), runs });

/** Median of each numeric field across repetitions of the same record shape. */
export const medianOf = <T extends object>(records: T[]): { [K in keyof T]: Repeated } => {
  const out = {} as { [K in keyof T]: Repeated };
  if (records.length === 0) return out;
  for (const k of Object.keys(records[0]!) as (keyof T)[])
    out[k] = repeated(records.map((r) => Number(r[k])));
  return out;
};

export const ratio = (a: number, b: number): number => (b > 0 && Number.isFinite(a) ? a / b : Number.NaN);

/** Rounds for JSON output: keeps 3 significant decimals for small numbers, integers for large. */
export const round = (x: number): number => {
  if (!Number.isFinite(x)) return x;
  const a = Math.abs(x);
  if (a >= 1000) return Math.round(x);
  if (a >= 1) return Math.round(x * 100) / 100;
  return Math.round(x * 10000) / 10000;
};

/** Each field of a medianOf record, rounded for the JSON report. */
export type Medianed<T> = { [K in keyof T]: Repeated };
export type Rounded<T> = { [K in keyof T]: { median: number; runs: number[] } };
export const roundAll = <T extends Record<string, Repeated>>(r: T): Rounded<T> => {
  const out = {} as Rounded<T>;
  for (const k of Object.keys(r) as (keyof T)[])
    out[k] = { median: round(r[k]!.median), runs: r[k]!.runs.map(round) };
  return out;
};
