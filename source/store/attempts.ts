import type { Redis } from 'ioredis';
import { AttemptEvent, type AttemptEventInput } from '../model/attempt.js';
import type { Malformed } from '../model/hash.js';
import type { Db } from './db.js';
import { ATTEMPT_EVENTS_MAX, ATTEMPT_INDEX_MAX, ATTEMPT_TTL_SECS } from './keys.js';
import type { Batch } from './records.js';
import { decodeStreamEntries, type StreamEntry } from './stream.js';

/**
 * Attempts: what a coding-agent CLI did in one round of an agent, as normalized events
 * (model/attempt.ts) in a bounded stream `attempt:<agentId>:<round>`, beside the round's raw log
 * `.tt/logs/<agent-name>_round_<round>.log`. A round carries the agent's claimed tasks, so one
 * attempt may be an attempt of several tasks; each task's index `attempts:task:<id>` lists its
 * attempts in the order they began, and `attempts:agent:<id>` the agent's rounds. See
 * docs/REDIS.md (Attempts) for the bounds.
 */

/** One attempt: an agent's round. */
export interface AttemptRef {
  agentId: string;
  round: number;
}

/** `<agentId>:<round>`: how a task's index names an attempt. */
export const attemptId = (r: AttemptRef): string => `${r.agentId}:${r.round}`;

const parseAttemptId = (s: string): AttemptRef | undefined => {
  const m = /^([^:]+):(\d+)$/.exec(s);
  return m ? { agentId: m[1]!, round: Number(m[2]) } : undefined;
};

/** The raw log's file name in the town's logs folder (`.tt/logs/`), as the CLI runner writes it. */
export const rawLogName = (agentName: string, round: number): string => `${agentName}_round_${round}.log`;

/** Bounds of the stored attempts; tests pass smaller ones. */
export interface AttemptLimits {
  /** Events kept per attempt (XADD MAXLEN ~, so up to one stream node more). */
  maxEvents: number;
  /** A stream and its indexes expire this long after their last write. */
  ttlSecs: number;
  /** Attempts kept per task and per agent index (the newest). */
  indexMax: number;
}

export const ATTEMPT_LIMITS: AttemptLimits = {
  maxEvents: ATTEMPT_EVENTS_MAX,
  ttlSecs: ATTEMPT_TTL_SECS,
  indexMax: ATTEMPT_INDEX_MAX,
};

/** An event as stored: its stream entry id, when it was written (ms), the event. */
export interface StoredAttemptEvent {
  id: string;
  ts: number;
  event: AttemptEvent;
}

/** Events read from an attempt's stream, and where to go on from. */
export interface AttemptEvents extends Batch<StoredAttemptEvent> {
  /** The id of the last entry read, malformed ones included (so each is reported once). */
  last?: string;
}

/** An attempt of a task, from its index: the attempt and when it began (ms). */
export interface TaskAttempt extends AttemptRef {
  startedAt: number;
}

/**
 * Registers an attempt as it begins: in the index of each task the round carries and in the
 * agent's, in one MULTI. Idempotent (ZADD NX), so a write retried after a dropped reply does not
 * count the attempt twice. Each index keeps its newest `indexMax` attempts and expires `ttlSecs`
 * after its last attempt began.
 */
export const openAttempt = async (
  db: Db,
  ref: AttemptRef,
  taskIds: readonly string[],
  limits: AttemptLimits = ATTEMPT_LIMITS,
): Promise<void> => {
  const now = db.clock.now();
  const tx = db.redis.multi();
  for (const id of taskIds) {
    const key = db.keys.taskAttempts(id);
    tx.zadd(key, 'NX', now, attemptId(ref));
    tx.zremrangebyrank(key, 0, -(limits.indexMax + 1));
    tx.expire(key, limits.ttlSecs);
  }
  const agentKey = db.keys.agentAttempts(ref.agentId);
  tx.zadd(agentKey, 'NX', ref.round, String(ref.round));
  tx.zremrangebyrank(agentKey, 0, -(limits.indexMax + 1));
  tx.expire(agentKey, limits.ttlSecs);
  failed(await tx.exec());
};

/**
 * Appends a batch of events to an attempt's stream in one pipeline, each checked against the
 * schema (which also cuts its text); an event that fails is left out and returned in
 * `rejected`, never thrown. The stream keeps about `maxEvents` events and expires `ttlSecs`
 * after its last batch.
 */
