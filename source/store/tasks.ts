import { TransitionError, TtError } from '../model/errors.js';
import { encodeHash } from '../model/hash.js';
import { Task, TASK_STATES, taskStatesInto, type TaskState } from '../model/task.js';
import { scriptWith, type Db } from './db.js';
import { readHash, readHashes, type Batch } from './records.js';

export const getTask = (db: Db, id: string): Promise<Task | undefined> =>
  readHash(db, Task, db.keys.task(id));

/** Task ids, oldest first. */
export const taskIds = (db: Db): Promise<string[]> => db.redis.zrange(db.keys.tasks, '0', '-1');

export const listTasks = async (db: Db, states?: TaskState[]): Promise<Batch<Task>> => {
  let ids: string[];
  if (states) {
    const pipe = db.redis.pipeline();
    for (const s of states) pipe.smembers(db.keys.tasksIn(s));
    ids = ((await pipe.exec()) ?? []).flatMap(([, v]) => v as string[]);
  } else ids = await taskIds(db);
  const batch = await readHashes(db, Task, ids.map(db.keys.task));
  batch.items.sort((a, b) => a.createdAt - b.createdAt);
  return batch;
};

export const countTasksByState = async (db: Db): Promise<Record<TaskState, number>> => {
  const pipe = db.redis.pipeline();
  for (const s of TASK_STATES) pipe.scard(db.keys.tasksIn(s));
  const replies = (await pipe.exec()) ?? [];
  return Object.fromEntries(TASK_STATES.map((s, i) => [s, Number(replies[i]?.[1] ?? 0)])) as Record<
    TaskState,
    number
  >;
};

/** Throws the error for a script that refused an agent: missing, or in a state that takes no work. */
export const agentRefusal = (status: string, agent: string | undefined, state: string | undefined): never => {
  if (status === 'missing_agent') throw new TtError(`agent ${agent} no longer exists`);
  throw new TtError(`agent ${agent?.slice(0, 8)} is ${state}; restart it (tt restart) or pick another agent`);
};

export interface NewTask {
  task: Task;
  assignTo?: string;
  from: string;
  backlog?: boolean;
}

/** Creates a task; with `assignTo` it is assigned and its task_assign message queued in the same step. */
export const createTask = async (db: Db, n: NewTask): Promise<void> => {
  const [status, state] = await scriptWith(
    db,
    'task_create',
    {
      id: n.task.id,
      assignTo: n.assignTo ?? '',
      from: n.from,
      backlog: n.backlog ?? false,
      eventText: n.task.description.split('\n', 1)[0]!.slice(0, 120),
      state: n.task.state,
      priority: n.task.priority,
      createdAt: n.task.createdAt,
    },
    Object.entries(encodeHash(n.task)).flat(),
  );
  if (status !== 'ok') agentRefusal(status, n.assignTo, state);
};

export interface TaskMove {
  to: TaskState;
  set?: Record<string, string | number>;
  del?: string[];
  /** Assign (or reassign) to this agent, queueing a task_assign message. */
  assignTo?: string;
  from?: string;
  backlog?: 'add' | 'remove';
  event: string;
  text?: string;
  /** Refuse unless the task is assigned to this agent. */
  expectedAssignee?: string;
}

export type TaskMoveResult =
  { changed: true; prev: TaskState; prevAssignee?: string } | { changed: false; state: TaskState };

/** Moves a task through its state machine. Repeating a terminal move is a no-op, not an error. */
export const moveTask = async (db: Db, id: string, m: TaskMove): Promise<TaskMoveResult> => {
  const [status, a = '', b = ''] = await scriptWith(db, 'task_transition', {
    id,
    to: m.to,
    allowedFrom: taskStatesInto(m.to).join(','),
    set: JSON.stringify(m.set ?? {}),
    del: (m.del ?? []).join(','),
    assignTo: m.assignTo ?? '',
    from: m.from ?? '',
    backlog: m.backlog ?? '',
    eventType: m.event,
    eventText: m.text ?? '',
    expectedAssignee: m.expectedAssignee ?? '',
  });
  switch (status) {
    case 'ok':
      return { changed: true, prev: a as TaskState, ...(b ? { prevAssignee: b } : {}) };
    case 'noop':
      return { changed: false, state: a as TaskState };
    case 'illegal':
      throw new TransitionError('task', id.slice(0, 8), a, m.to);
    case 'missing':
      throw new TtError(`task ${id} no longer exists`);
    case 'not_owner':
      throw new TtError(
        `task ${id.slice(0, 8)} is assigned to ${a ? a.slice(0, 8) : 'nobody'}, not to ${m.expectedAssignee?.slice(0, 8)}; refusing a stale update`,
      );
    default:
      return agentRefusal(status, m.assignTo, a);
  }
};

export const deleteTask = async (
  db: Db,
  id: string,
  allowed: TaskState[],
  event: string,
  text = '',
): Promise<TaskState | undefined> => {
  const [status, state] = await scriptWith(db, 'task_delete', {
    id,
    allowed: allowed.join(','),
    eventType: event,
    eventText: text,
  });
  if (status === 'illegal') throw new TtError(`task ${id.slice(0, 8)} is ${state}; it cannot be deleted`);
  return status === 'ok' ? (state as TaskState) : undefined;
};
