import type { ChainableCommander } from 'ioredis';
import { Agent } from '../model/agent.js';
import type { Malformed } from '../model/hash.js';
import { ControlNote, Mission, Watch, WorkItem } from '../model/mission.js';
import { script, scriptRaw, scriptRawWith, type Db } from './db.js';
import { leased, readItems, type LeaseResult } from './missions.js';
import { readHashes } from './records.js';
import { defineScripts, optionArgs, type ScriptName, type ScriptOptions } from './scripts.js';

/**
 * What a dispatcher tick reads: the mission's view (with the lease), a full snapshot, the live
 * items whose task no longer matches them, the head of the ready queue, and the agent pool.
 */

/** The parts of a mission a dispatcher tick reads, in one round trip. */
export interface MissionSnapshot {
  mission: Mission;
  /** Ready items, best rank first, at most `readyLimit`. */
  ready: WorkItem[];
  readyCount: number;
  active: WorkItem[];
  blocked: WorkItem[];
  watches: Watch[];
  notes: ControlNote[];
  malformed: Malformed[];
}

export const readSnapshot = async (
  db: Db,
  id: string,
  readyLimit: number,
): Promise<MissionSnapshot | undefined> => {
  const k = db.keys;
  const pipe = db.redis.pipeline();
  pipe.hgetall(k.mission(id));
  pipe.zrange(k.missionReady(id), '0', String(Math.max(0, readyLimit - 1)));
  pipe.zcard(k.missionReady(id));
  pipe.smembers(k.missionActive(id));
  pipe.smembers(k.missionBlocked(id));
  pipe.zrange(k.missionWatches(id), '0', '-1');
  pipe.lrange(k.missionNotesPending(id), 0, -1);
  const r = ((await pipe.exec()) ?? []).map(([, v]) => v);
  const missionFields = r[0] as Record<string, string>;
  if (!missionFields || Object.keys(missionFields).length === 0) return undefined;
  const mission = Mission.safeParse(missionFields);
  const malformed: Malformed[] = [];
  if (!mission.success) return undefined;
  const readyIds = r[1] as string[];
  const items = await readHashes(
    db,
    WorkItem,
    [...readyIds, ...(r[3] as string[]), ...(r[4] as string[])].map((i) => k.missionItem(id, i)),
  );
  malformed.push(...items.malformed);
  const byStatus = (s: string[]) => items.items.filter((it) => s.includes(it.status));
  const watches = await readHashes(
    db,
    Watch,
    (r[5] as string[]).map((w) => k.missionWatch(id, w)),
  );
  malformed.push(...watches.malformed);
  const noteIds = r[6] as string[];
  const notes: ControlNote[] = [];
  if (noteIds.length) {
    const raw = await db.redis.hmget(k.missionNotes(id), ...noteIds);
    raw.forEach((v, i) => {
      try {
        notes.push(ControlNote.parse(JSON.parse(v ?? '')));
      } catch {
        malformed.push({ key: `${k.missionNotes(id)} ${noteIds[i]}`, problem: 'not a control note' });
      }
    });
  }
  const rank = new Map(readyIds.map((x, i) => [x, i]));
  return {
    mission: mission.data,
    ready: byStatus(['ready']).sort((a, b) => rank.get(a.id)! - rank.get(b.id)!),
    readyCount: r[2] as number,
    active: byStatus(['assigned', 'running']),
    blocked: byStatus(['blocked']),
    watches: watches.items,
    notes,
    malformed,
  };
};

/** The items in the mission's blocked index (malformed ones skipped). */
export const blockedItems = async (db: Db, id: string): Promise<WorkItem[]> =>
  (await readItems(db, id, await db.redis.smembers(db.keys.missionBlocked(id)))).items;

type ReadScript = Extract<ScriptName, 'mission_pool' | 'mission_active'>;

const jsonRows = (reply: unknown): unknown[][] =>
  (Array.isArray(reply) ? reply : []).map((row) => JSON.parse(String(row)) as unknown[]);
/** A field as Lua returned it: absent (false) and empty both mean absent. */
const field = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/**
 * Ids per call of a scan over every agent or every live item: each call stays around a
 * millisecond of Redis time.
 */
const SCAN_SLICE = 128;

/** One call of `name` per slice of `ids`, all sent together (one round trip). */
const sliced = async (
  db: Db,
  name: ReadScript,
  head: (string | number)[],
  ids: string[],
  size: number,
): Promise<unknown[]> => {
  const calls: Promise<unknown>[] = [];
  for (let i = 0; i < ids.length; i += size)
    calls.push(scriptRaw(db, name, [...head, ...ids.slice(i, i + size)]));
  return Promise.all(calls);
};

/** A mission's record and the sizes of its indexes: what a tick decides from before reading any item. */
export interface MissionView {
  mission: Mission;
  readyCount: number;
  activeCount: number;
  blockedCount: number;
  /** Control notes waiting to be applied. */
  notesPending: number;
  /** Finished tasks waiting to be applied. */
  completions: number;
  /** Every watch of the mission (a handful per pull request). */
  watches: Watch[];
  malformed: Malformed[];
}

