import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { skillsOf, type Agent } from '../model/agent.js';
import { TtError } from '../model/errors.js';
import { hhmmss } from '../model/format.js';
import { isActionable, summarize, type MessageBody } from '../model/message.js';
import { resolveAgentRef } from '../model/resolve.js';
import { getAgent, listAgents, moveAgent } from '../store/agents.js';
import type { Db } from '../store/db.js';
import { ackMessages, sendMessage } from '../store/messages.js';
import {
  beginRound,
  bootWorker,
  clearHeartbeat,
  endRound,
  heartbeat,
  reap,
  waitForWake,
  waitForWork,
  type AttemptResult,
  type FinishOutcome,
  type Round,
  type RoundPolicy,
  type RoundStart,
} from '../store/worker.js';
import type { Executor, RoundWork } from './executor.js';

export interface WorkerConfig {
  heartbeatMs: number;
  heartbeatTtlMs: number;
  /** Stop after this long with nothing to do; 0 = never. */
  idleTimeoutMs: number;
  /** Stop after this many rounds; 0 = no limit. */
  maxRounds: number;
  /** How often some worker in the town reaps dead agents and promotes due retries. */
  reapIntervalMs: number;
  /** Longest single block on the inbox before the loop looks around again. */
  blockMs: number;
  policy: Omit<RoundPolicy, 'skills' | 'generalist'>;
}

export interface WorkerOptions {
  db: Db;
  /** A connection of its own for blocking reads. */
  blocking: Redis;
  agentId: string;
  executor: Executor;
  config: WorkerConfig;
  /** Builds a round's prompt (the CLI executor needs it). */
  buildPrompt?: (work: Omit<RoundWork, 'prompt'>) => Promise<string>;
  logsDir: string;
  /** The environment a CLI runs with, before the per-round variables. */
  env: Record<string, string>;
  signal?: AbortSignal;
  log?: (line: string) => void;
  pid?: number;
  /** Called once a round's outcome is recorded in Redis (for hosts that count work, like the benchmark). */
  onRoundEnd?: (results: AttemptResult[], outcomes: FinishOutcome[]) => void;
  /** Test hook: "before-finish" hangs after the work and before it is recorded. */
  failpoint?: string;
}

export type WorkerExit = 'stopped' | 'max-rounds' | 'idle-timeout' | 'signal' | 'gone';

/**
 * Retries a write until Redis takes it (a round's outcome must not be lost to a dropped
 * connection); gives up after about a minute so a worker whose Redis is gone still ends.
 */
const retrying = async <T>(write: () => Promise<T>, say: (line: string) => void): Promise<T> => {
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (e) {
      if (attempt >= 60) throw e;
      say(`recording the round failed (${(e as Error).message}); retrying`);
      await new Promise((r) => setTimeout(r, Math.min(50 * 2 ** attempt, 1000)));
    }
  }
};

/**
 * The agent worker loop, a library function: a worker process runs one, the benchmark many.
 * Each round claims messages and tasks in one script, hands them to the executor, and records
 * the outcome in one script. An idle worker blocks on its wake list and the backlog's, so new
 * work wakes it at once. A heartbeat keeps the agent alive in Redis while the executor runs.
 * Redis errors never end the loop: it backs off and tries again.
 */
