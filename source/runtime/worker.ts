import { randomBytes } from 'node:crypto';
import { skillsOf } from '../model/agent.js';
import { hhmmss } from '../model/format.js';
import { isActionable } from '../model/message.js';
import { getAgent, moveAgent } from '../store/agents.js';
import {
  beginRound,
  bootWorker,
  clearHeartbeat,
  endRound,
  reap,
  type Round,
  type RoundStart,
} from '../store/worker.js';
import { startHeartbeat } from './heartbeat.js';
import { idle, unblockOnAbort, waitWhilePaused } from './idle.js';
import { workRound } from './round.js';
import {
  policyOf,
  reachedMaxRounds,
  tokenBase,
  type WorkerExit,
  type WorkerOptions,
  type WorkerRun,
} from './worker-run.js';

export type { WorkerConfig, WorkerExit, WorkerOptions } from './worker-run.js';

/**
 * The agent worker loop, a library function: a worker process runs one, the benchmark many.
 * Each round claims messages and tasks in one script, hands them to the executor, and records
 * the outcome in one script. An idle worker blocks on its wake list and the backlog's, so new
 * work wakes it at once. A heartbeat keeps the agent alive in Redis while the executor runs.
 * Redis errors never end the loop: it backs off and tries again.
 */
export const runWorker = async (o: WorkerOptions): Promise<WorkerExit> => {
  const w = await boot(o);
  if (typeof w === 'string') return w;
  const stopUnblocking = unblockOnAbort(o.blocking, w.signal);
  const stopHeartbeat = startHeartbeat(o.db, o.agentId, o.config, w.say);
  let exit: WorkerExit = 'signal';
  try {
    exit = await roundLoop(w);
    await handBack(w);
  } finally {
    stopUnblocking();
    stopHeartbeat();
    await shutdown(w, exit);
  }
  return exit;
};

/** Takes the agent over in Redis (its predecessor's leftovers are handed back), or says why not. */
const boot = async (o: WorkerOptions): Promise<WorkerRun | WorkerExit> => {
  const { db, config, agentId } = o;
  const nonce = randomBytes(3).toString('hex');
  const agent = await getAgent(db, agentId);
  if (!agent) return 'gone';
  const say = (line: string) => o.log?.(`${hhmmss(db.clock.now())} ${agent.name}: ${line}`);
  const pid = o.pid ?? process.pid;
  const booted = await bootWorker(db, agentId, pid, config.heartbeatTtlMs, config.policy.delaysMs);
  if (booted.status === 'gone') return 'gone';
  if (booted.status === 'stop') {
    say(`not starting: the agent is ${booted.state}`);
    return 'stopped';
  }
  say(`worker up (pid ${pid}, was ${booted.previous})`);
  const signal = o.signal ?? new AbortController().signal;
  return {
    o,
    db,
    config,
    agentId,
    name: agent.name,
    pid,
    nonce,
    signal,
    say,
    rounds: 0,
    lastWork: db.clock.now(),
    nextReap: 0,
    failures: 0,
    known: agent,
    skills: skillsOf(agent),
    pending: undefined,
  };
};

/** Turns until one ends the loop or the signal comes. A failed turn backs off and the loop goes on. */
const roundLoop = async (w: WorkerRun): Promise<WorkerExit> => {
  while (!w.signal.aborted) {
    try {
      const exit = await turn(w);
      if (exit) return exit;
    } catch (e) {
      if (w.signal.aborted) break;
      await backOff(w, e);
    }
  }
  return 'signal';
};

/**
 * One turn: begin a round (or take the one the last round began), then work it if it holds
 * work, else idle. Returns the exit when the loop must end.
 */
const turn = async (w: WorkerRun): Promise<WorkerExit | undefined> => {
  if (reachedMaxRounds(w)) return 'max-rounds';
  const start = await beginTurn(w);
  w.failures = 0;
  if (start.status !== 'ok' && start.status !== 'idle') return mayNotWork(w, start);
  const round = start.status === 'ok' ? takeRound(w, start) : undefined;
  if (!round || !hasWork(round)) return idle(w, round);
  await workRound(w, round);
  return undefined;
};

/** The round of this turn: the chained one if the last round began it, else reap if due and begin one. */
const beginTurn = async (w: WorkerRun): Promise<RoundStart> => {
  const chained = w.pending;
  if (chained) {
    w.pending = undefined;
    return chained;
  }
  await reapIfDue(w);
  return beginRound(w.db, w.agentId, tokenBase(w), policyOf(w));
};

