import { randomUUID } from 'node:crypto';
import { shortId, SUPERVISOR_ID, isUuid } from '../model/ids.js';
import { TransitionError, TtError, UsageError } from '../model/errors.js';
import type { TaskPriority } from '../model/priority.js';
import { resolveAgentRef, resolveIdPrefix } from '../model/resolve.js';
import { Task, type TaskState } from '../model/task.js';
import { createTask, getTask, listTasks, moveTask, taskIds } from '../store/tasks.js';
import { finishAttempt } from '../store/worker.js';
import { displayLabel, isTerminalAgent, type Agent } from '../model/agent.js';
import { getAgent } from '../store/agents.js';
import { agents, findAgent, pickAgent } from './agents.js';
import { townDelays, type Town } from './context.js';
import { report } from './report.js';

/** Resolves a full task id or a unique prefix of 4+ hex digits. */
export const resolveTaskId = async (t: Town, ref: string): Promise<string> => {
  if (isUuid(ref)) return ref.toLowerCase();
  return resolveIdPrefix('task', ref, await taskIds(t.db));
};

export const findTask = async (t: Town, ref: string): Promise<Task> => {
  const id = await resolveTaskId(t, ref);
  const task = await getTask(t.db, id);
  if (!task) throw new UsageError(`no task has id ${ref}`);
  return task;
};

export interface TaskSpec {
  description: string;
  priority?: TaskPriority;
  tags?: string[];
  parent?: string;
}

export const newTask = (t: Town, spec: TaskSpec): Task => {
  const description = spec.description.trim();
  if (!description) throw new UsageError('a task needs a description');
  const now = t.clock.now();
  return {
    id: randomUUID(),
    description,
    state: 'pending',
    priority: spec.priority ?? 'normal',
    tags: spec.tags ?? [],
    ...(spec.parent ? { parent: spec.parent } : {}),
    createdAt: now,
    updatedAt: now,
    attempts: 0,
    maxAttempts: t.config.tasks.maxAttempts,
  };
};

/** Who is acting: --from, else the agent this process runs as (TT_AGENT_ID / TT_AGENT_NAME), else the supervisor. */
export const senderId = async (t: Town, from?: string): Promise<string> => {
  const ref = from ?? t.env.TT_AGENT_ID ?? t.env.TT_AGENT_NAME;
  return ref ? resolveAgentRef(ref, await agents(t)) : SUPERVISOR_ID;
};

/** senderId, resolved among agents already read. */
export const senderIdAmong = (t: Town, all: readonly Agent[], from?: string): string => {
  const ref = from ?? t.env.TT_AGENT_ID ?? t.env.TT_AGENT_NAME;
  return ref ? resolveAgentRef(ref, all) : SUPERVISOR_ID;
};

/** An agent that takes no work (stopped, errored, never started), and how to bring it back. */
const stoppedAgent = (a: Agent): never => {
  throw new TtError(
    `${displayLabel(a)} is ${a.state}: restart it with tt restart ${a.name}, or pick another agent`,
  );
};

/**
 * Runs a write that gives work to `agent`. A stopped agent is refused up front; if the write's
 * script refuses it (the agent stopped in between), the refusal says how to restart it too.
 */
const givingWorkTo = async <T>(t: Town, agent: Agent, write: () => Promise<T>): Promise<T> => {
  if (isTerminalAgent(agent.state)) stoppedAgent(agent);
  try {
    return await write();
  } catch (e) {
    if (!(e instanceof TtError) || e instanceof TransitionError) throw e;
    const now = await getAgent(t.db, agent.id).catch(() => undefined);
    if (now && isTerminalAgent(now.state)) stoppedAgent(now);
    throw e;
  }
};

/** Creates a task assigned to an agent and queues its task_assign message, in one step. */
export const assignTask = async (
  t: Town,
  agentRef: string,
  spec: TaskSpec & { from?: string },
): Promise<Task> => {
  const all = await agents(t);
  const agent = pickAgent(agentRef, all);
  const task = newTask(t, spec);
  await givingWorkTo(t, agent, () =>
    createTask(t.db, { task, assignTo: agent.id, from: senderIdAmong(t, all, spec.from) }),
  );
  return { ...task, state: 'assigned', assignedTo: agent.id };
};

export type AttemptEnd = 'completed' | 'retry' | 'dead' | 'unchanged';

/**
 * Ends the current attempt of a task, as the agent working on it or as the operator. Inside an
 * agent's round (TT_TASK_ID / TT_TASK_TOKEN) the attempt token must still be current; an agent
 * without the token must still be the assignee. A stale word is refused; a repeated completion
 * is a no-op. A failure is retried with backoff until the task's attempts run out.
 */
