import { randomUUID } from 'node:crypto';
import { defaultCli } from '../config/load.js';
import { normaliseCli } from '../config/presets.js';
import { Agent, agentNameProblem, displayLabel, isTerminalAgent, type AgentState } from '../model/agent.js';
import { shortId, SUPERVISOR_ID } from '../model/ids.js';
import { TtError, UsageError } from '../model/errors.js';
import { nicknameFor } from '../model/nicknames.js';
import { resolveAgentRef } from '../model/resolve.js';
import { isTerminalTask, type Task } from '../model/task.js';
import {
  deleteAgent,
  getAgent,
  setAgentPid,
  listAgents,
  moveAgent,
  registerAgent,
  type AgentMove,
} from '../store/agents.js';
import { waitForEvents, lastEventId } from '../store/events.js';
import { peekInbox, reclaimEntry, type ReclaimOutcome } from '../store/messages.js';
import { deleteTask, listTasks, moveTask } from '../store/tasks.js';
import { heartbeat, reap } from '../store/worker.js';
import type { SimSettings } from '../model/sim.js';
import { cliStartProblem } from './doctor.js';
import { launchWorker, signalWorker } from './workers.js';
import { townDelays, type Town } from './context.js';
import { report } from './report.js';

/** All agents, with malformed records reported and skipped. */
export const agents = async (t: Town): Promise<Agent[]> => report(t, await listAgents(t.db));

/** Display labels by agent id, the supervisor mailbox included. */
export const agentLabels = async (t: Town): Promise<Map<string, string>> => labelsOf(await agents(t));

/** Display labels by agent id among agents already read, the supervisor mailbox included. */
export const labelsOf = (all: readonly Agent[]): Map<string, string> =>
  new Map([[SUPERVISOR_ID, 'supervisor'], ...all.map((a): [string, string] => [a.id, displayLabel(a)])]);

/** Resolves a reference to an agent record (not the supervisor) among agents already read. */
export const pickAgent = (ref: string, all: readonly Agent[]): Agent => {
  const id = resolveAgentRef(ref, all, { allowSupervisor: false });
  return all.find((a) => a.id === id)!;
};

/** Resolves a reference to an agent record (not the supervisor). */
export const findAgent = async (t: Town, ref: string): Promise<Agent> => pickAgent(ref, await agents(t));

/** Resolves a reference that may also be the supervisor mailbox; returns an id. */
export const findRecipient = async (t: Town, ref: string): Promise<string> =>
  resolveAgentRef(ref, await agents(t));

export interface SpawnOptions {
  name: string;
  cli?: string;
  role?: string;
  nickname?: string;
  parent?: string;
  caps?: string[];
  maxRounds?: number;
  /** Settings of the simulated CLI (for --cli sim). */
  sim?: SimSettings;
  /** Work in the town's directory, not a worktree of its own, even in a git town (--no-worktree). */
  noWorktree?: boolean;
  /** Refuse (storing nothing) when the CLI's program is not on PATH: its worker is about to start. */
  checkCli?: boolean;
}

/** A first heartbeat long enough for a worker process to come up. */
const bootGraceMs = (t: Town) => Math.max(t.config.agent.heartbeatTtlSecs * 1000, 15_000);

/** Registers a new agent (state starting). */
export const registerNewAgent = async (t: Town, o: SpawnOptions): Promise<Agent> => {
  const problem = agentNameProblem(o.name);
  if (problem) throw new UsageError(problem);
  const cli = normaliseCli(o.cli ?? defaultCli(t.config, t.global), t.presets);
  const missing = o.checkCli ? cliStartProblem(t, cli) : undefined;
  if (missing) throw new UsageError(missing);
  const parent = o.parent ? (await findAgent(t, o.parent)).id : undefined;
  const id = randomUUID();
  const now = t.clock.now();
  const agent: Agent = {
    id,
    name: o.name,
    nickname: o.nickname?.trim() || nicknameFor(id),
    ...(o.role ? { role: o.role } : {}),
    cli,
    state: 'starting',
    caps: o.caps ?? [],
    ...(parent ? { parent } : {}),
    createdAt: now,
    updatedAt: now,
    lastActiveAt: now,
    lastHeartbeat: now,
    tasksCompleted: 0,
    roundsCompleted: 0,
    ...(o.maxRounds !== undefined ? { maxRounds: o.maxRounds } : {}),
    ...(o.sim ? { sim: JSON.stringify(o.sim) } : {}),
    ...(o.noWorktree ? { noWorktree: true } : {}),
  };
  const r = await registerAgent(t.db, agent, bootGraceMs(t));
  if (!r.ok) {
    const hint = isTerminalAgent(r.existingState as AgentState)
      ? `; tt restart ${o.name} brings it back, tt prune removes it`
      : '';
    throw new UsageError(`an agent named "${o.name}" already exists (${r.existingState})${hint}`);
  }
  return agent;
};