const VIEW_COMMANDS = 7;
const queueView = (db: Db, pipe: ChainableCommander, id: string): void => {
  const k = db.keys;
  pipe.hgetall(k.mission(id));
  pipe.zcard(k.missionReady(id));
  pipe.scard(k.missionActive(id));
  pipe.scard(k.missionBlocked(id));
  pipe.llen(k.missionNotesPending(id));
  pipe.llen(k.missionCompletions(id));
  pipe.zrange(k.missionWatches(id), '0', '-1');
};

const viewOf = async (db: Db, id: string, r: unknown[]): Promise<MissionView | undefined> => {
  const fields = r[0] as Record<string, string> | undefined;
  if (!fields || Object.keys(fields).length === 0) return undefined;
  const mission = Mission.safeParse(fields);
  if (!mission.success) return undefined;
  const watchIds = (r[6] as string[] | undefined) ?? [];
  const watches = watchIds.length
    ? await readHashes(
        db,
        Watch,
        watchIds.map((w) => db.keys.missionWatch(id, w)),
      )
    : { items: [], malformed: [] };
  return {
    mission: mission.data,
    readyCount: Number(r[1] ?? 0),
    activeCount: Number(r[2] ?? 0),
    blockedCount: Number(r[3] ?? 0),
    notesPending: Number(r[4] ?? 0),
    completions: Number(r[5] ?? 0),
    watches: watches.items,
    malformed: watches.malformed,
  };
};

/** A mission's view in one round trip (two when it has watches); undefined when it is gone or unreadable. */
export const readView = async (db: Db, id: string): Promise<MissionView | undefined> => {
  const pipe = db.redis.pipeline();
  queueView(db, pipe, id);
  return viewOf(
    db,
    id,
    ((await pipe.exec()) ?? []).map(([, v]) => v),
  );
};

/**
 * Takes or renews the lease and reads the mission's view in the same round trip (the view is
 * used only with the lease).
 */
export const leaseAndView = async (
  db: Db,
  id: string,
  token: string,
  ttlMs: number,
): Promise<{ lease: LeaseResult; view?: MissionView }> => {
  defineScripts(db.redis);
  const pipe = db.redis.pipeline();
  (pipe as unknown as Record<string, (...a: (string | number)[]) => unknown>).tt_lease!(
    db.keys.prefix,
    db.clock.now(),
    ...optionArgs({
      mission: id,
      token,
      ttlMs: Math.round(ttlMs),
      release: false,
    } satisfies ScriptOptions['lease']),
  );
  queueView(db, pipe, id);
  const replies = (await pipe.exec()) ?? [];
  const [err, reply] = replies[0] ?? [new Error('no reply to the lease script'), undefined];
  if (err) throw err;
  const [status, holder = ''] = (reply as unknown[]).map(String);
  if (status === 'held') return { lease: { status, holder } };
  const view = await viewOf(
    db,
    id,
    replies.slice(1, 1 + VIEW_COMMANDS).map(([, v]) => v),
  );
  return { lease: { status: status as 'acquired' | 'renewed' }, ...(view ? { view } : {}) };
};

/** A live item whose task no longer matches it, with what reconciling it needs. */
export interface ActiveMismatch {
  item: Pick<WorkItem, 'id' | 'status' | 'assignedTo' | 'task' | 'title'>;
  /** The task, or undefined when it is gone. */
  task?: { state: string; assignedTo?: string };
}

const mismatchOf = ([
  iid,
  status,
  assignedTo,
  task,
  title,
  taskState,
  taskAssignedTo,
]: unknown[]): ActiveMismatch => {
  const a = field(assignedTo);
  const t = field(task);
  const ts = field(taskState);
  const ta = field(taskAssignedTo);
  return {
    item: {
      id: String(iid),
      status: status as WorkItem['status'],
      title: typeof title === 'string' ? title : '',
      ...(a ? { assignedTo: a } : {}),
      ...(t ? { task: t } : {}),
    },
    ...(ts ? { task: { state: ts, ...(ta ? { assignedTo: ta } : {}) } } : {}),
  };
};

/**
 * The full sweep: the mission's assigned and running items whose task is gone, cancelled,
 * started, or held by another agent (two round trips). A dispatcher makes it on its first tick of
 * a mission (after dropTouched); later ticks ask touchedMismatches.
 */
export const activeMismatches = async (db: Db, id: string): Promise<ActiveMismatch[]> =>
  (await sliced(db, 'mission_active', [id], await db.redis.smembers(db.keys.missionActive(id)), SCAN_SLICE))
    .flatMap(jsonRows)
    .map(mismatchOf);

/**
 * Calls of mission_touched per tick at most (SCAN_SLICE items each); what is left waits for the
 * next tick.
 */
