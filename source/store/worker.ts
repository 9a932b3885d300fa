import type { Redis } from 'ioredis';
import { decodeHash, type HashFields, type Malformed } from '../model/hash.js';
import { Agent } from '../model/agent.js';
import { Task } from '../model/task.js';
import { MalformedRecordError } from './records.js';
import { script, scriptRawWith, scriptWith, type Db } from './db.js';
import { ACTIVITY_MAX, ACTIVITY_TTL_SECS } from './keys.js';
import { parseInboxMember, type InboxEntry } from './messages.js';
import type { RoundOptions } from './scripts.js';
import type { StreakStep } from '../model/quarantine.js';

/** What a worker needs from the town to run its rounds. */
export interface RoundPolicy {
  maxMessages: number;
  maxTasks: number;
  autoClaim: boolean;
  /** The agent's role and capabilities, lower-cased: which tagged backlog tasks it may take. */
  skills: string[];
  /** A generalist takes any backlog task. */
  generalist: boolean;
  backlogScan: number;
  /**
   * How long a due retry waits for an agent other than the one that failed it, while another
   * is idle (default 10 s).
   */
  retryGraceMs?: number;
  /** Retry delays in ms, by attempt (see model/retry.ts). */
  delaysMs: number[];
}

export type BootResult =
  { status: 'ok'; previous: string } | { status: 'gone' } | { status: 'stop'; state: string };

/** A worker takes over its agent: returns what a dead predecessor held, sets the heartbeat. */
export const bootWorker = async (
  db: Db,
  agentId: string,
  pid: number,
  hbTtlMs: number,
  delaysMs: number[],
  revive = false,
): Promise<BootResult> => {
  const [status, a = ''] = await scriptWith(db, 'worker_boot', {
    agent: agentId,
    pid,
    hbTtlMs: Math.round(hbTtlMs),
    delays: delaysMs.join(','),
    revive,
  });
  if (status === 'ok') return { status, previous: a };
  if (status === 'stop') return { status, state: a };
  return { status: 'gone' };
};

export interface ClaimedTask {
  task: Task;
  token: string;
}

export interface Round {
  status: 'ok';
  /** The agent as the round began (absent for a chained round: the worker has it). */
  agent?: Agent;
  messages: InboxEntry[];
  tasks: ClaimedTask[];
  stale: string[];
  malformed: Malformed[];
}

export type RoundStart = Round | { status: 'stop' | 'paused' | 'gone' | 'reaped' | 'idle'; state: string };

const roundOptions = (tokenBase: string, p: RoundPolicy): RoundOptions => ({
  maxMsgs: p.maxMessages,
  maxTasks: p.maxTasks,
  autoClaim: p.autoClaim,
  skills: p.skills.join(','),
  generalist: p.generalist,
  tokenBase,
  backlogScan: p.backlogScan,
  retryGraceMs: p.retryGraceMs ?? 10_000,
});

const pairs = (flat: string[]): HashFields => {
  const out: HashFields = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i]!] = flat[i + 1]!;
  return out;
};

/** Decodes a round from begin_round's flat list (prelude/agents.lua says the layout). */
const decodeRound = (db: Db, agentId: string, flat: string[]): Round => {
  let i = 0;
  const take = (n: number) => flat.slice(i, (i += n));
  const count = () => Number(flat[i++]);
  const key = db.keys.inbox(agentId);
  const messages: InboxEntry[] = [];
  const malformed: Malformed[] = [];
  for (const m of take(count())) {
    const r = parseInboxMember(key, m);
    if (r.ok) messages.push(r.entry);
    else malformed.push(r.malformed);
  }
  const tasks: ClaimedTask[] = [];
  for (let n = count(); n > 0; n--) {
    const fields = pairs(take(count()));
    const r = decodeHash(Task, db.keys.task(fields.id ?? '?'), fields);
    if (r.ok) tasks.push({ task: r.value, token: fields.claimToken ?? '' });
    else malformed.push(r.malformed);
  }
  const stale = take(count());
  const round: Round = { status: 'ok', messages, tasks, stale, malformed };
  const agentFields = take(count());
  if (agentFields.length) {
    const agent = decodeHash(Agent, db.keys.agent(agentId), pairs(agentFields));
    if (!agent.ok) throw new MalformedRecordError(agent.malformed);
    round.agent = agent.value;
  }
  return round;
};

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);

/** Begins a round in one script: may the agent work, and what it got (messages, started tasks). */
export const beginRound = async (
  db: Db,
  agentId: string,
  tokenBase: string,
  p: RoundPolicy,
): Promise<RoundStart> => {
  const [status, payload] = (await scriptRawWith(db, 'worker_begin', {
    agent: agentId,
    ...roundOptions(tokenBase, p),
  })) as [string, unknown];
  if (status !== 'ok')
    return { status: status as 'stop' | 'paused' | 'gone' | 'reaped' | 'idle', state: String(payload ?? '') };
  return decodeRound(db, agentId, strings(payload));
};

export type FinishOutcome =
  'completed' | 'failed-retry' | 'failed-dead' | 'noop' | 'stale' | 'missing' | `illegal:${string}`;

