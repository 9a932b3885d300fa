/**
 * agent-round: what tt adds around one coding-agent CLI round, against the CLI's own start.
 *
 * Starts its own redis-server (persistence off) and a town on it (its unix socket, redis.url),
 * outside any git checkout. Two agents each run tt's worker loop in this process exactly as a
 * worker process runs it (services/workers.ts runAgentLoop: the town opened, the `tt` shim
 * written, the prompt built per round, the CLI run with `sh -c`, its output logged and read, the
 * outcome recorded). Their CLI is a no-op: a Node script that reads the prompt on stdin and
 * prints one line of claude-style stream-json (a `result` event), then exits 0.
 *   - exit:   the script as a plain command (`--cli "node noop.mjs"`); tt judges the round by
 *             its exit code;
 *   - report: `--cli claude`, the built-in preset, with a stand-in `claude` first on PATH: the
 *             script, then `tt task complete $TT_TASK_ID` through the worker's shim, as a coding
 *             agent reports (a second process: tt's CLI starting, opening the town, one script).
 * A round runs from just before the operator's assign (services assignTask) to the agent's
 * `agent.state` event back to idle with the task completed, read from the agent's event stream.
 *
 * Side by side, in the same run and interleaved round by round with the tt rounds: the same
 * script run directly (`sh -c 'node noop.mjs'`, a 4 KiB prompt on stdin, to its exit), a bare
 * `node -e 0`, and `tt --version` (the start of tt's own CLI, which every report pays). tt's overhead per round is the round's median less the bare script's; the ratios
 * are the round's median over theirs. Figures are medians and nearest-rank p95 of the rounds,
 * after warm-up rounds.
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Agent } from '../source/model/agent.js';
import { ttEntry } from '../source/runtime/entry.js';
import { agents, registerNewAgent } from '../source/services/agents.js';
import { openTown, type Town, type Where } from '../source/services/context.js';
import { followEvents, type EventFollower } from '../source/services/events.js';
import { assignTask, findTask } from '../source/services/tasks.js';
import { runAgentLoop } from '../source/services/workers.js';
import { machineFacts } from './lib/machine.js';
import { sleep, withBenchSession } from './lib/session.js';
import { median, percentile, ratio, round } from './lib/stats.js';
import { fixed, table, times } from './lib/table.js';
import type { Benchmark, BenchOptions, BenchResult } from './lib/types.js';

interface Params {
  /** Measured rounds of each series. */
  rounds: number;
  /** Unmeasured rounds of each series first (JIT, page cache, script loading). */
  warmup: number;
  /** A round that has not ended after this long is a problem. */
  roundTimeoutMs: number;
}

const FULL: Params = { rounds: 30, warmup: 3, roundTimeoutMs: 30_000 };
const QUICK: Params = { rounds: 3, warmup: 1, roundTimeoutMs: 30_000 };

/** One line of claude's stream-json, as `claude -p --output-format stream-json` ends a run. */
const RESULT_LINE = JSON.stringify({
  type: 'result',
  subtype: 'success',
  is_error: false,
  duration_ms: 1,
  num_turns: 1,
  result: 'Done.',
  session_id: '00000000-0000-4000-8000-000000000000',
  total_cost_usd: 0,
  usage: { input_tokens: 10, cache_read_input_tokens: 0, output_tokens: 2 },
});

/** The no-op CLI: reads the prompt to its end (as a CLI does), prints one result line, exits 0. */
const NOOP_SCRIPT = `process.stdin.resume();
process.stdin.on('end', () => process.stdout.write(${JSON.stringify(`${RESULT_LINE}\n`)}));
`;

type Series = 'bare' | 'node' | 'ttStart' | 'exit' | 'report';
const SERIES: readonly Series[] = ['bare', 'node', 'ttStart', 'exit', 'report'];

interface Summary {
  medianMs: number;
  p95Ms: number;
  minMs: number;
  maxMs: number;
  /** Every measured round (ms), in the order run. */
  runs: number[];
}

const summary = (xs: number[]): Summary => {
  const sorted = Float64Array.from(xs).sort();
  return {
    medianMs: round(median(xs)),
    p95Ms: round(percentile(sorted, 95)),
    minMs: round(sorted[0] ?? Number.NaN),
    maxMs: round(sorted.at(-1) ?? Number.NaN),
    runs: xs.map(round),
  };
};