const act = async (t: Town, ref: string, move: AgentMove & { from?: AgentState[] }) => {
  const a = await findAgent(t, ref);
  if (move.from && !move.from.includes(a.state)) {
    throw new TtError(`agent ${a.name} is ${a.state}, not ${move.from.join(' or ')}`);
  }
  const prev = await moveAgent(t.db, a.id, move);
  return { agent: a, prev };
};

/** Stops an agent now: stop flag, state stopped, and its worker process told to stop. */
export const killAgent = async (t: Town, ref: string) => {
  const r = await act(t, ref, {
    to: 'stopped',
    stopFlag: 'set',
    event: 'agent.killed',
    text: 'stop requested',
  });
  signalWorker(r.agent);
  return r;
};

/** Pauses an agent: its worker takes no new work until resumed. */
export const interruptAgent = (t: Town, ref: string) =>
  act(t, ref, { to: 'paused', event: 'agent.interrupted', text: 'paused by operator' });

/** Resumes a paused or quarantined agent (a quarantined one starts a fresh streak). */
export const resumeAgent = (t: Town, ref: string) =>
  act(t, ref, {
    to: 'idle',
    from: ['paused', 'quarantined'],
    stopFlag: 'clear',
    event: 'agent.resumed',
    set: { lastActiveAt: t.clock.now(), fastFails: 0 },
  });

/** Lets an agent finish its current round, then stop. */
export const closeAgent = (t: Town, ref: string) =>
  act(t, ref, { to: 'draining', stopFlag: 'set', event: 'agent.closing', text: 'draining' });

/** Brings a stopped agent back as starting, with a fresh round count, and starts its worker. */
export const restartAgent = async (
  t: Town,
  ref: string,
  opts: { start?: boolean; maxRounds?: number } = {},
) => {
  const r = await act(t, ref, {
    to: 'starting',
    stopFlag: 'clear',
    event: 'agent.restarted',
    set: {
      roundsCompleted: 0,
      lastActiveAt: t.clock.now(),
      ...(opts.maxRounds !== undefined ? { maxRounds: opts.maxRounds } : {}),
    },
    del: ['currentTask', 'pid'],
  });
  if (opts.start !== false) {
    await heartbeat(t.db, r.agent.id, bootGraceMs(t));
    await startWorker(t, r.agent.id);
  }
  return r;
};

/** Starts the worker process of a registered agent and records its pid. */
export const startWorker = async (t: Town, agentId: string): Promise<number> => {
  const agent = await getAgent(t.db, agentId);
  if (!agent) throw new TtError(`agent ${agentId} no longer exists`);
  const pid = launchWorker(t, agent);
  await setAgentPid(t.db, agentId, pid);
  return pid;
};

/** Waits until an agent reaches a terminal state, reading its event stream (no polling). */
export const waitAgent = async (
  t: Town,
  ref: string,
  timeoutMs: number,
): Promise<{ agent: Agent; done: boolean }> => {
  const a = await findAgent(t, ref);
  const deadline = t.clock.now() + timeoutMs;
  const blocking = await t.connect('blocking');
  try {
    let after = await lastEventId(t.db, { agent: a.id });
    for (;;) {
      const cur = await getAgent(t.db, a.id);
      if (!cur) throw new TtError(`agent ${a.name} was removed while waiting`);
      if (isTerminalAgent(cur.state)) return { agent: cur, done: true };
      const left = deadline - t.clock.now();
      if (left <= 0) return { agent: cur, done: false };
      const batch = await waitForEvents(blocking, t.db, { agent: a.id }, after, Math.min(left, 5000));
      after = batch.items.at(-1)?.id ?? after;
    }
  } finally {
    blocking.disconnect();
  }
};

/** Removes stopped and errored agents (every agent with `all`). */
export const pruneAgents = async (t: Town, all: boolean): Promise<Agent[]> => {
  const removed: Agent[] = [];
  for (const a of await agents(t)) {
    const r = await deleteAgent(t.db, a.id, all ? 'any' : ['stopped', 'error']);
    if (r.status === 'ok') removed.push(a);
  }
  return removed;
};

