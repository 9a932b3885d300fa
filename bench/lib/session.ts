/**
 * What every Redis-backed benchmark does around its measurements: note the start time and the
 * load, sample the background CPU use, make a temp dir and start a bench redis-server, stop and
 * remove both at the end (also on an error, through the cleanup registry); and the report
 * fields and lines that describe those conditions, worded the same in every benchmark.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Endpoint } from '../../source/config/endpoint.js';
import { onCleanup } from './cleanup.js';
import { backgroundBusyPct, cpusAllowed } from './machine.js';
import { startBenchRedis, type BenchRedis } from './redis-server.js';
import { round } from './stats.js';
import { int } from './table.js';
import type { BenchOptions } from './types.js';

/** What a scenario of a Redis-backed benchmark works with. */
export interface BenchCtx {
  redis: BenchRedis;
  endpoint: Endpoint;
  /** Working directory (and logs) of the run. */
  dir: string;
  /** Correctness problems found so far, reported loudly at the end. */
  problems: string[];
  progress: (line: string) => void;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface BenchSession {
  /** Date.now() when the session began, before the background CPU sample. */
  started: number;
  /** % of all CPUs busy with other work just before the run (sampled 1 s, 0.2 s with --quick). */
  idleBusy: number;
  /** A temp dir of this run (tt-bench-<name>-…), removed at the end. */
  dir: string;
  redis: BenchRedis;
  /** Seconds since `started`, rounded. */
  elapsedSec(): number;
  /** The JSON report's leading fields. */
  header(): { benchmark: string; quick: boolean; startedAt: string; durationSec: number };
  /** The setup fields on placement and load; the 1-minute load average "after" is read now. */
  conditions(): {
    placement: 'unpinned';
    /** % of all CPUs busy with other work in the second before the run (above 25%: figures are suspect). */
    backgroundCpuPct: number;
    /** 1-minute load average before and after the run. */
    loadavg1: { before: number; after: number };
    cpusAllowed: { node: string; redis: string };
  };
  /** The "placement: unpinned …; persistence off" line; `more` follows after "; ", then the --quick note. */
  placementLine(more?: string): string;
  /** The warning line when over 25% of the CPUs were busy before the run (else none); `figures` says which way that skews them. */
  busyWarning(figures: 'low' | 'high'): string[];
}

/** Runs `body` inside a session for benchmark `name`; redis is stopped and the dir removed after it, however it ends. */
export const withBenchSession = async <T>(
  name: string,
  opts: BenchOptions,
  body: (s: BenchSession) => Promise<T>,
): Promise<T> => {
  const started = Date.now();
  const loadBefore = round(loadavg()[0]!);
  const idleBusy = await backgroundBusyPct(opts.quick ? 200 : 1000);
  const dir = mkdtempSync(join(tmpdir(), `tt-bench-${name}-`));
  const removeDir = onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  const redis = await startBenchRedis();
  const allowed = () => ({ node: cpusAllowed('self'), redis: cpusAllowed(redis.pid) });
  const elapsedSec = () => round((Date.now() - started) / 1000);
  const session: BenchSession = {
    started,
    idleBusy,
    dir,
    redis,
    elapsedSec,
    header: () => ({
      benchmark: name,
      quick: opts.quick,
      startedAt: new Date(started).toISOString(),
      durationSec: elapsedSec(),
    }),
    conditions: () => ({
      placement: 'unpinned',
      backgroundCpuPct: round(idleBusy),
      loadavg1: { before: loadBefore, after: round(loadavg()[0]!) },
      cpusAllowed: allowed(),
    }),
    placementLine: (more) => {
      const a = allowed();
      return (
        `placement: unpinned (CPUs allowed: node ${a.node}, redis ${a.redis}); other work before start ${int(idleBusy)}% of CPUs; persistence off` +
        (more ? `; ${more}` : '') +
        (opts.quick ? ' (--quick: a smoke check, figures not meaningful)' : '')
      );
    },
    busyWarning: (figures) =>
      idleBusy > 25
        ? [
            `warning: ${int(idleBusy)}% of the CPUs were busy with other work before the run (load average ${loadBefore}): figures are ${figures} and noisy`,
          ]
        : [],
  };
  try {
    return await body(session);
  } finally {
    await redis.stop();
    await removeDir();
  }
};
