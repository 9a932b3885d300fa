import { shortId } from '../model/ids.js';
import type { Redis } from 'ioredis';
import { encodeHash } from '../model/hash.js';
import { ControlNote, Mission, Watch, WorkItem } from '../model/mission.js';
import { script, scriptWith, type Db } from './db.js';
import { MalformedRecordError, readEach, readHash, readHashes, type Batch } from './records.js';

/**
 * Mission storage: the records (missions, items, watches, notes) and every write, each a script
 * that checks the dispatcher's lease itself. What a dispatcher tick reads is in mission-reads.ts.
 */

export const missionIds = (db: Db): Promise<string[]> => db.redis.zrange(db.keys.missions, '0', '-1');
export const activeMissionIds = (db: Db): Promise<string[]> => db.redis.smembers(db.keys.missionsActive);
export const getMission = (db: Db, id: string): Promise<Mission | undefined> =>
  readHash(db, Mission, db.keys.mission(id));
export const listMissions = async (db: Db, ids?: string[]): Promise<Batch<Mission>> =>
  readHashes(db, Mission, (ids ?? (await missionIds(db))).map(db.keys.mission));

const flat = (record: object) => Object.entries(encodeHash(record)).flat();

export class LeaseLost extends Error {
  constructor(readonly mission: string) {
    super(`lost the lease on mission ${shortId(mission)}; another dispatcher has it`);
  }
}

/** Throws LeaseLost when a lease-checked script says the caller no longer holds the lease. */
export const leased = (mission: string, status: string): void => {
  if (status === 'lost') throw new LeaseLost(mission);
};

export const createMission = async (db: Db, m: Mission): Promise<void> => {
  const [status] = await script(db, 'mission_create', [m.id, ...flat(m)]);
  if (status !== 'ok') throw new Error(`mission ${m.id} already exists`);
};

/** Adds items (with the ids of the items that wait on each) to a mission being planned, in batches. */
export const addItems = async (
  db: Db,
  mission: string,
  items: (WorkItem & { dependents: string[] })[],
  batch = 500,
): Promise<void> => {
  for (let i = 0; i < items.length; i += batch) {
    const args: (string | number)[] = [mission];
    for (const item of items.slice(i, i + batch)) {
      const pairs = flat(item);
      args.push(item.id, item.status, item.rank, item.deps.length, pairs.length, ...pairs);
    }
    const [status] = await script(db, 'mission_items_add', args);
    if (status !== 'ok') throw new Error(`mission ${mission} is not being planned`);
  }
};

export type LeaseResult =
  { status: 'acquired' | 'renewed' | 'released' } | { status: 'held'; holder: string };

export const lease = async (
  db: Db,
  mission: string,
  token: string,
  ttlMs: number,
  release = false,
): Promise<LeaseResult> => {
  const [status, holder = ''] = await scriptWith(db, 'lease', {
    mission,
    token,
    ttlMs: Math.round(ttlMs),
    release,
  });
  return status === 'held' ? { status, holder } : { status: status as 'acquired' | 'renewed' | 'released' };
};

export interface MissionUpdate {
  state?: Mission['state'];
  set?: Record<string, string | number>;
  del?: string[];
  event?: string;
  text?: string;
  /** A help prompt to queue in the supervisor's inbox (a query message body). */
  help?: object;
  /** Take this mission's earlier help prompts out of the supervisor's inbox. */
  retireHelp?: boolean;
}

/** Updates a mission; with a token, only while that lease is held (token '' = the operator). */
export const updateMission = async (
  db: Db,
  id: string,
  token: string,
  u: MissionUpdate,
): Promise<Mission['state'] | undefined> => {
  const [status, prev] = await scriptWith(
    db,
    'mission_set',
    {
      mission: id,
      token,
      state: u.state ?? '',
      del: (u.del ?? []).join(','),
      eventType: u.event ?? '',
      eventText: u.text ?? '',
      help: u.help ? JSON.stringify(u.help) : '',
      retire: u.retireHelp ?? false,
    },
    Object.entries(u.set ?? {}).flat(),
  );
  leased(id, status!);
  return status === 'ok' ? (prev as Mission['state']) : undefined;
};

export interface ItemUpdate {
  status?: WorkItem['status'];
  set?: Record<string, string | number>;
  del?: string[];
  event?: string;
  text?: string;
}

export const updateItem = async (
  db: Db,
  mission: string,
  token: string,
  item: string,
  u: ItemUpdate,
): Promise<{ prev: WorkItem['status']; promoted: number } | undefined> => {
  const [status, prev, promoted] = await scriptWith(
    db,
    'mission_item',
    {
      mission,
      token,
      item,
      status: u.status ?? '',
      del: (u.del ?? []).join(','),
      eventType: u.event ?? '',
      eventText: u.text ?? '',
    },
    Object.entries(u.set ?? {}).flat(),
  );
  leased(mission, status!);
  return status === 'ok' ? { prev: prev as WorkItem['status'], promoted: Number(promoted) } : undefined;
};

export interface Assignment {
  item: string;
  agent: string;
  task: string;
  /**
   * The task's description is written from the item by the script: "[prefix] title", the
   * mission, the work item, its source and body, then `extra`.
   */
  prefix: string;
  extra: string;
  priority: string;
  tags: string[];
  role: 'work' | 'review' | 'fix';
  watch?: string;
  /** The git branch the task works on (its work item's, for a review or fix). */
  branch?: string;
  mode: 'ready' | 'keep' | 'take';
}

/**
 * Creates mission tasks and queues them, in batches small enough that no call blocks Redis long
 * (about a millisecond for 25). The batches go out back to back without waiting for each other's
 * reply, so Redis runs one while the next is being sent; each checks the lease itself.
 */
