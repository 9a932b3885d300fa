/**
 * throughput: tt's task path end to end against BullMQ, on the same Redis in the same run.
 *
 * Starts its own redis-server (persistence off) and, for each row, measures both sides over TCP
 * 127.0.0.1 on a flushed server:
 *   - tt: N agents, each a worker loop (runWorker, the library function a worker process runs)
 *     with its own command and blocking connections, all hosted in this process; a producer
 *     enqueues backlog tasks (createTask) while they run; idle workers take them (autoClaim), run
 *     the no-op `sim` executor and record the outcome;
 *   - BullMQ: one Worker at concurrency N with a no-op processor; the producer calls Queue.add
 *     (removeOnComplete) while it runs.
 * Both producers keep at most `depth` tasks enqueued but not yet claimed (adds in flight
 * included), so the queue never runs dry and never grows into a long wait. Enqueue-to-claim is
 * performance.now() just before createTask / add() to the moment the executor / processor gets
 * the task, in this process. Throughput is tasks / (first enqueue .. last completion).
 * One more row runs a real child process per task (`--cli true`, cliExecutor; BullMQ's
 * processor runs the same runCli) to show what process start-up costs.
 * Every tt run is checked afterwards: each task claimed exactly once and completed once.
 * Figures are medians of the repetitions, after a warm-up round.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Queue, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { TownConfig } from '../source/config/schema.js';
import type { Agent } from '../source/model/agent.js';
import { SUPERVISOR_ID } from '../source/model/ids.js';
import type { Task } from '../source/model/task.js';
import { connect } from '../source/redis/connect.js';
import { cliExecutor, cliSettings } from '../source/runtime/cli-executor.js';
import { failureReason, runCli } from '../source/runtime/cli-runner.js';
import type { Executor } from '../source/runtime/executor.js';
import { SimSettings } from '../source/model/sim.js';
import { simExecutor } from '../source/runtime/sim.js';
import { runWorker, type WorkerConfig, type WorkerExit } from '../source/runtime/worker.js';
import { workerConfig } from '../source/services/workers.js';
import { registerAgent } from '../source/store/agents.js';
import { makeDb, type Db } from '../source/store/db.js';
import { countTasksByState, createTask } from '../source/store/tasks.js';
import {
  commandsProcessed,
  commandStats,
  commandStatsDelta,
  machineFacts,
  type CommandStat,
} from './lib/machine.js';
import { redisCpuSeconds } from './lib/redis-server.js';
import { sleep, withBenchSession, type BenchCtx } from './lib/session.js';
import { medianOf, ratio, round, roundAll, summarize, type Medianed } from './lib/stats.js';
import { fixed, int, table, times } from './lib/table.js';
import type { Benchmark, BenchOptions, BenchResult } from './lib/types.js';

type Cli = 'sim' | 'true';

interface Row {
  agents: number;
  cli: Cli;
  tasks: number;
}

interface Params {
  repetitions: number;
  /** A discarded round of each side before the measured ones (JIT, connection warm-up). */
  warmup: Row | undefined;
  rows: Row[];
  /** Tasks enqueued but not yet claimed, at most, per agent (BullMQ: per unit of concurrency); see depthOf. */
  depthPerAgent: number;
  /** Hard bound on any one measured scenario (ms). */
  deadlineMs: number;
}

const FULL: Params = {
  repetitions: 3,
  warmup: { agents: 10, cli: 'sim', tasks: 3_000 },
  rows: [
    { agents: 1, cli: 'sim', tasks: 3_000 },
    { agents: 10, cli: 'sim', tasks: 10_000 },
    { agents: 100, cli: 'sim', tasks: 20_000 },
    { agents: 10, cli: 'true', tasks: 400 },
  ],
  depthPerAgent: 1,
  deadlineMs: 60_000,
};
const QUICK: Params = {
  repetitions: 1,
  warmup: undefined,
  rows: [
    { agents: 1, cli: 'sim', tasks: 100 },
    { agents: 10, cli: 'sim', tasks: 300 },
    { agents: 100, cli: 'sim', tasks: 600 },
    { agents: 10, cli: 'true', tasks: 20 },
  ],
  depthPerAgent: 1,
  deadlineMs: 15_000,
};

