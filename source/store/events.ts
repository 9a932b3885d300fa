import type { Redis } from 'ioredis';
import { TownEvent, type EventScope } from '../model/event.js';
import type { Db } from './db.js';
import type { Batch } from './records.js';
import { decodeStreamEntries, type StreamEntry } from './stream.js';

export const streamKey = (db: Db, scope: EventScope): string =>
  scope === 'town'
    ? db.keys.events
    : 'agent' in scope
      ? db.keys.agentEvents(scope.agent)
      : db.keys.missionEvents(scope.mission);

const decodeEntries = (key: string, entries: StreamEntry[]): Batch<TownEvent> => {
  const { items, malformed } = decodeStreamEntries<TownEvent>(key, entries, (id, f, data) => {
    const r = TownEvent.safeParse({
      ...(data as object),
      id,
      type: f.type ?? (data as { type?: string })?.type,
    });
    return r.success ? { item: r.data } : { problem: r.error.issues[0]!.message };
  });
  return { items, malformed };
};

/** The newest `count` events, oldest first. */
export const recentEvents = async (db: Db, scope: EventScope, count: number): Promise<Batch<TownEvent>> => {
  const key = streamKey(db, scope);
  const entries = (await db.redis.xrevrange(key, '+', '-', 'COUNT', count)) as StreamEntry[];
  return decodeEntries(key, entries.reverse());
};

/**
 * Blocks until events newer than `afterId` arrive (or `blockMs` passes) and returns them. Use a
 * dedicated connection: a blocked connection serves nothing else.
 */
export const waitForEvents = async (
  redis: Redis,
  db: Db,
  scope: EventScope,
  afterId: string,
  blockMs: number,
  count = 1000,
): Promise<Batch<TownEvent>> => {
  const key = streamKey(db, scope);
  const reply = (await redis.xread('COUNT', count, 'BLOCK', blockMs, 'STREAMS', key, afterId)) as
    [string, StreamEntry[]][] | null;
  if (!reply) return { items: [], malformed: [] };
  return decodeEntries(key, reply[0]![1]);
};

/** The id of the newest entry, or "0-0" for an empty stream: where a follower starts. */
export const lastEventId = async (db: Db, scope: EventScope): Promise<string> => {
  const entries = (await db.redis.xrevrange(streamKey(db, scope), '+', '-', 'COUNT', 1)) as StreamEntry[];
  return entries[0]?.[0] ?? '0-0';
};