/** Once per reapIntervalMs, some worker of the town reaps dead agents and promotes due retries. */
const reapIfDue = async (w: WorkerRun): Promise<void> => {
  const now = w.db.clock.now();
  if (now < w.nextReap) return;
  w.nextReap = now + w.config.reapIntervalMs;
  const reason = `no heartbeat (reaped by ${w.name})`;
  const r = await reap(w.db, w.config.policy.delaysMs, reason, w.config.reapIntervalMs);
  if (!r || !(r.reaped || r.moved || r.promoted)) return;
  const moved = `moved ${r.moved} task(s), promoted ${r.promoted} retry(ies)`;
  w.say(`reaped ${r.reaped} dead agent(s), ${moved}`);
};

/** The agent may not work now: paused, it waits for a resume; reaped, it revives; else the loop ends. */
const mayNotWork = async (
  w: WorkerRun,
  start: Exclude<RoundStart, Round>,
): Promise<WorkerExit | undefined> => {
  if (start.status === 'paused') {
    await waitWhilePaused(w);
    return undefined;
  }
  if (start.status === 'reaped') return revive(w);
  if (start.status === 'stop') w.say(`stopping: the agent is ${start.state}`);
  return start.status === 'gone' ? 'gone' : 'stopped';
};

/** The agent was reaped while this worker lived (a Redis outage or a long pause?): take it back. */
const revive = async (w: WorkerRun): Promise<WorkerExit | undefined> => {
  const { heartbeatTtlMs, policy } = w.config;
  const back = await bootWorker(w.db, w.agentId, w.pid, heartbeatTtlMs, policy.delaysMs, true);
  if (back.status !== 'ok') return back.status === 'gone' ? 'gone' : 'stopped';
  const why = 'a Redis outage or a long pause?';
  w.say(`the agent was reaped while this worker lived (${why}); back to work`);
  return undefined;
};

/** Keeps what a begun round says about the agent (its record, so its skills) and logs what it skipped. */
const takeRound = (w: WorkerRun, round: Round): Round => {
  if (round.agent) {
    w.known = round.agent;
    w.skills = skillsOf(round.agent);
  }
  for (const m of round.malformed) w.say(`skipped a malformed message or task: ${m.key}: ${m.problem}`);
  return round;
};

/** A round holds work when it has a task or a message that asks for something. */
const hasWork = (round: Round): boolean =>
  round.tasks.length > 0 || round.messages.some((e) => isActionable(e.message));

/** A failed turn (Redis down, a script refused): wait 100 ms, doubling up to a second, then go on. */
const backOff = async (w: WorkerRun, e: unknown): Promise<void> => {
  w.failures++;
  const wait = Math.min(50 * 2 ** Math.min(w.failures, 5), 1000);
  w.say(`error (${(e as Error).message}); retrying in ${wait}ms`);
  await new Promise((r) => setTimeout(r, wait));
};

/** A round the last one began for this worker and nobody worked: its tasks fail over to a retry. */
const handBack = async (w: WorkerRun): Promise<void> => {
  const tasks = w.pending?.tasks ?? [];
  if (!tasks.length) return;
  const results = tasks.map(({ task, token }) => ({
    id: task.id,
    token,
    outcome: 'failed' as const,
    text: 'the worker stopped before working on it',
  }));
  const end = { results, ackIds: [], delaysMs: w.config.policy.delaysMs, activity: '' };
  await endRound(w.db, w.agentId, end).catch((e) =>
    w.say(`could not hand back a begun round: ${(e as Error).message}`),
  );
};

/** The agent is stopped, with the reason, and its heartbeat dropped: best effort, Redis may be gone. */
const shutdown = async (w: WorkerRun, exit: WorkerExit): Promise<void> => {
  const reason = exitReason(exit, w.rounds);
  await moveAgent(w.db, w.agentId, { to: 'stopped', event: 'agent.state', text: reason }).catch(
    () => undefined,
  );
  await clearHeartbeat(w.db, w.agentId).catch(() => undefined);
  w.say(`worker down: ${reason}`);
};

const exitReason = (exit: WorkerExit, rounds: number): string => {
  switch (exit) {
    case 'signal':
      return 'worker stopped by signal';
    case 'max-rounds':
      return `finished ${rounds} round(s)`;
    case 'idle-timeout':
      return 'idle timeout';
    default:
      return 'stopped';
  }
};
