import { randomUUID } from 'node:crypto';
import { SUPERVISOR_ID, isUuid } from '../model/ids.js';
import { TtError, UsageError } from '../model/errors.js';
import type { TaskPriority } from '../model/priority.js';
import { resolveAgentRef, resolveIdPrefix } from '../model/resolve.js';
import { Task, type TaskState } from '../model/task.js';
import { getAgent } from '../store/agents.js';
import { createTask, getTask, listTasks, moveTask, taskIds, type TaskMoveResult } from '../store/tasks.js';
import { agents, findAgent } from './agents.js';
import type { Town } from './context.js';
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
  if (!ref) return SUPERVISOR_ID;
  return resolveAgentRef(ref, await agents(t));
};

/** Creates a task assigned to an agent and queues its task_assign message, in one step. */
export const assignTask = async (t: Town, agentRef: string, spec: TaskSpec & { from?: string }): Promise<Task> => {
  const agent = await findAgent(t, agentRef);
  const task = newTask(t, spec);
  await createTask(t.db, { task, assignTo: agent.id, from: await senderId(t, spec.from) });
  return { ...task, state: 'assigned', assignedTo: agent.id };
};

/**
 * Completes a task. A repeated completion is a no-op. When the caller runs as an agent
 * (TT_AGENT_ID), a task that has since been given to another agent is refused: that completion
 * is stale.
 */
export const completeTask = async (t: Town, ref: string, result: string): Promise<{ task: Task; outcome: TaskMoveResult }> => {
  const task = await findTask(t, ref);
  const outcome = await moveTask(t.db, task.id, {
    to: 'completed',
    set: { result, completedAt: t.clock.now() },
    event: 'task.completed',
    text: result.slice(0, 200),
    ...(t.env.TT_AGENT_ID && task.assignedTo ? { expectedAssignee: t.env.TT_AGENT_ID } : {}),
  });
  return { task: (await getTask(t.db, task.id)) ?? task, outcome };
};

/** Marks a task failed with a reason. */
export const failTask = async (t: Town, ref: string, reason: string): Promise<{ task: Task; outcome: TaskMoveResult }> => {
  if (!reason.trim()) throw new UsageError('say why the task failed: tt task fail <id> --reason "..."');
  const task = await findTask(t, ref);
  const outcome = await moveTask(t.db, task.id, {
    to: 'failed',
    set: { lastError: reason, result: `failed: ${reason}`, completedAt: t.clock.now() },
    event: 'task.failed',
    text: reason.slice(0, 200),
    ...(t.env.TT_AGENT_ID && task.assignedTo ? { expectedAssignee: t.env.TT_AGENT_ID } : {}),
  });
  return { task: (await getTask(t.db, task.id)) ?? task, outcome };
};

/** The task an agent is on: its current-task pointer, else its one live assigned task. */
export const currentTask = async (t: Town, agentRef?: string): Promise<{ agent: string; task?: Task }> => {
  const ref = agentRef ?? t.env.TT_AGENT_ID ?? t.env.TT_AGENT_NAME;
  if (!ref) throw new UsageError('which agent? give a name, or run inside an agent (TT_AGENT_ID)');
  const agent = await findAgent(t, ref);
  const fresh = await getAgent(t.db, agent.id);
  if (fresh?.currentTask) {
    const task = await getTask(t.db, fresh.currentTask);
    if (task) return { agent: agent.name, task };
  }
  const live = report(t, await listTasks(t.db, ['assigned', 'running'])).filter((x) => x.assignedTo === agent.id);
  if (live.length > 1) throw new TtError(`agent ${agent.name} has ${live.length} live tasks: ${live.map((x) => x.id.slice(0, 8)).join(', ')}`);
  return { agent: agent.name, ...(live[0] ? { task: live[0] } : {}) };
};

export const tasksIn = async (t: Town, states?: TaskState[]): Promise<Task[]> => report(t, await listTasks(t.db, states));