export const appendAttemptEvents = async (
  db: Db,
  ref: AttemptRef,
  events: readonly AttemptEventInput[],
  limits: AttemptLimits = ATTEMPT_LIMITS,
): Promise<{ ids: string[]; rejected: Malformed[] }> => {
  const key = db.keys.attempt(ref.agentId, ref.round);
  const rejected: Malformed[] = [];
  const good: AttemptEvent[] = [];
  events.forEach((e, i) => {
    const r = AttemptEvent.safeParse(e);
    if (r.success) good.push(r.data);
    else rejected.push({ key: `${key} event ${i}`, problem: issue(r.error.issues[0]!) });
  });
  if (good.length === 0) return { ids: [], rejected };
  const ts = String(db.clock.now());
  const pipe = db.redis.pipeline();
  for (const e of good)
    pipe.xadd(key, 'MAXLEN', '~', limits.maxEvents, '*', 'kind', e.kind, 'ts', ts, 'data', JSON.stringify(e));
  pipe.expire(key, limits.ttlSecs);
  const replies = failed(await pipe.exec());
  return { ids: replies.slice(0, good.length).map((r) => String(r)), rejected };
};

/**
 * An attempt's events after the entry `after` (from the first when absent), oldest first, at
 * most `count`. Entries that fail the schema are reported in `malformed` and skipped.
 */
export const readAttemptEvents = async (
  db: Db,
  ref: AttemptRef,
  opts: { after?: string; count?: number } = {},
): Promise<AttemptEvents> => {
  const key = db.keys.attempt(ref.agentId, ref.round);
  const from = opts.after ? `(${opts.after}` : '-';
  const count = opts.count ?? ATTEMPT_EVENTS_MAX + 1000;
  const entries = (await db.redis.xrange(key, from, '+', 'COUNT', count)) as StreamEntry[];
  return decodeEntries(key, entries);
};

/**
 * Blocks until an attempt's stream has entries after `after` ("0-0" for all), or `blockMs`
 * passes. Use a dedicated connection: a blocked connection serves nothing else.
 */
export const followAttemptEvents = async (
  redis: Redis,
  db: Db,
  ref: AttemptRef,
  after: string,
  blockMs: number,
  count = 1000,
): Promise<AttemptEvents> => {
  const key = db.keys.attempt(ref.agentId, ref.round);
  const reply = (await redis.xread('COUNT', count, 'BLOCK', blockMs, 'STREAMS', key, after)) as
    [string, StreamEntry[]][] | null;
  return decodeEntries(key, reply?.[0]?.[1] ?? []);
};

/** A task's attempts in the order they began (the newest `indexMax`). One read. */
export const attemptsOfTask = async (db: Db, taskId: string): Promise<Batch<TaskAttempt>> => {
  const key = db.keys.taskAttempts(taskId);
  const flat = await db.redis.zrange(key, '0', '-1', 'WITHSCORES');
  const out: Batch<TaskAttempt> = { items: [], malformed: [] };
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const ref = parseAttemptId(flat[i]!);
    if (ref) out.items.push({ ...ref, startedAt: Number(flat[i + 1]) });
    else out.malformed.push({ key: `${key} ${flat[i]}`, problem: 'not <agent id>:<round>' });
  }
  return out;
};

/** The rounds of an agent that are attempts, oldest first (the newest `indexMax`). One read. */
export const attemptsOfAgent = async (db: Db, agentId: string): Promise<number[]> =>
  (await db.redis.zrange(db.keys.agentAttempts(agentId), '0', '-1'))
    .map(Number)
    .filter((n) => Number.isInteger(n) && n > 0);

/** An agent's latest attempt, or undefined when it has none. One read. */
export const latestAttemptOfAgent = async (db: Db, agentId: string): Promise<AttemptRef | undefined> => {
  const [last] = await db.redis.zrange(db.keys.agentAttempts(agentId), '-1', '-1');
  const round = Number(last);
  return last !== undefined && Number.isInteger(round) && round > 0 ? { agentId, round } : undefined;
};

const issue = (i: { path: PropertyKey[]; message: string }): string =>
  `${i.path.length ? i.path.map(String).join('.') : '(event)'}: ${i.message}`;

const decodeEntries = (key: string, entries: StreamEntry[]): AttemptEvents =>
  decodeStreamEntries<StoredAttemptEvent>(key, entries, (id, f, data) => {
    const r = AttemptEvent.safeParse(data);
    if (!r.success) return { problem: issue(r.error.issues[0]!) };
    const ts = Number(f.ts);
    return { item: { id, ts: Number.isFinite(ts) && ts > 0 ? ts : Number(id.split('-')[0]), event: r.data } };
  });

/** Throws the first error of a pipeline or MULTI; returns the replies. */
const failed = (replies: [Error | null, unknown][] | null): unknown[] => {
  if (!replies) throw new Error('the transaction was aborted');
  const err = replies.find(([e]) => e)?.[0];
  if (err) throw err;
  return replies.map(([, r]) => r);
};