/** The environment of a bench child: this process's, without tt's own variables. */
const childEnv = (home: string): Record<string, string> => {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !/^(REDIS_URL|TT_.*)$/.test(k)) env[k] = v;
  return { ...env, TT_HOME: home };
};

/** Runs a command to its exit with `input` on stdin; its wall time in ms. */
const timed = (file: string, args: string[], input: string, env: Record<string, string>) =>
  new Promise<number>((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(file, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let err = '';
    child.stdout.resume();
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolve(performance.now() - t0)
        : reject(new Error(`${file} ${args.join(' ')} exited ${code}: ${err.trim().slice(0, 200)}`)),
    );
    child.stdin.end(input);
  });

/** A hosted worker loop (as `tt agent-loop` runs it), and its agent's event stream. */
interface Hosted {
  agent: Agent;
  follower: EventFollower;
  after: string;
  done: Promise<unknown>;
  log: string[];
}

/** Waits (setup only, not measured) until the agent's worker is up: the agent idle. */
const waitIdle = async (t: Town, id: string, timeoutMs: number): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const a = (await agents(t)).find((x) => x.id === id);
    if (a?.state === 'idle') return;
    if (Date.now() > deadline) throw new Error(`agent ${a?.name ?? id} did not come up (${a?.state})`);
    await sleep(20);
  }
};

/**
 * One round: the operator assigns a task; the round ends when the agent's stream says the task
 * completed and the agent is idle again. Returns the wall time (ms) and when the task started,
 * from its event's time (ms after the assign).
 */
const oneRound = async (
  t: Town,
  h: Hosted,
  p: Params,
  problems: string[],
): Promise<{ ms: number; startMs: number }> => {
  const wall0 = Date.now();
  const t0 = performance.now();
  const task = await assignTask(t, h.agent.id, { description: 'bench: a no-op round' });
  let started = Number.NaN;
  let completed = false;
  for (;;) {
    const left = p.roundTimeoutMs - (performance.now() - t0);
    if (left <= 0) {
      problems.push(
        `${h.agent.name}: round did not end in ${p.roundTimeoutMs} ms (log: ${h.log.slice(-3).join(' | ')})`,
      );
      throw new Error(`agent-round: ${problems.at(-1)}`);
    }
    const batch = await h.follower.next(h.after, Math.min(1000, Math.ceil(left)));
    for (const e of batch) {
      h.after = e.id;
      if (e.task === task.id && e.type === 'task.started') started = e.ts - wall0;
      if (e.task === task.id && (e.type === 'task.retry' || e.type === 'task.dead'))
        problems.push(`${h.agent.name}: task ${task.id.slice(0, 8)} failed: ${e.text ?? e.type}`);
      if (e.task === task.id && e.type === 'task.completed') completed = true;
      if (completed && e.type === 'agent.state' && e.state === 'idle') {
        const ms = performance.now() - t0;
        const stored = await findTask(t, task.id);
        if (stored.state !== 'completed')
          problems.push(`${h.agent.name}: task ${task.id.slice(0, 8)} is ${stored.state}, not completed`);
        return { ms, startMs: started };
      }
    }
  }
};