export const finishTask = async (
  t: Town,
  ref: string,
  outcome: 'completed' | 'failed',
  text: string,
): Promise<{ task: Task; end: AttemptEnd }> => {
  const task = await findTask(t, ref);
  const token = t.env.TT_TASK_ID === task.id ? (t.env.TT_TASK_TOKEN ?? '') : '';
  const expected = !token && t.env.TT_AGENT_ID && task.assignedTo ? t.env.TT_AGENT_ID : '';
  const r = await finishAttempt(t.db, task.id, token, outcome, text, townDelays(t), expected);
  if (r === 'stale')
    throw new TtError(
      `task ${shortId(task.id)} is no longer this agent's attempt (it was reassigned or retried); refusing a stale update`,
    );
  if (r === 'missing') throw new TtError(`task ${task.id} no longer exists`);
  if (r.startsWith('illegal:')) throw new TransitionError('task', shortId(task.id), r.slice(8), outcome);
  const end: AttemptEnd =
    r === 'completed'
      ? 'completed'
      : r === 'failed-retry'
        ? 'retry'
        : r === 'failed-dead'
          ? 'dead'
          : 'unchanged';
  return { task: (await getTask(t.db, task.id)) ?? task, end };
};

export const completeTask = (t: Town, ref: string, result: string) => finishTask(t, ref, 'completed', result);

export const failTask = (t: Town, ref: string, reason: string) => {
  if (!reason.trim()) throw new UsageError('say why the task failed: tt task fail <id> --reason "..."');
  return finishTask(t, ref, 'failed', reason);
};

/** Re-drives a dead letter: back to the backlog with a fresh attempt budget. */
export const retryTask = async (t: Town, ref: string): Promise<Task> => {
  const task = await findTask(t, ref);
  if (task.state !== 'failed')
    throw new TtError(`task ${shortId(task.id)} is ${task.state}; only failed tasks are retried`);
  await moveTask(t.db, task.id, {
    to: 'pending',
    set: { attempts: 0 },
    del: ['assignedTo', 'startedAt', 'completedAt', 'result', 'deadReason'],
    backlog: 'add',
    event: 'task.requeued',
    text: 're-driven by the operator',
  });
  return (await getTask(t.db, task.id)) ?? task;
};

/** Cancels a task that has not finished. */
export const cancelTask = async (
  t: Town,
  ref: string,
  reason: string,
): Promise<{ task: Task; changed: boolean }> => {
  const task = await findTask(t, ref);
  const r = await moveTask(t.db, task.id, {
    to: 'cancelled',
    set: { result: `cancelled: ${reason}`, completedAt: t.clock.now() },
    event: 'task.cancelled',
    text: reason,
  });
  return { task: (await getTask(t.db, task.id)) ?? task, changed: r.changed };
};

/** The task an agent is on: its current-task pointer, else its one live assigned task. */
export const currentTask = async (t: Town, agentRef?: string): Promise<{ agent: string; task?: Task }> => {
  const ref = agentRef ?? t.env.TT_AGENT_ID ?? t.env.TT_AGENT_NAME;
  if (!ref) throw new UsageError('which agent? give a name, or run inside an agent (TT_AGENT_ID)');
  const agent = await findAgent(t, ref);
  if (agent.currentTask) {
    const task = await getTask(t.db, agent.currentTask);
    if (task) return { agent: agent.name, task };
  }
  const live = report(t, await listTasks(t.db, ['assigned', 'running'])).filter(
    (x) => x.assignedTo === agent.id,
  );
  if (live.length > 1)
    throw new TtError(
      `agent ${agent.name} has ${live.length} live tasks: ${live.map((x) => shortId(x.id)).join(', ')}`,
    );
  return { agent: agent.name, ...(live[0] ? { task: live[0] } : {}) };
};

export const tasksIn = async (t: Town, states?: TaskState[]): Promise<Task[]> =>
  report(t, await listTasks(t.db, states));

/** Gives a live task to another agent (its task_assign message goes with it). */
export const reassignTask = async (t: Town, ref: string, agentRef: string): Promise<Task> => {
  const task = await findTask(t, ref);
  const all = await agents(t);
  const agent = pickAgent(agentRef, all);
  await givingWorkTo(t, agent, () =>
    moveTask(t.db, task.id, {
      to: 'assigned',
      assignTo: agent.id,
      from: senderIdAmong(t, all),
      del: ['startedAt'],
      event: 'task.assigned',
      text: `reassigned to ${agent.name}`,
    }),
  );
  return (await getTask(t.db, task.id)) ?? task;
};
