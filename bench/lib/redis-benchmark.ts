/** Runs `redis-benchmark` against a bench Redis and parses its --csv output. */
import { execFile } from 'node:child_process';
import { killPid, onCleanup } from './cleanup.js';

export type Target = { socket: string } | { host: string; port: number };

export interface RbRow {
  test: string;
  rps: number;
  avgMs: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export const targetArgs = (t: Target): string[] =>
  'socket' in t ? ['-s', t.socket] : ['-h', t.host, '-p', String(t.port)];

/** Parses `redis-benchmark --csv` output (header line, then one quoted row per test). */
export const parseCsv = (out: string): RbRow[] => {
  const lines = out
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('"'));
  if (lines.length < 2) return [];
  const split = (l: string) => l.split(',').map((c) => c.replace(/^"|"$/g, ''));
  const head = split(lines[0]!);
  const col = (name: string) => head.indexOf(name);
  return lines.slice(1).map((l) => {
    const c = split(l);
    const num = (name: string) => (col(name) >= 0 ? Number(c[col(name)]) : Number.NaN);
    return {
      test: c[0]!,
      rps: num('rps'),
      avgMs: num('avg_latency_ms'),
      p50Ms: num('p50_latency_ms'),
      p99Ms: num('p99_latency_ms'),
      maxMs: num('max_latency_ms'),
    };
  });
};

/** Runs redis-benchmark with `args` after the target options; resolves to its rows by test name. */
export const runRedisBenchmark = (
  target: Target,
  args: string[],
  timeoutMs: number,
): Promise<{ argv: string[]; rows: Map<string, RbRow> }> => {
  const argv = [...targetArgs(target), ...args, '--csv'];
  return new Promise((resolve, reject) => {
    const child = execFile(
      'redis-benchmark',
      argv,
      { timeout: timeoutMs, killSignal: 'SIGKILL', encoding: 'utf8' },
      (err, stdout, stderr) => {
        void release();
        if (err)
          return reject(
            new Error(
              `redis-benchmark ${argv.join(' ')} failed: ${err.killed ? `killed after ${timeoutMs} ms` : (stderr || err.message).trim()}`,
            ),
          );
        const rows = parseCsv(stdout);
        if (rows.length === 0)
          return reject(
            new Error(`redis-benchmark printed no results: ${stdout.slice(0, 200)} ${stderr.slice(0, 200)}`),
          );
        resolve({
          argv: ['redis-benchmark', ...argv],
          rows: new Map(rows.map((r) => [r.test.toLowerCase(), r])),
        });
      },
    );
    const kill = () => {
      if (child.exitCode === null && child.signalCode === null) killPid(child.pid);
    };
    const release = onCleanup(kill, kill);
  });
};