const TOUCHED_CALLS = 64;

/**
 * The mismatches among the items touched since the last call (their task changed state or
 * assignee, or was deleted): the items are taken off the mission's touched set and checked in the
 * same script, under the lease, SCAN_SLICE at a time. One round trip when little was touched.
 */
export const touchedMismatches = async (db: Db, id: string, token: string): Promise<ActiveMismatch[]> => {
  const out: ActiveMismatch[] = [];
  for (let call = 0; call < TOUCHED_CALLS; call++) {
    const [status, left, ...rows] = await script(db, 'mission_touched', [id, token, SCAN_SLICE]);
    leased(id, status!);
    for (const row of rows) out.push(mismatchOf(JSON.parse(row) as unknown[]));
    if (Number(left) === 0) break;
  }
  return out;
};

/** Drops the mission's touched set, under the lease: a full sweep of its live items follows. */
export const dropTouched = async (db: Db, id: string, token: string): Promise<void> => {
  const [status] = await script(db, 'mission_touched', [id, token, 0]);
  leased(id, status!);
};

/** What of a ready item planning reads (its task's description is written from the item in Redis). */
export const ReadyItem = WorkItem.pick({
  id: true,
  kind: true,
  ownerRole: true,
  caps: true,
  status: true,
  rank: true,
  createdAt: true,
});
export type ReadyItem = ReturnType<typeof ReadyItem.parse>;
const READY_FIELDS = ['id', 'kind', 'ownerRole', 'caps', 'status', 'rank', 'createdAt'] as const;
/** Items per call of a ready-head read (each call stays around a millisecond of Redis time). */
const READY_SLICE = 200;

export interface ReadyHead {
  /** Ready items, best rank first. */
  items: ReadyItem[];
  /**
   * Entries read from the ready queue (items that failed to parse or are not ready are left out
   * of `items`).
   */
  read: number;
  readyCount: number;
  malformed: Malformed[];
}

/**
 * The first `want` ready items (best rank first) and any further ones of the same rank as the
 * last, at most `max`: slices of a few hundred, sent together (one round trip). Only the lease
 * holder changes the ready queue, so the slices agree with each other.
 */
export const readyHead = async (db: Db, id: string, want: number, max: number): Promise<ReadyHead> => {
  const n = Math.min(want, max);
  const calls: Promise<unknown>[] = [];
  for (let from = 0; from < n || from === 0; from += READY_SLICE) {
    const to = Math.min(from + READY_SLICE, n);
    calls.push(scriptRawWith(db, 'mission_ready', { mission: id, from, to, max, ties: to === n }));
  }
  const out: ReadyHead = { items: [], read: 0, readyCount: 0, malformed: [] };
  for (const reply of (await Promise.all(calls)) as unknown[][]) {
    out.readyCount = Number(reply[0] ?? 0);
    out.read += Number(reply[1] ?? 0);
    for (const row of jsonRows(reply.slice(2))) {
      const fields: Record<string, string> = {};
      READY_FIELDS.forEach((f, i) => {
        if (typeof row[i] === 'string') fields[f] = row[i] as string;
      });
      const r = ReadyItem.safeParse(fields);
      if (!r.success)
        out.malformed.push({
          key: db.keys.missionItem(id, fields.id ?? '?'),
          problem: r.error.issues[0]?.message ?? 'malformed',
        });
      else if (r.data.status === 'ready') out.items.push(r.data);
    }
  }
  return out;
};

/** An agent that can take new work now, as routing sees it. */
export interface PoolAgent {
  id: string;
  name: string;
  role?: string;
  caps: string[];
  state: Agent['state'];
  createdAt: number;
  /** Messages queued plus tasks started. */
  load: number;
}

const PoolFields = Agent.pick({ name: true, role: true, caps: true, state: true, createdAt: true });

/** Agents in a state that takes work with load below `capacity`, oldest first (two round trips). */
export const availableAgents = async (db: Db, capacity: number): Promise<PoolAgent[]> => {
  const out: PoolAgent[] = [];
  const replies = await sliced(
    db,
    'mission_pool',
    [capacity],
    await db.redis.smembers(db.keys.agents),
    SCAN_SLICE,
  );
  for (const [state, name, role, caps, createdAt, id, load] of replies.flatMap(jsonRows)) {
    const fields: Record<string, string> = {};
    Object.entries({ state, name, role, caps, createdAt }).forEach(([k, v]) => {
      if (typeof v === 'string') fields[k] = v;
    });
    const r = PoolFields.safeParse(fields);
    if (!r.success) continue;
    const { role: agentRole, ...rest } = r.data;
    out.push({
      id: String(id),
      ...rest,
      ...(agentRole !== undefined ? { role: agentRole } : {}),
      load: Number(load),
    });
  }
  return out.sort((a, b) => a.createdAt - b.createdAt || a.name.localeCompare(b.name));
};