/**
 * Runs the reaper now: agents whose heartbeat key has expired are marked stopped, their started
 * attempts fail over to the retry path and their queued assignments go back to the backlog;
 * due retries are promoted. Paused agents with a live worker keep heartbeating and are left alone.
 */
export const recoverAgents = async (
  t: Town,
): Promise<{ agents: Agent[]; moved: number; promoted: number }> => {
  const before = await agents(t);
  const r = await reap(t.db, townDelays(t), 'no heartbeat (tt recover)');
  const after = new Map((await agents(t)).map((a) => [a.id, a.state]));
  const reaped = before.filter((a) => !isTerminalAgent(a.state) && after.get(a.id) === 'stopped');
  return { agents: reaped, moved: r?.moved ?? 0, promoted: r?.promoted ?? 0 };
};

export interface ReclaimOptions {
  from?: string;
  to?: string;
  toBacklog?: boolean;
}

export interface ReclaimRow {
  agent: string;
  message: string;
  outcome: ReclaimOutcome | 'listed';
}

/** Takes the queued work of stopped agents: to another agent, to the backlog, or just lists it. */
export const reclaimInboxes = async (t: Town, o: ReclaimOptions): Promise<ReclaimRow[]> => {
  const all = await agents(t);
  const to = o.to ? pickAgent(o.to, all).id : undefined;
  const sources = o.from ? [pickAgent(o.from, all)] : all.filter((a) => isTerminalAgent(a.state));
  const rows: ReclaimRow[] = [];
  for (const a of sources) {
    if (!isTerminalAgent(a.state))
      throw new TtError(`agent ${a.name} is ${a.state}; only stopped agents' inboxes are reclaimed`);
    const items = report(t, await peekInbox(t.db, a.id, 10_000));
    for (const { message, member } of items) {
      const what =
        message.type === 'task_assign'
          ? `task_assign ${shortId(message.taskId)}`
          : message.type === 'task'
            ? `task: ${message.description.slice(0, 50)}`
            : message.type;
      if (!to && !o.toBacklog) {
        rows.push({ agent: a.name, message: what, outcome: 'listed' });
        continue;
      }
      const now = t.clock.now();
      const newTask =
        message.type === 'task'
          ? {
              id: randomUUID(),
              fields: {
                id: '',
                description: message.description,
                state: 'pending',
                priority: 'normal',
                tags: '[]',
                createdAt: String(now),
                updatedAt: String(now),
                attempts: '0',
                maxAttempts: String(t.config.tasks.maxAttempts),
              },
            }
          : undefined;
      if (newTask) newTask.fields.id = newTask.id;
      rows.push({
        agent: a.name,
        message: what,
        outcome: await reclaimEntry(t.db, a.id, member, to, newTask),
      });
    }
  }
  return rows;
};

export type OrphanAction = 'list' | 'backlog' | 'cancel' | 'delete';

export interface OrphanRow {
  task: Task;
  reason: 'agent_missing' | 'agent_terminal';
  done: boolean;
}

/** Live tasks whose assignee is gone or stopped: list them, requeue, cancel or delete them. */
export const reclaimOrphanTasks = async (t: Town, action: OrphanAction): Promise<OrphanRow[]> => {
  const byId = new Map((await agents(t)).map((a) => [a.id, a]));
  const live = report(t, await listTasks(t.db, ['assigned', 'running'])).filter(
    (x) => !isTerminalTask(x.state) && x.assignedTo,
  );
  const rows: OrphanRow[] = [];
  for (const task of live) {
    const agent = byId.get(task.assignedTo!);
    if (agent && !isTerminalAgent(agent.state)) continue;
    const reason = agent ? 'agent_terminal' : 'agent_missing';
    let done = false;
    if (action === 'backlog') {
      const r = await moveTask(t.db, task.id, {
        to: 'pending',
        del: ['assignedTo', 'startedAt'],
        backlog: 'add',
        event: 'task.requeued',
        text: `orphaned (${reason})`,
        expectedAssignee: task.assignedTo!,
      });
      done = r.changed;
    } else if (action === 'cancel') {
      const r = await moveTask(t.db, task.id, {
        to: 'cancelled',
        set: { result: `cancelled: assignee ${reason.replace('_', ' ')}`, completedAt: t.clock.now() },
        event: 'task.cancelled',
        expectedAssignee: task.assignedTo!,
      });
      done = r.changed;
    } else if (action === 'delete') {
      done =
        (await deleteTask(t.db, task.id, ['assigned', 'running'], 'task.deleted', `orphaned (${reason})`)) !==
        undefined;
    }
    rows.push({ task, reason, done });
  }
  return rows;
};