export const agentRound: Benchmark = {
  name: 'agent-round',
  summary:
    "tt's overhead per CLI round (assign, claim, prompt, spawn, output, finish) with a no-op claude-style CLI, against the same CLI run directly and node -e 0",
  async run(opts: BenchOptions): Promise<BenchResult> {
    const p = opts.quick ? QUICK : FULL;
    const entry = ttEntry();
    if (!existsSync(entry))
      throw new Error(
        `agent-round: the tt CLI the shim runs is not built (${entry}); run node scripts/build.mjs --bench`,
      );
    return withBenchSession('agent-round', opts, async (s) => {
      const { redis, dir } = s;
      const problems: string[] = [];
      const root = join(dir, 'town');
      const home = join(dir, 'home');
      mkdirSync(join(root, '.tt'), { recursive: true });
      mkdirSync(home, { recursive: true });
      const noop = join(dir, 'noop.mjs');
      writeFileSync(noop, NOOP_SCRIPT);
      writeFileSync(
        join(root, 'tt.config.json'),
        JSON.stringify({
          name: 'bench-round',
          redis: { url: `unix://${redis.socket}` },
          agent: { idleTimeoutSecs: 0, maxRounds: 0 },
        }),
      );
      const script = `${JSON.stringify(process.execPath)} ${JSON.stringify(noop)}`;
      // A stand-in claude on PATH: tt runs its claude preset's command line, which finds this.
      const bin = join(dir, 'bin');
      mkdirSync(bin);
      writeFileSync(
        join(bin, 'claude'),
        `#!/bin/sh\n${script} && exec tt task complete "$TT_TASK_ID" --result done >/dev/null\n`,
      );
      chmodSync(join(bin, 'claude'), 0o755);
      const env = childEnv(home);
      env.PATH = `${bin}:${env.PATH ?? ''}`;
      const cliOf = { exit: script, report: 'claude' };
      const where: Where = { cwd: root, env, town: root };
      const t = await openTown(where);
      const stop = new AbortController();
      const hosted: Partial<Record<'exit' | 'report', Hosted>> = {};
      try {
        for (const kind of ['exit', 'report'] as const) {
          const agent = await registerNewAgent(t, { name: kind, cli: cliOf[kind] });
          const follower = await followEvents(t, { agent: agent.id });
          const { after } = await follower.start(0);
          const log: string[] = [];
          const done = runAgentLoop(where, agent.id, { signal: stop.signal, log: (l) => log.push(l) });
          hosted[kind] = { agent, follower, after, done, log };
          await waitIdle(t, agent.id, 30_000);
        }
        opts.progress(
          `agent-round: redis-server ${redis.version} pid ${redis.pid}; town over unix://${redis.socket}; node ${process.version}`,
        );

        const input = `${'You are a coding agent in a town of agents. '.repeat(90)}\n`;
        const ran: Record<Series, number[]> = { bare: [], node: [], ttStart: [], exit: [], report: [] };
        const starts: Record<'exit' | 'report', number[]> = { exit: [], report: [] };
        const one = async (series: Series): Promise<{ ms: number; startMs?: number }> => {
          if (series === 'bare') return { ms: await timed('sh', ['-c', script], input, env) };
          if (series === 'node') return { ms: await timed(process.execPath, ['-e', '0'], '', env) };
          if (series === 'ttStart')
            return { ms: await timed(process.execPath, [entry, '--version'], '', env) };
          return oneRound(t, hosted[series]!, p, problems);
        };
        for (let i = 0; i < p.warmup + p.rounds; i++) {
          const measured = i >= p.warmup;
          // Rotate the order, so no series always runs first (on a cooler, or a busier, machine).
          const order = SERIES.map((_, k) => SERIES[(k + i) % SERIES.length]!);
          for (const series of order) {
            const r = await one(series);
            if (!measured) continue;
            ran[series].push(r.ms);
            if (r.startMs !== undefined && (series === 'exit' || series === 'report'))
              starts[series].push(r.startMs);
          }
          if (measured && (i - p.warmup) % 10 === 9)
            opts.progress(`agent-round: ${i - p.warmup + 1}/${p.rounds} rounds`);
        }

        const sum = Object.fromEntries(SERIES.map((k) => [k, summary(ran[k])])) as Record<Series, Summary>;
        const over = (k: 'exit' | 'report') => ({
          ...sum[k],
          /** The round's median less the bare script's: what tt adds per round. */
          overheadMs: round(sum[k].medianMs - sum.bare.medianMs),
          /** The median of each round less the bare run of the same iteration (less drift). */
          overheadPairedMs: round(median(ran[k].map((x, i) => x - ran.bare[i]!))),
          /** From the assign to the task.started event (event times are whole ms). */
          claimMedianMs: round(median(starts[k])),
          ratioToBare: round(ratio(sum[k].medianMs, sum.bare.medianMs)),
          ratioToNode: round(ratio(sum[k].medianMs, sum.node.medianMs)),
          ratioToBareP95: round(ratio(sum[k].p95Ms, sum.bare.p95Ms)),
        });
        const tt = { exit: over('exit'), report: over('report') };
        const json = {
          ...s.header(),
          setup: {
            ...machineFacts(redis.version),
            ...s.conditions(),
            transport: 'unix socket (redis.url unix://)',
            rounds: p.rounds,
            warmup: p.warmup,
            statistic: 'median and nearest-rank p95 of the rounds; series interleaved round by round',
            cli: {
              exit: '--cli "node noop.mjs" (reads stdin, prints one claude stream-json result line, exits 0)',
              report:
                '--cli claude, a stand-in claude on PATH: node noop.mjs && tt task complete "$TT_TASK_ID" (through the shim)',
            },
            round: 'assignTask .. agent.state idle after task.completed, on the agent event stream',
            worker: 'services/workers.ts runAgentLoop hosted in this process, one per agent',
            peers: {
              bare: "sh -c 'node noop.mjs' with a 4 KiB prompt on stdin, to its exit",
              node: 'node -e 0',
              ttStart: "tt --version: the start of tt's own CLI, which an agent's tt task complete pays",
            },
          },
          bare: sum.bare,
          nodeStart: sum.node,
          ttStart: sum.ttStart,
          tt,
          ratios: {
            exitToBare: tt.exit.ratioToBare,
            reportToBare: tt.report.ratioToBare,
            exitToNodeStart: tt.exit.ratioToNode,
            reportToNodeStart: tt.report.ratioToNode,
            bareToNodeStart: round(ratio(sum.bare.medianMs, sum.node.medianMs)),
            ttStartToNodeStart: round(ratio(sum.ttStart.medianMs, sum.node.medianMs)),
          },
          problems,
        };
        const row = (label: string, x: Summary, extra: string[]) => [
          label,
          fixed(x.medianMs, 1),
          fixed(x.p95Ms, 1),
          fixed(x.minMs, 1),
          fixed(x.maxMs, 1),
          ...extra,
        ];
        const lines = [
          `agent-round: one CLI round through tt vs the same CLI run directly; redis ${redis.version} over a unix socket, node ${process.version}, ${json.setup.cpus} x ${json.setup.cpuModel}`,
          s.placementLine(`${p.rounds} rounds per series after ${p.warmup} warm-up, interleaved`),
          ...s.busyWarning('high'),
          ...(problems.length
            ? ['', `ERROR: ${problems.length} problem(s):`, ...problems.map((x) => `  ${x}`)]
            : []),
          '',
          ...table(
            ['ms per round', 'median', 'p95', 'min', 'max', 'overhead', 'paired', 'x bare', 'x node -e 0'],
            [
              row('node -e 0', sum.node, ['', '', '', '']),
              row('tt --version', sum.ttStart, ['', '', '', times(json.ratios.ttStartToNodeStart)]),
              row('no-op CLI run directly', sum.bare, ['', '', '', times(json.ratios.bareToNodeStart)]),
              row('tt round, exit judged', sum.exit, [
                fixed(tt.exit.overheadMs, 1),
                fixed(tt.exit.overheadPairedMs, 1),
                times(tt.exit.ratioToBare),
                times(tt.exit.ratioToNode),
              ]),
              row('tt round, agent reports', sum.report, [
                fixed(tt.report.overheadMs, 1),
                fixed(tt.report.overheadPairedMs, 1),
                times(tt.report.ratioToBare),
                times(tt.report.ratioToNode),
              ]),
            ],
          ),
          '',
          `overhead: the round's median less the bare run's; paired: the median of each round less the bare run of its iteration`,
          `assign to task started (claim, whole ms): exit ${fixed(tt.exit.claimMedianMs, 0)}, report ${fixed(tt.report.claimMedianMs, 0)}`,
          "a round: assign, the idle worker's wake-up, claim, prompt, sh -c + the CLI, its output logged and read, the outcome recorded; 'agent reports' adds tt task complete (a tt process) inside the CLI's run",
          `ran ${s.elapsedSec()} s`,
        ];
        if (problems.length) {
          for (const l of lines) opts.progress(l);
          throw new Error(`agent-round: ${problems.length} problem(s), first: ${problems[0]}`);
        }
        return { json, lines };
      } finally {
        stop.abort();
        for (const h of Object.values(hosted)) h.follower.close();
        await Promise.race([Promise.all(Object.values(hosted).map((h) => h.done)), sleep(5000)]);
        await t.close();
      }
    });
  },
};
