/** What a benchmark module provides to the runner (bench/run.ts). */

export interface BenchOptions {
  /** Short version that only checks the benchmark still works (CI). */
  quick: boolean;
  /** Progress lines; the runner sends them to stderr so stdout stays one JSON object. */
  progress: (line: string) => void;
}

export interface BenchResult {
  /** Every figure, the peer's figures and the ratios, as printed by --json. */
  json: Record<string, unknown>;
  /** The human report. */
  lines: string[];
}

export interface Benchmark {
  name: string;
  /** One line: what it measures and against which peer. */
  summary: string;
  run(opts: BenchOptions): Promise<BenchResult>;
}