export const runWorker = async (o: WorkerOptions): Promise<WorkerExit> => {
  const { db, config, agentId } = o;
  const clock = db.clock;
  const signal = o.signal ?? new AbortController().signal;
  const log = o.log;
  const nonce = randomBytes(3).toString('hex');
  const first = await getAgent(db, agentId);
  if (!first) return 'gone';
  const name = first.name;
  const say = (line: string) => log?.(`${hhmmss(clock.now())} ${name}: ${line}`);

  const boot = await bootWorker(
    db,
    agentId,
    o.pid ?? process.pid,
    config.heartbeatTtlMs,
    config.policy.delaysMs,
  );
  if (boot.status === 'gone') return 'gone';
  if (boot.status === 'stop') {
    say(`not starting: the agent is ${boot.state}`);
    return 'stopped';
  }
  say(`worker up (pid ${o.pid ?? process.pid}, was ${boot.previous})`);

  // A blocked read does not see the abort: closing its connection ends it now.
  const unblock = () => o.blocking.disconnect();
  signal.addEventListener('abort', unblock, { once: true });

  let beating = false;
  const beat = setInterval(() => {
    if (beating) return;
    beating = true;
    heartbeat(db, agentId, config.heartbeatTtlMs)
      .catch((e) => say(`heartbeat failed: ${(e as Error).message}`))
      .finally(() => (beating = false));
  }, config.heartbeatMs);

  const send = async (to: string, body: MessageBody) => {
    const { items } = await listAgents(db);
    const target = resolveAgentRef(to, items);
    await sendMessage(db, { from: agentId, to: target, body, priority: 'normal' }, summarize(body, 100));
  };

  let exit: WorkerExit = 'signal';
  let rounds = 0;
  let lastWork = clock.now();
  let nextReap = 0;
  let failures = 0;
  let skills = skillsOf(first);
  let known: Agent = first;
  let pending: Round | undefined;
  const tokenBase = () => `${agentId.slice(0, 8)}-${nonce}-${rounds}`;
  try {
    while (!signal.aborted) {
      try {
        if (config.maxRounds > 0 && rounds >= config.maxRounds) {
          exit = 'max-rounds';
          break;
        }
        let start: RoundStart;
        if (pending) {
          start = pending;
          pending = undefined;
        } else {
          const now = clock.now();
          if (now >= nextReap) {
            nextReap = now + config.reapIntervalMs;
            const r = await reap(
              db,
              config.policy.delaysMs,
              `no heartbeat (reaped by ${name})`,
              config.reapIntervalMs,
            );
            if (r && (r.reaped || r.moved || r.promoted))
              say(
                `reaped ${r.reaped} dead agent(s), moved ${r.moved} task(s), promoted ${r.promoted} retry(ies)`,
              );
          }
          start = await beginRound(db, agentId, tokenBase(), { ...config.policy, ...skills });
        }
        failures = 0;
        if (start.status !== 'ok' && start.status !== 'idle') {
          if (start.status === 'paused') {
            await waitForWake(db, o.blocking, agentId, config.blockMs);
            continue;
          }
          if (start.status === 'reaped') {
            const back = await bootWorker(
              db,
              agentId,
              o.pid ?? process.pid,
              config.heartbeatTtlMs,
              config.policy.delaysMs,
              true,
            );
            if (back.status === 'ok') {
              say(
                'the agent was reaped while this worker lived (a Redis outage or a long pause?); back to work',
              );
              continue;
            }
            exit = back.status === 'gone' ? 'gone' : 'stopped';
            break;
          }
          if (start.status === 'stop') say(`stopping: the agent is ${start.state}`);
          exit = start.status === 'gone' ? 'gone' : 'stopped';
          break;
        }
        const round = start.status === 'ok' ? start : undefined;
        if (round?.agent) {
          known = round.agent;
          skills = skillsOf(known);
        }
        for (const m of round?.malformed ?? [])
          say(`skipped a malformed message or task: ${m.key}: ${m.problem}`);
        if (!round || (round.tasks.length === 0 && !round.messages.some((e) => isActionable(e.message)))) {
          if (round?.messages.length) {
            await ackMessages(
              db,
              agentId,
              round.messages.map((e) => e.message.id),
            );
            say(`auto-handled ${round.messages.length} informational message(s)`);
            continue;
          }
          const idleFor = clock.now() - lastWork;
          if (config.idleTimeoutMs > 0 && idleFor >= config.idleTimeoutMs) {
            exit = 'idle-timeout';
            await moveAgent(db, agentId, {
              to: 'draining',
              event: 'agent.state',
              text: `idle for ${Math.round(idleFor / 1000)}s`,
            }).catch(() => undefined);
            break;
          }
          const wait = Math.min(
            config.blockMs,
            Math.max(1, nextReap - clock.now()),
            config.idleTimeoutMs > 0 ? Math.max(1, config.idleTimeoutMs - idleFor) : Infinity,
          );
          await waitForWork(db, o.blocking, agentId, Math.max(wait, 10));
          continue;
        }

        rounds++;
        const agent = known;
        const roundNo = agent.roundsCompleted + 1;
        // A chained round's record is not re-read: count the round here.
        known = { ...agent, roundsCompleted: roundNo };
        const roundAbort = new AbortController();
        const onAbort = () => roundAbort.abort();
        signal.addEventListener('abort', onAbort, { once: true });
        const one = round.tasks.length === 1 ? round.tasks[0]! : undefined;
        const base: Omit<RoundWork, 'prompt'> = {
          round: roundNo,
          agent,
          messages: round.messages,
          tasks: round.tasks,
          logFile: join(o.logsDir, `${agent.name}_round_${roundNo}.log`),
          env: {
            ...o.env,
            TT_AGENT_ID: agentId,
            TT_AGENT_NAME: agent.name,
            ...(one ? { TT_TASK_ID: one.task.id, TT_TASK_TOKEN: one.token } : {}),
          },
          signal: roundAbort.signal,
          send,
        };
        const work: RoundWork = { ...base, prompt: async () => (o.buildPrompt ? o.buildPrompt(base) : '') };
        if (log)
          say(
            `round ${roundNo}: ${round.tasks.length} task(s), ${round.messages.length} message(s)${one ? `: ${one.task.description.split('\n', 1)[0]!.slice(0, 60)}` : ''}`,
          );
        let outcome;
        try {
          outcome = await o.executor(work);
        } catch (e) {
          outcome = { results: new Map(), summary: `executor error: ${(e as Error).message}` };
        } finally {
          signal.removeEventListener('abort', onAbort);
        }
        if (o.failpoint === 'before-finish') {
          say('failpoint before-finish: the work is done; hanging before recording it');
          await new Promise(() => {});
        }
        const results: AttemptResult[] = round.tasks.map(({ task, token }) => {
          const r = outcome.results.get(task.id) ?? {
            ok: false,
            text: signal.aborted ? 'the worker stopped during this attempt' : `no result: ${outcome.summary}`,
          };
          return { id: task.id, token, outcome: r.ok ? 'completed' : 'failed', text: r.text };
        });
        const chain = !signal.aborted && !(config.maxRounds > 0 && rounds >= config.maxRounds);
        const end = await retrying(
          () =>
            endRound(
              db,
              agentId,
              {
                results,
                ackIds: round.messages.map((e) => e.message.id),
                delaysMs: config.policy.delaysMs,
                activity: `Round ${roundNo}: ${outcome.summary}`,
              },
              chain ? { tokenBase: tokenBase(), policy: { ...config.policy, ...skills } } : undefined,
            ),
          say,
        );
        o.onRoundEnd?.(results, end.outcomes);
        if (log)
          results.forEach((r, i) =>
            say(
              `task ${r.id.slice(0, 8)} ${r.outcome}: ${end.outcomes[i]}${r.outcome === 'failed' ? ` (${r.text})` : ''}`,
            ),
          );
        pending = end.next;
        lastWork = clock.now();
      } catch (e) {
        if (signal.aborted) break;
        failures++;
        const wait = Math.min(50 * 2 ** Math.min(failures, 5), 1000);
        say(`error (${e instanceof TtError ? e.message : (e as Error).message}); retrying in ${wait}ms`);
        await new Promise((r) => setTimeout(r, wait));
      }
    }
    if (pending?.tasks.length) {
      const taken = pending;
      const results = taken.tasks.map(({ task, token }) => ({
        id: task.id,
        token,
        outcome: 'failed' as const,
        text: 'the worker stopped before working on it',
      }));
      await endRound(db, agentId, {
        results,
        ackIds: [],
        delaysMs: config.policy.delaysMs,
        activity: '',
      }).catch((e) => say(`could not hand back a begun round: ${(e as Error).message}`));
    }
  } finally {
    signal.removeEventListener('abort', unblock);
    clearInterval(beat);
    const reason =
      exit === 'signal'
        ? 'worker stopped by signal'
        : exit === 'max-rounds'
          ? `finished ${rounds} round(s)`
          : exit === 'idle-timeout'
            ? 'idle timeout'
            : 'stopped';
    await moveAgent(db, agentId, { to: 'stopped', event: 'agent.state', text: reason }).catch(
      () => undefined,
    );
    await clearHeartbeat(db, agentId).catch(() => undefined);
    say(`worker down: ${reason}`);
  }
  return exit;
};
