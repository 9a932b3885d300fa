import { shortId } from '../model/ids.js';
import { join } from 'node:path';
import type { Agent } from '../model/agent.js';
import { summarize, type MessageBody } from '../model/message.js';
import { resolveAgentRef } from '../model/resolve.js';
import { listAgents } from '../store/agents.js';
import { sendMessage } from '../store/messages.js';
import {
  endRound,
  type AttemptResult,
  type ClaimedTask,
  type FinishOutcome,
  type Round,
  type RoundEnd,
  type RoundStreak,
} from '../store/worker.js';
import { quarantineWhy, streakStep } from '../model/quarantine.js';
import type { RoundResult, RoundWork } from './executor.js';
import { policyOf, reachedMaxRounds, tokenBase, type WorkerRun } from './worker-run.js';

/**
 * Works one begun round: the executor does the work, then one script records the outcome (and,
 * unless the worker is stopping, begins the next round, which the loop takes as `pending`).
 */
export const workRound = async (w: WorkerRun, round: Round): Promise<void> => {
  const abort = new AbortController();
  const work = roundWork(w, round, abort.signal);
  sayRound(w, work);
  const began = w.db.clock.now();
  const outcome = await execute(w, work, abort);
  if (w.o.failpoint === 'before-finish') await hangBeforeFinish(w);
  const results = attemptResults(w, round, outcome);
  const streak = roundStreak(w, results, w.db.clock.now() - began);
  const end = await recordRound(w, round, results, `Round ${work.round}: ${outcome.summary}`, streak);
  w.o.onRoundEnd?.(results, end.outcomes);
  sayResults(w, results, end.outcomes);
  if (end.quarantined) w.say(`${end.quarantined}; waiting for tt resume`);
  w.pending = end.next;
  w.lastWork = w.db.clock.now();
};

/** Counts the round and builds what the executor gets: agent, messages, tasks, log file, env. */
const roundWork = (w: WorkerRun, round: Round, signal: AbortSignal): RoundWork => {
  w.rounds++;
  const agent = w.known;
  const roundNo = agent.roundsCompleted + 1;
  // A chained round's record is not re-read: count the round here.
  w.known = { ...agent, roundsCompleted: roundNo };
  const base: Omit<RoundWork, 'prompt'> = {
    round: roundNo,
    agent,
    messages: round.messages,
    tasks: round.tasks,
    logFile: join(w.o.logsDir, `${agent.name}_round_${roundNo}.log`),
    env: roundEnv(w, agent, onlyTask(round.tasks)),
    signal,
    send: (to, body) => sendAs(w, to, body),
    log: w.say,
  };
  return {
    ...base,
    prompt: async (setting) => (w.o.buildPrompt ? w.o.buildPrompt(base, setting) : ''),
  };
};

const onlyTask = (tasks: ClaimedTask[]): ClaimedTask | undefined =>
  tasks.length === 1 ? tasks[0]! : undefined;

/** The CLI's environment: the worker's, the agent, and the task when the round has just one. */
const roundEnv = (w: WorkerRun, agent: Agent, one: ClaimedTask | undefined): Record<string, string> => ({
  ...w.o.env,
  TT_AGENT_ID: w.agentId,
  TT_AGENT_NAME: agent.name,
  ...(one ? { TT_TASK_ID: one.task.id, TT_TASK_TOKEN: one.token } : {}),
});

/** Sends a message as this agent; `to` is a reference (a name, an id or "supervisor"). */
const sendAs = async (w: WorkerRun, to: string, body: MessageBody): Promise<void> => {
  const { items } = await listAgents(w.db);
  const target = resolveAgentRef(to, items);
  await sendMessage(w.db, { from: w.agentId, to: target, body, priority: 'normal' }, summarize(body, 100));
};

const sayRound = (w: WorkerRun, work: RoundWork): void => {
  if (!w.o.log) return;
  const one = onlyTask(work.tasks);
  const counts = `${work.tasks.length} task(s), ${work.messages.length} message(s)`;
  const title = one ? `: ${one.task.description.split('\n', 1)[0]!.slice(0, 60)}` : '';
  w.say(`round ${work.round}: ${counts}${title}`);
};

/**
 * Runs the executor. The worker's abort reaches the round's signal while it runs; an executor
 * that throws ends the round with no results (its tasks fail).
 */
const execute = async (w: WorkerRun, work: RoundWork, abort: AbortController): Promise<RoundResult> => {
  const onAbort = () => abort.abort();
  w.signal.addEventListener('abort', onAbort, { once: true });
  try {
    return await w.o.executor(work);
  } catch (e) {
    return { results: new Map(), summary: `executor error: ${(e as Error).message}` };
  } finally {
    w.signal.removeEventListener('abort', onAbort);
  }
};

/** The "before-finish" failpoint: the work is done and never recorded (a test kills the worker). */
const hangBeforeFinish = (w: WorkerRun): Promise<never> => {
  w.say('failpoint before-finish: the work is done; hanging before recording it');
  return new Promise(() => {});
};

/** Each task's attempt: the executor's result, else failed (the worker stopped, or no result). */
const attemptResults = (w: WorkerRun, round: Round, outcome: RoundResult): AttemptResult[] =>
  round.tasks.map(({ task, token }) => {
    const r = outcome.results.get(task.id) ?? {
      ok: false,
      text: w.signal.aborted ? 'the worker stopped during this attempt' : `no result: ${outcome.summary}`,
    };
    return { id: task.id, token, outcome: r.ok ? 'completed' : 'failed', text: r.text };
  });

/** What the round does to the agent's streak of fast failures (model/quarantine.ts). */
const roundStreak = (w: WorkerRun, results: AttemptResult[], elapsedMs: number): RoundStreak | undefined => {
  const q = w.config.quarantine;
  if (!q) return undefined;
  const outcomes = results.map((r) => r.outcome);
  const step = streakStep(outcomes, elapsedMs, q, w.signal.aborted);
  const last = results.findLast((r) => r.outcome === 'failed')?.text ?? '';
  return { step, after: q.after, why: quarantineWhy(q.fastFailMs, last) };
};

/**
 * Records the round in one script, retried until Redis takes it: finishes the attempts, acks the
 * messages and, unless the worker is stopping or at its last round, begins the next round.
 */
const recordRound = (
  w: WorkerRun,
  round: Round,
  results: AttemptResult[],
  activity: string,
  streak: RoundStreak | undefined,
): Promise<RoundEnd> => {
  const chain = !w.signal.aborted && !reachedMaxRounds(w);
  const end = {
    ...(streak ? { streak } : {}),
    results,
    ackIds: round.messages.map((e) => e.message.id),
    delaysMs: w.config.policy.delaysMs,
    activity,
  };
  const next = chain ? { tokenBase: tokenBase(w), policy: policyOf(w) } : undefined;
  return retrying(() => endRound(w.db, w.agentId, end, next), w.say);
};

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

const sayResults = (w: WorkerRun, results: AttemptResult[], outcomes: FinishOutcome[]): void => {
  if (!w.o.log) return;
  results.forEach((r, i) => {
    const why = r.outcome === 'failed' ? ` (${r.text})` : '';
    w.say(`task ${shortId(r.id)} ${r.outcome}: ${outcomes[i]}${why}`);
  });
};
