import { shortId } from '../model/ids.js';
import { TransitionError, TtError } from '../model/errors.js';
import { encodeHash } from '../model/hash.js';
import { Task, TASK_STATES, taskStatesInto, type TaskState } from '../model/task.js';
import { scriptWith, type Db } from './db.js';
import { MalformedRecordError, readEach, readHash, readHashes, type Batch } from './records.js';

export const getTask = (db: Db, id: string): Promise<Task | undefined> =>
  readHash(db, Task, db.keys.task(id));

/** Tasks by id, in one round trip (missing ones left out, malformed ones reported). */
export const readTasks = (db: Db, ids: string[]): Promise<Batch<Task>> =>
  readHashes(db, Task, ids.map(db.keys.task));

/** Tasks by id, in one round trip, one answer per id (see readEach). */
export const readEachTask = (db: Db, ids: string[]): Promise<(Task | undefined | MalformedRecordError)[]> =>
  readEach(db, Task, ids.map(db.keys.task));

/** A task's state as stored, without reading the rest of it; undefined when the task is gone. */
export const taskState = async (db: Db, id: string): Promise<string | undefined> =>
  (await db.redis.hget(db.keys.task(id), 'state')) ?? undefined;

/** Task ids, oldest first. */
export const taskIds = (db: Db): Promise<string[]> => db.redis.zrange(db.keys.tasks, '0', '-1');

export const listTasks = async (db: Db, states?: TaskState[]): Promise<Batch<Task>> => {
  let ids: string[];
  if (states) {
    const pipe = db.redis.pipeline();
    for (const s of states) pipe.smembers(db.keys.tasksIn(s));
    ids = ((await pipe.exec()) ?? []).flatMap(([, v]) => v as string[]);
  } else ids = await taskIds(db);
  const batch = await readTasks(db, ids);
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
  throw new TtError(`agent ${shortId(agent)} is ${state}; restart it (tt restart) or pick another agent`);
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
      throw new TransitionError('task', shortId(id), a, m.to);
    case 'missing':
      throw new TtError(`task ${id} no longer exists`);
    case 'not_owner': {
      const holder = a ? shortId(a) : 'nobody';
      const expected = shortId(m.expectedAssignee);
      throw new TtError(
        `task ${shortId(id)} is assigned to ${holder}, not to ${expected}; refusing a stale update`,
      );
    }
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
  if (status === 'illegal') throw new TtError(`task ${shortId(id)} is ${state}; it cannot be deleted`);
  return status === 'ok' ? (state as TaskState) : undefined;
};

/**
 * Records where a task's work is: its git branch, when an attempt starts (the branch is known
 * once the worktree is on it), and branch and head commit when it ends (a retry, on any agent,
 * goes on from that branch). Only a task that still exists is written (a deleted task's hash is
 * not brought back). Returns whether it was.
 */
export const recordTaskBranch = async (db: Db, id: string, branch: string, head?: string): Promise<boolean> =>
  (await db.redis.eval(
    "if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end\n" +
      "redis.call('HSET', KEYS[1], 'branch', ARGV[1])\n" +
      "if ARGV[2] then redis.call('HSET', KEYS[1], 'head', ARGV[2]) end\nreturn 1",
    1,
    db.keys.task(id),
    branch,
    ...(head === undefined ? [] : [head]),
  )) === 1;

/**
 * The attempt token each task holds now (undefined when it holds none, or is gone), in one round
 * trip: an attempt whose token a task no longer holds was ended by someone else (the agent's own
 * `tt task complete|fail`, an operator, the reaper).
 */
export const claimTokens = async (db: Db, ids: readonly string[]): Promise<(string | undefined)[]> => {
  if (ids.length === 0) return [];
  const pipe = db.redis.pipeline();
  for (const id of ids) pipe.hget(db.keys.task(id), 'claimToken');
  const replies = (await pipe.exec()) ?? [];
  return ids.map((_, i) => {
    const [err, v] = replies[i] ?? [new Error('no reply'), null];
    if (err) throw err;
    return typeof v === 'string' && v !== '' ? v : undefined;
  });
};