/** One side's figures for one run of one row. */
interface SideRun {
  /** Tasks completed per second, first enqueue .. last completion. */
  perSec: number;
  /** Enqueue to claim (ms). */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** CPU used during the run, as % of one CPU over the wall time. */
  nodeCpuPct: number;
  redisCpuPct: number;
  /** Redis CPU time per task (µs). */
  redisUsPerTask: number;
  /** Commands Redis executed per task, those run inside scripts included. */
  redisCmdsPerTask: number;
  /** Script calls (EVALSHA / EVAL / FCALL) per task. */
  scriptCallsPerTask: number;
}

type Ctx = BenchCtx;

/**
 * The bookkeeping both sides share: when each task was enqueued and claimed, completions,
 * duplicates, and the producer's gate (at most `depth` tasks enqueued but not yet claimed).
 */
class Flow {
  readonly enqueueAt: Float64Array;
  readonly claimAt: Float64Array;
  issued = 0;
  claimed = 0;
  completed = 0;
  duplicates = 0;
  first = Number.NaN;
  last = Number.NaN;
  settled = false;
  readonly done: Promise<void>;
  private resolveDone!: () => void;
  private rejectDone!: (e: Error) => void;
  private wake: (() => void) | undefined;

  constructor(
    readonly n: number,
    readonly depth: number,
  ) {
    this.enqueueAt = new Float64Array(n).fill(Number.NaN);
    this.claimAt = new Float64Array(n).fill(Number.NaN);
    this.done = new Promise<void>((res, rej) => {
      this.resolveDone = res;
      this.rejectDone = rej;
    });
    this.done.catch(() => undefined);
  }

  /** Just before the enqueue call of task i. */
  stamp(i: number): void {
    const t = performance.now();
    if (i === 0) this.first = t;
    this.enqueueAt[i] = t;
  }

