/**
 * Benchmark runner: `node dist-bench/bench/run.js <name> [--json] [--quick]` (npm run bench -- <name>).
 *
 * Without --json it prints a human report on stdout; with --json stdout carries exactly one JSON
 * object (every figure, the peer's figures and the ratios) and progress goes to stderr.
 * --quick runs a short version that only checks the benchmark still works (CI).
 * No name lists the benchmarks; --list prints just their names, one a line (for scripts).
 */
import { agentRound } from './agent-round.js';
import { bus } from './bus.js';
import { consoleBench } from './console.js';
import { dispatch } from './dispatch.js';
import { interrupted, runCleanups } from './lib/cleanup.js';
import { throughput } from './throughput.js';
import type { Benchmark } from './lib/types.js';

/** Every benchmark by name. */
const BENCHMARKS: readonly Benchmark[] = [bus, throughput, dispatch, consoleBench, agentRound];

const USAGE = 'usage: npm run bench -- <name> [--json] [--quick] | --list';

const list = (): string => BENCHMARKS.map((b) => `  ${b.name.padEnd(12)} ${b.summary}`).join('\n');

const main = async (argv: string[]): Promise<number> => {
  const flags = new Set(argv.filter((a) => a.startsWith('-')));
  const names = argv.filter((a) => !a.startsWith('-'));
  const unknownFlags = [...flags].filter((f) => !['--json', '--quick', '--list', '--help', '-h'].includes(f));
  if (flags.has('--help') || flags.has('-h')) {
    process.stdout.write(`${USAGE}\n\nbenchmarks:\n${list()}\n`);
    return 0;
  }
  if (flags.has('--list')) {
    process.stdout.write(`${BENCHMARKS.map((b) => b.name).join('\n')}\n`);
    return 0;
  }
  if (unknownFlags.length) {
    process.stderr.write(`bench: unknown option ${unknownFlags.join(', ')}; ${USAGE}\n`);
    return 2;
  }
  if (names.length === 0) {
    process.stdout.write(`${USAGE}\n\nbenchmarks:\n${list()}\n`);
    return 0;
  }
  if (names.length > 1) {
    process.stderr.write(`bench: one benchmark at a time (got ${names.join(', ')}); ${USAGE}\n`);
    return 2;
  }
  const bench = BENCHMARKS.find((b) => b.name === names[0]);
  if (!bench) {
    process.stderr.write(
      `bench: unknown benchmark "${names[0]}"; known: ${BENCHMARKS.map((b) => b.name).join(', ')}\n`,
    );
    return 2;
  }
  const json = flags.has('--json');
  const quick = flags.has('--quick');
  const result = await bench.run({ quick, progress: (line) => process.stderr.write(`${line}\n`) });
  process.stdout.write(json ? `${JSON.stringify(result.json)}\n` : `${result.lines.join('\n')}\n`);
  return 0;
};

void main(process.argv.slice(2))
  .catch((e: unknown) => {
    if (!interrupted()) process.stderr.write(`bench: ${(e as Error)?.stack ?? String(e)}\n`);
    return 1;
  })
  .then(async (code) => {
    await runCleanups();
    process.exitCode = code;
    // Connections left open by a failed run must not keep the process alive.
    setTimeout(() => process.exit(code), 500).unref();
  });