export const assign = async (
  db: Db,
  mission: string,
  token: string,
  from: string,
  list: Assignment[],
  batch = 25,
): Promise<{ assigned: number; skipped: string[] }> => {
  const calls: Promise<string[]>[] = [];
  for (let i = 0; i < list.length; i += batch) {
    const args: (string | number)[] = [mission, token, from];
    for (const a of list.slice(i, i + batch))
      args.push(
        a.item,
        a.agent,
        a.task,
        a.prefix,
        a.extra,
        a.priority,
        JSON.stringify(a.tags),
        a.role,
        a.watch ?? '',
        a.mode,
        a.branch ?? '',
      );
    calls.push(script(db, 'mission_assign', args));
  }
  let assigned = 0;
  const skipped: string[] = [];
  for (const [status, n = '0', ...rest] of await Promise.all(calls)) {
    leased(mission, status!);
    assigned += Number(n);
    skipped.push(...rest);
  }
  return { assigned, skipped };
};

export const putWatch = async (
  db: Db,
  mission: string,
  token: string,
  w: Watch,
  event?: string,
  text?: string,
): Promise<void> => {
  const [status] = await scriptWith(
    db,
    'mission_watch',
    {
      mission,
      token,
      watch: w.id,
      due: w.status === 'done' ? '+inf' : w.nextDueAt,
      eventType: event ?? '',
      eventText: text ?? '',
    },
    flat(w),
  );
  leased(mission, status!);
};

export const queueNote = async (db: Db, note: ControlNote): Promise<boolean> => {
  const [status] = await scriptWith(db, 'mission_note', {
    mission: note.mission,
    note: note.id,
    json: JSON.stringify(note),
    token: '',
    tick: 0,
    effect: '',
  });
  return status === 'ok';
};

export const markNote = async (db: Db, token: string, note: ControlNote): Promise<void> => {
  const [status] = await scriptWith(db, 'mission_note', {
    mission: note.mission,
    note: note.id,
    json: JSON.stringify(note),
    token,
    tick: note.tick ?? 0,
    effect: note.effect ?? '',
  });
  leased(note.mission, status!);
};

export const takeCompletions = async (
  db: Db,
  mission: string,
  token: string,
  max: number,
): Promise<string[]> => {
  const [status, ...ids] = await scriptWith(db, 'mission_completions', { mission, token, max, done: false });
  leased(mission, status!);
  return ids;
};

export const dropCompletions = async (db: Db, mission: string, token: string, n: number): Promise<void> => {
  const [status] = await scriptWith(db, 'mission_completions', { mission, token, max: n, done: true });
  leased(mission, status!);
};

/** Every item of a mission (for status views; not a hot path). */
export const listItems = async (db: Db, id: string): Promise<Batch<WorkItem>> => {
  const ids = await db.redis.zrange(db.keys.missionItems(id), '0', '-1');
  return readHashes(
    db,
    WorkItem,
    ids.map((i) => db.keys.missionItem(id, i)),
  );
};

/** One item of a mission; throws MalformedRecordError when it does not parse. */
export const getItem = (db: Db, mission: string, item: string): Promise<WorkItem | undefined> =>
  readHash(db, WorkItem, db.keys.missionItem(mission, item));

/** Items of a mission by id, in one round trip (missing ones left out, malformed ones reported). */
export const readItems = (db: Db, mission: string, ids: string[]): Promise<Batch<WorkItem>> =>
  readHashes(
    db,
    WorkItem,
    ids.map((i) => db.keys.missionItem(mission, i)),
  );

/** Items of a mission by id, in one round trip, one answer per id (see readEach). */
export const readEachItem = (
  db: Db,
  mission: string,
  ids: string[],
): Promise<(WorkItem | undefined | MalformedRecordError)[]> =>
  readEach(
    db,
    WorkItem,
    ids.map((i) => db.keys.missionItem(mission, i)),
  );

export const listWatches = async (db: Db, id: string): Promise<Batch<Watch>> => {
  const ids = await db.redis.zrange(db.keys.missionWatches(id), '0', '-1');
  return readHashes(
    db,
    Watch,
    ids.map((w) => db.keys.missionWatch(id, w)),
  );
};

export const listNotes = async (db: Db, id: string): Promise<ControlNote[]> => {
  const all = await db.redis.hvals(db.keys.missionNotes(id));
  return all
    .flatMap((v) => {
      try {
        return [ControlNote.parse(JSON.parse(v))];
      } catch {
        return [];
      }
    })
    .sort((a, b) => a.createdAt - b.createdAt);
};

/** Who holds the mission's dispatcher lease, and for how much longer (ms); no holder when it is free. */
export const leaseHolder = async (db: Db, mission: string): Promise<{ holder?: string; ttlMs: number }> => {
  const [holder, ttlMs] = await Promise.all([
    db.redis.get(db.keys.missionLease(mission)),
    db.redis.pttl(db.keys.missionLease(mission)),
  ]);
  return { ...(holder ? { holder } : {}), ttlMs };
};

/** Wakes a dispatcher blocked in waitForDispatchWake (one token at most is kept). */
export const wakeDispatcher = async (db: Db): Promise<void> => {
  await db.redis.multi().lpush(db.keys.dispatchWake, '1').ltrim(db.keys.dispatchWake, 0, 0).exec();
};

/**
 * Blocks on `blocking` (a connection of its own) until something wakes the dispatcher or `secs`
 * pass. A failed wait (the connection closed on shutdown, say) just returns.
 */
export const waitForDispatchWake = async (db: Db, blocking: Redis, secs: number): Promise<void> => {
  await blocking.blpop(db.keys.dispatchWake, secs).catch(() => undefined);
};