  claim(i: number): void {
    if (!Number.isNaN(this.claimAt[i]!)) {
      this.duplicates++;
      return;
    }
    this.claimAt[i] = performance.now();
    this.claimed++;
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  complete(): void {
    this.completed++;
    this.last = performance.now();
    if (this.completed === this.n && !this.settled) {
      this.settled = true;
      this.resolveDone();
    }
  }

  fail(e: Error): void {
    if (this.settled) return;
    this.settled = true;
    this.rejectDone(e);
    this.wake?.();
  }

  /** Enqueues every task, keeping at most `depth` of them enqueued and not yet claimed. */
  async produce(enqueue: (i: number) => Promise<unknown>): Promise<void> {
    for (let i = 0; i < this.n; i++) {
      while (this.issued - this.claimed >= this.depth && !this.settled)
        await new Promise<void>((r) => (this.wake = r));
      if (this.settled) return;
      this.issued++;
      enqueue(i).catch((e: unknown) => this.fail(new Error(`enqueue ${i} failed: ${(e as Error).message}`)));
    }
  }

  progress(): string {
    return `enqueued ${this.issued}, claimed ${this.claimed}, completed ${this.completed} of ${this.n}, ${this.duplicates} duplicate claim(s)`;
  }

  /** Waits for the last completion, failing the run after `ms`. */
  async finish(ms: number, what: string): Promise<void> {
    const timer = setTimeout(
      () => this.fail(new Error(`${what} did not finish within ${ms / 1000} s (${this.progress()})`)),
      ms,
    );
    try {
      await this.done;
    } finally {
      clearTimeout(timer);
    }
  }

  latency() {
    const lat = new Float64Array(this.n);
    let k = 0;
    for (let i = 0; i < this.n; i++)
      if (!Number.isNaN(this.claimAt[i]!)) lat[k++] = this.claimAt[i]! - this.enqueueAt[i]!;
    return summarize(lat.subarray(0, k));
  }
}

/** CPU and Redis counters around a measured window. */
const snapshot = async (admin: Redis) => ({
  cpu: process.cpuUsage(),
  redisCpu: await redisCpuSeconds(admin),
  cmds: await commandsProcessed(admin),
  stats: await commandStats(admin),
});
type Snapshot = Awaited<ReturnType<typeof snapshot>>;

const SCRIPT_CMDS = ['evalsha', 'eval', 'evalsha_ro', 'eval_ro', 'fcall', 'fcall_ro'];
/** INFO reads of our own snapshots, left out of the per-task counts. */
const OWN_CMDS = new Set(['info']);

const sideFigures = (
  flow: Flow,
  before: Snapshot,
  after: Snapshot,
  wallEnd: number,
): SideRun & { delta: [string, CommandStat][] } => {
  const wallMs = wallEnd - flow.first;
  const cpu = process.cpuUsage(before.cpu);
  const all = commandStatsDelta(before.stats, after.stats);
  const delta = all.filter(([name]) => !OWN_CMDS.has(name));
  const own = all.filter(([name]) => OWN_CMDS.has(name)).reduce((s, [, d]) => s + d.calls, 0);
  const lat = flow.latency();
  return {
    perSec: flow.n / (wallMs / 1000),
    p50Ms: lat.p50,
    p99Ms: lat.p99,
    maxMs: lat.max,
    nodeCpuPct: ((cpu.user + cpu.system) / 1000 / wallMs) * 100,
    redisCpuPct: (((after.redisCpu - before.redisCpu) * 1000) / wallMs) * 100,
    redisUsPerTask: ((after.redisCpu - before.redisCpu) * 1e6) / flow.n,
    redisCmdsPerTask: (after.cmds - before.cmds - own) / flow.n,
    scriptCallsPerTask:
      delta.filter(([name]) => SCRIPT_CMDS.includes(name)).reduce((s, [, d]) => s + d.calls, 0) / flow.n,
    delta,
  };
};

/** Waits until `count` clients are blocked in `cmd` (the consumers are up and waiting for work). */
const waitBlocked = async (admin: Redis, cmd: string, count: number, ms: number): Promise<void> => {
  const deadline = performance.now() + ms;
  for (;;) {
    const list = await admin.client('LIST');
    const blocked = String(list)
      .split('\n')
      .filter((l) => l.includes(` cmd=${cmd} `)).length;
    if (blocked >= count) return;
    if (performance.now() > deadline)
      throw new Error(`only ${blocked} of ${count} consumers blocked in ${cmd} after ${ms / 1000} s`);
    await sleep(10);
  }
};

/** Lets the consumers settle into their blocking wait before the clock starts (both sides alike). */
const SETTLE_MS = 100;

const rowLabel = (r: Row) =>
  `${r.agents} agent${r.agents === 1 ? '' : 's'}, ${r.cli === 'sim' ? 'sim (in process)' : '--cli true (a process per task)'}`;
/**
 * The producer's bound. About one waiting task per agent keeps every consumer busy (when one
 * finishes, its next task is already queued) while the queue stays short, so enqueue-to-claim
 * measures the bus and a short wait, not a backlog the producer piled up: by Little's law the
 * mean wait is about depth / throughput. At least 2, so a single consumer's next task is queued
 * before it finishes the current one rather than racing it.
 */
const depthOf = (r: Row, p: Params) => Math.max(2, Math.round(r.agents * p.depthPerAgent));

/** The town's default worker settings (heartbeat 3 s, reap every 5 s, block up to 5 s), run without limits. */
const benchWorkerConfig = (): WorkerConfig => ({
  ...workerConfig({ config: TownConfig.parse({ name: 'bench' }) }, 0),
  idleTimeoutMs: 0,
});

/** A run's figures, and what Redis executed during it (per task), busiest first. */
interface Measured {
  run: SideRun;
  commands: [string, CommandStat][];
}

const perTask = (delta: [string, CommandStat][], n: number): [string, CommandStat][] =>
  delta.map(([name, d]) => [name, { calls: d.calls / n, usec: d.usec / n }]);

const ttRun = async (ctx: Ctx, row: Row, p: Params): Promise<Measured> => {
  const { admin } = ctx.redis;
  await admin.flushall();
  const town = `bench-${process.pid}-${randomUUID().slice(0, 8)}`;
  const clock = { now: () => Date.now() };
  const conns: Redis[] = [];
  const open = async (role: 'dispatcher' | 'blocking') => {
    const c = await connect(ctx.endpoint, role);
    conns.push(c);
    return c;
  };
  /** One per worker loop, as each worker process has its own. */
  const aborts: AbortController[] = [];
  let exits: Promise<WorkerExit>[] = [];
  const what = `tt, ${rowLabel(row)}`;
  try {
    const config = benchWorkerConfig();
    const producer = makeDb(await open('dispatcher'), town, clock);
    // The hosted worker loops share one command connection, as BullMQ's concurrency slots do;
    // each needs a blocking connection of its own.
    const db = makeDb(await open('dispatcher'), town, clock);
    const agents: { db: Db; blocking: Redis; id: string }[] = [];
    for (let i = 0; i < row.agents; i++) {
      const t = Date.now();
      const name = `bench-${i}`;
      const agent: Agent = {
        id: randomUUID(),
        name,
        nickname: name,
        cli: row.cli,
        state: 'idle',
        caps: [],
        createdAt: t,
        updatedAt: t,
        tasksCompleted: 0,
        roundsCompleted: 0,
      };
      const r = await registerAgent(db, agent, config.heartbeatTtlMs);
      if (!r.ok) throw new Error(`could not register agent ${name}: taken by ${r.existingId}`);
      agents.push({ db, blocking: await open('blocking'), id: agent.id });
    }

    const flow = new Flow(row.tasks, depthOf(row, p));
    const index = new Map<string, number>();
    const ids: string[] = [];
    const inner =
      row.cli === 'sim'
        ? simExecutor(SimSettings.parse({}))
        : cliExecutor({ ...cliSettings('true', 'true'), townRoot: ctx.dir });
    const executor: Executor = (work) => {
      for (const { task } of work.tasks) {
        const i = index.get(task.id);
        if (i === undefined)
          flow.fail(new Error(`${what}: the executor got a task nobody enqueued (${task.id})`));
        else flow.claim(i);
      }
      return inner(work);
    };
    // A task counts as completed once its round's outcome is recorded in Redis.
    const workerTrouble: string[] = [];
    const onRoundEnd = (results: { outcome: string; text: string }[], outcomes: string[]) =>
      results.forEach((r, i) => {
        if (r.outcome === 'completed' && outcomes[i] === 'completed') flow.complete();
        else flow.fail(new Error(`${what}: a worker reported ${r.outcome} (${outcomes[i]}): ${r.text}`));
      });
    const onLine = (line: string) => {
      if (/: error \(|malformed|reaped/.test(line)) workerTrouble.push(line);
    };
    exits = agents.map((a) => {
      const abort = new AbortController();
      aborts.push(abort);
      return runWorker({
        db: a.db,
        blocking: a.blocking,
        agentId: a.id,
        executor,
        config,
        logsDir: join(ctx.dir, 'logs'),
        env: {},
        signal: abort.signal,
        log: onLine,
        onRoundEnd,
      });
    });
    for (const e of exits)
      void e.catch((err: unknown) =>
        flow.fail(new Error(`${what}: a worker loop threw: ${(err as Error).message}`)),
      );
    await waitBlocked(admin, 'blpop', row.agents, 10_000);
    await sleep(SETTLE_MS);

    const before = await snapshot(admin);
    void flow.produce((i) => {
      const id = randomUUID();
      index.set(id, i);
      ids.push(id);
      const t = Date.now();
      const task: Task = {
        id,
        description: `bench task ${i}`,
        state: 'pending',
        priority: 'normal',
        tags: [],
        createdAt: t,
        updatedAt: t,
        attempts: 0,
        maxAttempts: 3,
      };
      flow.stamp(i);
      return createTask(producer, { task, from: SUPERVISOR_ID, backlog: true });
    });
    await flow.finish(p.deadlineMs, what);
    const end = flow.last;
    const after = await snapshot(admin);
    const figures = sideFigures(flow, before, after, end);

    await stopWorkers(aborts, exits, agents, admin);
    for (const line of workerTrouble) ctx.problems.push(`${what}: worker said: ${line}`);
    await verifyTt(ctx, what, flow, producer, ids);
    const { delta, ...run } = figures;
    return { run, commands: perTask(delta, flow.n) };
  } finally {
    for (const a of aborts) a.abort();
    for (const c of conns) c.disconnect();
    await Promise.race([Promise.allSettled(exits), sleep(2000)]);
  }
};

/** Stops the worker loops: abort, then wake each one from its blocking wait. */
const stopWorkers = async (
  aborts: AbortController[],
  exits: Promise<WorkerExit>[],
  agents: { db: Db; blocking: Redis; id: string }[],
  admin: Redis,
): Promise<void> => {
  for (const a of aborts) a.abort();
  const pipe = admin.pipeline();
  for (const a of agents) pipe.lpush(a.db.keys.wake(a.id), '1');
  await pipe.exec();
  const stopped = await Promise.race([
    Promise.allSettled(exits).then(() => true),
    sleep(5000).then(() => false),
  ]);
  if (!stopped) {
    for (const a of agents) a.blocking.disconnect();
    await Promise.race([Promise.allSettled(exits), sleep(2000)]);
  }
};

/** Every task claimed exactly once and completed once, per the executor and per Redis. */
const verifyTt = async (ctx: Ctx, what: string, flow: Flow, db: Db, ids: string[]): Promise<void> => {
  const bad: string[] = [];
  if (flow.duplicates) bad.push(`${flow.duplicates} task(s) reached the executor more than once`);
  if (flow.claimed !== flow.n) bad.push(`the executor saw ${flow.claimed} of ${flow.n} tasks`);
  if (flow.completed !== flow.n) bad.push(`workers reported ${flow.completed} of ${flow.n} completions`);
  const counts = await countTasksByState(db);
  if (counts.completed !== flow.n) bad.push(`tasks:completed holds ${counts.completed}, expected ${flow.n}`);
  const others = Object.entries(counts).filter(([s, c]) => s !== 'completed' && c > 0);
  if (others.length)
    bad.push(`tasks left in other states: ${others.map(([s, c]) => `${s} ${c}`).join(', ')}`);
  const [backlog, delayed] = await Promise.all([
    db.redis.zcard(db.keys.backlog),
    db.redis.zcard(db.keys.delayed),
  ]);
  if (backlog || delayed) bad.push(`backlog holds ${backlog}, delayed ${delayed}`);
  const pipe = db.redis.pipeline();
  for (const id of ids) pipe.hmget(db.keys.task(id), 'state', 'attempts');
  const replies = (await pipe.exec()) ?? [];
  let wrong = 0;
  let example = '';
  replies.forEach(([err, v], k) => {
    const [state, attempts] = (v ?? []) as (string | null)[];
    if (err || state !== 'completed' || attempts !== '1') {
      wrong++;
      example ||= `${ids[k]}: state ${state}, attempts ${attempts}${err ? ` (${err.message})` : ''}`;
    }
  });
  if (wrong) bad.push(`${wrong} task record(s) not completed in exactly one attempt, e.g. ${example}`);
  for (const b of bad) {
    ctx.problems.push(`${what}: ${b}`);
    ctx.progress(`MISMATCH ${what}: ${b}`);
  }
};

const bullRun = async (ctx: Ctx, row: Row, p: Params): Promise<Measured> => {
  const { admin } = ctx.redis;
  await admin.flushall();
  const name = `bench-${process.pid}-${randomUUID().slice(0, 8)}`;
  const connection = { host: '127.0.0.1', port: ctx.redis.port };
  const what = `BullMQ, ${rowLabel(row)}`;
  const flow = new Flow(row.tasks, depthOf(row, p));
  const processor =
    row.cli === 'sim'
      ? async (job: Job<{ i: number }>) => {
          flow.claim(job.data.i);
        }
      : async (job: Job<{ i: number }>) => {
          flow.claim(job.data.i);
          const o = await runCli({
            command: 'true',
            prompt: '',
            cwd: ctx.dir,
            env: {},
            logFile: join(ctx.dir, 'logs', `bullmq_${job.id}.log`),
            timeoutMs: 0,
          });
          const why = failureReason(o, 0);
          if (why) throw new Error(why);
        };
  const queue = new Queue<{ i: number }>(name, { connection, defaultJobOptions: { removeOnComplete: true } });
  const worker = new Worker<{ i: number }>(name, processor, {
    connection: { ...connection, maxRetriesPerRequest: null },
    concurrency: row.agents,
  });
  queue.on('error', (e) => flow.fail(new Error(`${what}: queue error: ${e.message}`)));
  worker.on('error', (e) => flow.fail(new Error(`${what}: worker error: ${e.message}`)));
  worker.on('failed', (job, e) => flow.fail(new Error(`${what}: job ${job?.id} failed: ${e.message}`)));
  worker.on('completed', () => flow.complete());
  try {
    await Promise.all([queue.waitUntilReady(), worker.waitUntilReady()]);
    await waitBlocked(admin, 'bzpopmin', 1, 10_000);
    await sleep(SETTLE_MS);

    const before = await snapshot(admin);
    void flow.produce((i) => {
      flow.stamp(i);
      return queue.add('noop', { i });
    });
    await flow.finish(p.deadlineMs, what);
    const end = flow.last;
    const after = await snapshot(admin);
    const figures = sideFigures(flow, before, after, end);

    const bad: string[] = [];
    if (flow.duplicates) bad.push(`${flow.duplicates} job(s) reached the processor more than once`);
    if (flow.claimed !== flow.n) bad.push(`the processor saw ${flow.claimed} of ${flow.n} jobs`);
    const counts = await queue.getJobCounts(
      'waiting',
      'active',
      'delayed',
      'failed',
      'completed',
      'prioritized',
    );
    const left = Object.entries(counts).filter(([, c]) => c > 0);
    if (left.length) bad.push(`jobs left: ${left.map(([s, c]) => `${s} ${c}`).join(', ')}`);
    for (const b of bad) {
      ctx.problems.push(`${what}: ${b}`);
      ctx.progress(`MISMATCH ${what}: ${b}`);
    }
    const { delta, ...run } = figures;
    return { run, commands: perTask(delta, flow.n) };
  } finally {
    await Promise.race([Promise.allSettled([worker.close(), queue.close()]), sleep(5000)]);
  }
};

const bullmqVersion = async (): Promise<string> => {
  try {
    const { createRequire } = await import('node:module');
    return (createRequire(import.meta.url)('bullmq/package.json') as { version: string }).version;
  } catch {
    return '?';
  }
};

export const throughput: Benchmark = {
  name: 'throughput',
  summary:
    'tasks/s end to end (enqueue, claim, no-op sim, complete) with 1, 10, 100 agents, against BullMQ at concurrency 1, 10, 100',
  async run(opts: BenchOptions): Promise<BenchResult> {
    const p = opts.quick ? QUICK : FULL;
    return withBenchSession('throughput', opts, async (s) => {
      const { redis, dir } = s;
      const ctx: Ctx = {
        redis,
        endpoint: {
          kind: 'external',
          url: `redis://127.0.0.1:${redis.port}`,
          display: `redis://127.0.0.1:${redis.port}`,
        },
        dir,
        problems: [],
        progress: opts.progress,
      };
      const bullmq = await bullmqVersion();
      opts.progress(
        `throughput: redis-server ${redis.version} pid ${redis.pid} on 127.0.0.1:${redis.port}; BullMQ ${bullmq}`,
      );

      if (p.warmup) {
        opts.progress(`throughput: warm-up (discarded), ${rowLabel(p.warmup)}, ${p.warmup.tasks} tasks`);
        // Measured runs open fresh connections; the warm-up readies the code paths and the allocator.
        await ttRun(ctx, p.warmup, p);
        await bullRun(ctx, p.warmup, p);
      }

      const runs = p.rows.map(() => ({ ours: [] as SideRun[], bullmq: [] as SideRun[] }));
      /** What Redis executed per task in the last repetition of each row, for the report. */
      const commands = p.rows.map(() => ({
        ours: [] as [string, CommandStat][],
        bullmq: [] as [string, CommandStat][],
      }));
      for (let rep = 1; rep <= p.repetitions; rep++) {
        for (const [k, row] of p.rows.entries()) {
          opts.progress(
            `throughput: repetition ${rep}/${p.repetitions}, ${rowLabel(row)}, ${row.tasks} tasks`,
          );
          // Alternate which side goes first, so neither always runs on a warmer (or more tired) machine.
          const sides = rep % 2 ? (['ours', 'bullmq'] as const) : (['bullmq', 'ours'] as const);
          for (const side of sides) {
            const m = side === 'ours' ? await ttRun(ctx, row, p) : await bullRun(ctx, row, p);
            runs[k]![side].push(m.run);
            commands[k]![side] = m.commands;
          }
          const o = runs[k]!.ours.at(-1)!;
          const b = runs[k]!.bullmq.at(-1)!;
          opts.progress(
            `  tt ${int(o.perSec)} tasks/s (claim p50 ${fixed(o.p50Ms)} / p99 ${fixed(o.p99Ms)} ms); BullMQ ${int(b.perSec)} jobs/s (p50 ${fixed(b.p50Ms)} / p99 ${fixed(b.p99Ms)} ms); ratio ${times(ratio(o.perSec, b.perSec))}`,
          );
        }
      }

      const rows = p.rows.map((row, k) => {
        const ours = medianOf(runs[k]!.ours) as Medianed<SideRun>;
        const peer = medianOf(runs[k]!.bullmq) as Medianed<SideRun>;
        return {
          agents: row.agents,
          cli: row.cli,
          tasks: row.tasks,
          /** Producer bound: tasks enqueued but not yet claimed, at most. */
          depth: depthOf(row, p),
          tasksPerSec: round(ours.perSec.median),
          bullmqJobsPerSec: round(peer.perSec.median),
          /** Ours over BullMQ's, medians of the repetitions. */
          ratio: round(ratio(ours.perSec.median, peer.perSec.median)),
          /** The same ratio within each repetition (both sides back to back): shows the noise. */
          ratioPerRun: runs[k]!.ours.map((o, i) => round(ratio(o.perSec, runs[k]!.bullmq[i]!.perSec))),
          claimP50Ms: round(ours.p50Ms.median),
          claimP99Ms: round(ours.p99Ms.median),
          bullmqClaimP50Ms: round(peer.p50Ms.median),
          bullmqClaimP99Ms: round(peer.p99Ms.median),
          ours: roundAll(ours),
          bullmq: roundAll(peer),
          /** Redis commands per task in the last repetition (calls, µs), those inside scripts included, busiest first. */
          redisCommands: {
            ours: Object.fromEntries(
              commands[k]!.ours.slice(0, 12).map(([n, d]) => [
                n,
                { calls: round(d.calls), usec: round(d.usec) },
              ]),
            ),
            bullmq: Object.fromEntries(
              commands[k]!.bullmq.slice(0, 12).map(([n, d]) => [
                n,
                { calls: round(d.calls), usec: round(d.usec) },
              ]),
            ),
          },
        };
      });
      const at = (agents: number) => rows.find((r) => r.agents === agents && r.cli === 'sim');
      const r10 = at(10);
      const r100 = at(100);
      const targets = {
        ratioAt10: { want: '>= 1.0', got: r10?.ratio ?? null, met: (r10?.ratio ?? 0) >= 1 },
        ratioAt100: { want: '>= 1.0', got: r100?.ratio ?? null, met: (r100?.ratio ?? 0) >= 1 },
        claimP99At100Ms: {
          want: '<= 10',
          got: r100?.claimP99Ms ?? null,
          met: (r100?.claimP99Ms ?? Infinity) <= 10,
        },
      };

      const config = benchWorkerConfig();
      const setup = {
        ...machineFacts(redis.version),
        bullmq,
        transport: 'tcp 127.0.0.1 (both sides)',
        ...s.conditions(),
        processes:
          'one Node process hosts the producer and every worker loop (tt) or the Worker (BullMQ); redis-server is separate',
        persistence: 'off (--save "" --appendonly no)',
        repetitions: p.repetitions,
        warmup: p.warmup ?? null,
        depthPerAgent: p.depthPerAgent,
        statistic: 'median of repetitions; latency percentiles are nearest-rank within a run',
        ours: {
          connections:
            'the hosted worker loops share one command connection; each has its own blocking connection; the producer has its own',
          worker: {
            heartbeatMs: config.heartbeatMs,
            reapIntervalMs: config.reapIntervalMs,
            blockMs: config.blockMs,
            tasksPerRound: config.policy.maxTasks,
            autoClaim: config.policy.autoClaim,
          },
          enqueue: 'createTask(backlog: true), one task per call',
        },
        peer: {
          connections: 'Queue: one; Worker: one command and one blocking connection',
          enqueue: "Queue.add('noop', {i}, removeOnComplete)",
          processor: 'async no-op (the --cli true row: runCli true)',
        },
        latencyClock:
          'performance.now() just before createTask / Queue.add, and when the executor / processor receives the task (same process)',
        throughputClock:
          'tasks / (first enqueue .. last completion: the worker logged the recorded outcome / BullMQ "completed" event)',
      };
      const json = {
        ...s.header(),
        setup,
        rows,
        targets,
        problems: ctx.problems,
      };

      const pair = (a: number, b: number, d = 2) => `${fixed(a, d)} / ${fixed(b, d)}`;
      const lines = [
        `throughput: tt vs BullMQ ${bullmq}, redis ${setup.redis} over tcp 127.0.0.1, node ${setup.node}, ${setup.cpus} x ${setup.cpuModel}`,
        s.placementLine(
          p.warmup ? `median of ${p.repetitions} runs after a warm-up` : `${p.repetitions} run, no warm-up`,
        ),
        `producer keeps at most max(2, ${p.depthPerAgent} per agent) tasks enqueued but not yet claimed (adds in flight included); claim = just before the enqueue call to executor/processor start`,
        ...s.busyWarning('low'),
        ...(ctx.problems.length
          ? [
              '',
              `ERROR: ${ctx.problems.length} correctness problem(s):`,
              ...ctx.problems.map((x) => `  ${x}`),
            ]
          : []),
        '',
        ...table(
          [
            '',
            'tasks',
            'tt tasks/s',
            'BullMQ jobs/s',
            'ratio',
            'per run',
            'tt claim p50/p99 ms',
            'BullMQ p50/p99 ms',
          ],
          rows.map((r) => [
            rowLabel(r),
            int(r.tasks),
            int(r.tasksPerSec),
            int(r.bullmqJobsPerSec),
            times(r.ratio),
            r.ratioPerRun.map((x) => x.toFixed(2)).join(' '),
            pair(r.claimP50Ms, r.claimP99Ms),
            pair(r.bullmqClaimP50Ms, r.bullmqClaimP99Ms),
          ]),
        ),
        '',
        'where the time goes (medians; cpu as % of one CPU over the run; Redis commands include those run inside scripts)',
        ...table(
          [
            '',
            'cpu node tt/BullMQ',
            'cpu redis tt/BullMQ',
            'redis µs/task',
            'redis cmds/task',
            'scripts/task',
            'claim max ms',
          ],
          rows.map((r) => [
            rowLabel(r),
            `${int(r.ours.nodeCpuPct.median)} / ${int(r.bullmq.nodeCpuPct.median)}`,
            `${int(r.ours.redisCpuPct.median)} / ${int(r.bullmq.redisCpuPct.median)}`,
            pair(r.ours.redisUsPerTask.median, r.bullmq.redisUsPerTask.median, 0),
            pair(r.ours.redisCmdsPerTask.median, r.bullmq.redisCmdsPerTask.median, 1),
            pair(r.ours.scriptCallsPerTask.median, r.bullmq.scriptCallsPerTask.median, 1),
            pair(r.ours.maxMs.median, r.bullmq.maxMs.median, 1),
          ]),
        ),
        '',
        `targets: ratio >= 1.0 at 10 agents: ${targets.ratioAt10.met ? 'met' : 'NOT met'} (${times(targets.ratioAt10.got ?? Number.NaN)}); ` +
          `at 100 agents: ${targets.ratioAt100.met ? 'met' : 'NOT met'} (${times(targets.ratioAt100.got ?? Number.NaN)}); ` +
          `claim p99 <= 10 ms at 100 agents: ${targets.claimP99At100Ms.met ? 'met' : 'NOT met'} (${fixed(targets.claimP99At100Ms.got ?? Number.NaN)} ms)`,
        'claim latency under saturation is mostly queue wait: about depth / throughput (Little), e.g. 100 waiting at 10,000 tasks/s is 10 ms.',
        `ran ${s.elapsedSec()} s; one Node process hosts the producer and all worker loops; a task counts once its outcome is recorded in Redis.`,
      ];
      if (ctx.problems.length) {
        for (const l of lines) opts.progress(l);
        throw new Error(
          `throughput: ${ctx.problems.length} correctness problem(s), first: ${ctx.problems[0]}`,
        );
      }
      return { json, lines };
    });
  },
};