export interface AttemptResult {
  id: string;
  token: string;
  outcome: 'completed' | 'failed';
  text: string;
}

export interface RoundEnd {
  outcomes: FinishOutcome[];
  /** The next round, begun in the same call when the worker asked to chain and there was work. */
  next?: Round;
  /** Why the agent was quarantined by this round end (its fast failures reached the limit). */
  quarantined?: string;
}

/** What a round end does to the agent's streak of fast failures (model/quarantine.ts). */
export interface RoundStreak {
  step: StreakStep;
  /** Quarantine at this many fast failures in a row; 0 = never. */
  after: number;
  /** The reason's tail (quarantineWhy). */
  why: string;
}

/**
 * Ends a round in one script: finish owned attempts, ack messages, count the round; with
 * `chain`, begin the next round in the same call (the agent stays working), else go idle.
 */
export const endRound = async (
  db: Db,
  agentId: string,
  end: {
    results: AttemptResult[];
    ackIds: string[];
    delaysMs: number[];
    activity: string;
    streak?: RoundStreak;
  },
  chain?: { tokenBase: string; policy: RoundPolicy },
): Promise<RoundEnd> => {
  const [next, ...outcomes] = (await scriptRawWith(
    db,
    'worker_end',
    {
      agent: agentId,
      acks: end.ackIds.join(','),
      delays: end.delaysMs.join(','),
      activity: end.activity,
      activityTtlSecs: ACTIVITY_TTL_SECS,
      activityMax: ACTIVITY_MAX,
      streak: end.streak?.step ?? 'keep',
      quarantineAfter: end.streak?.after ?? 0,
      quarantineWhy: end.streak?.why ?? '',
      ...(chain ? { chain: true, ...roundOptions(chain.tokenBase, chain.policy) } : { chain: false }),
    },
    end.results.flatMap((r) => [r.id, r.token, r.outcome, r.text]),
  )) as [unknown, ...string[]];
  return {
    outcomes: outcomes as FinishOutcome[],
    ...(Array.isArray(next) ? { next: decodeRound(db, agentId, strings(next)) } : {}),
    ...(typeof next === 'string' && next.startsWith('quarantined:')
      ? { quarantined: next.slice('quarantined:'.length) }
      : {}),
  };
};

/** Ends one attempt from outside the worker (tt task complete / fail). token '' = operator. */
export const finishAttempt = async (
  db: Db,
  taskId: string,
  token: string,
  outcome: 'completed' | 'failed',
  text: string,
  delaysMs: number[],
  expectedAssignee = '',
): Promise<FinishOutcome> => {
  const [r] = await scriptWith(db, 'task_finish', {
    id: taskId,
    token,
    outcome,
    text,
    delays: delaysMs.join(','),
    expectedAssignee,
  });
  return r as FinishOutcome;
};

/**
 * Refreshes an agent's heartbeat: the key whose expiry marks the agent dead, and the record's
 * timestamp.
 */
export const heartbeat = async (db: Db, agentId: string, ttlMs: number): Promise<void> => {
  const now = db.clock.now();
  await db.redis
    .multi()
    .set(db.keys.heartbeat(agentId), String(now), 'PX', Math.round(ttlMs))
    .hset(db.keys.agent(agentId), 'lastHeartbeat', String(now))
    .exec();
};

/** Drops an agent's heartbeat key: its worker has stopped and says so at once. */
export const clearHeartbeat = async (db: Db, agentId: string): Promise<void> => {
  await db.redis.del(db.keys.heartbeat(agentId));
};

/**
 * Blocks up to `ms` on the agent's own wake list (a paused agent waits for a resume, not for
 * the backlog). `blocking` must be a connection of its own (role "blocking").
 */
export const waitForWake = async (db: Db, blocking: Redis, agentId: string, ms: number): Promise<void> => {
  await blocking.blpop(db.keys.wake(agentId), ms / 1000);
};

/**
 * Blocks up to `ms` until the agent's wake list or the backlog's gets a token: an idle worker
 * waits for a message or a backlog task. `blocking` must be a connection of its own.
 */
export const waitForWork = async (db: Db, blocking: Redis, agentId: string, ms: number): Promise<void> => {
  await blocking.blpop(db.keys.wake(agentId), db.keys.backlogWake, ms / 1000);
};

export interface ReapResult {
  reaped: number;
  moved: number;
  promoted: number;
}

/**
 * Reaps dead agents and promotes due retries. With `lockMs`, only one caller per interval in the
 * whole town does the work (SET NX PX); returns undefined when another holds the turn.
 */
export const reap = async (
  db: Db,
  delaysMs: number[],
  reason: string,
  lockMs?: number,
): Promise<ReapResult | undefined> => {
  if (lockMs !== undefined) {
    const got = await db.redis.set(db.keys.reapLock, '1', 'PX', Math.max(1, Math.round(lockMs)), 'NX');
    if (got !== 'OK') return undefined;
  }
  const [reaped = '0', moved = '0', promoted = '0'] = await script(db, 'reap', [
    delaysMs.join(','),
    1000,
    reason,
  ]);
  return { reaped: Number(reaped), moved: Number(moved), promoted: Number(promoted) };
};
