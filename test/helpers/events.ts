import { Redis } from 'ioredis';
import { join } from 'node:path';
import type { TownEvent } from '../../source/model/event.js';
import type { TestTown } from './town.js';
import { onCleanup } from './town.js';

type Entry = [string, string[]];

const decode = ([id, fields]: Entry): TownEvent => {
  const data = fields[fields.indexOf('data') + 1] ?? '{}';
  return { ...JSON.parse(data), id, type: fields[fields.indexOf('type') + 1] };
};

/**
 * Waits, by blocking reads of the town's event stream (no polling sleeps), until `count` events
 * match, and returns them. Looks at the whole stream, past events included.
 */
export const waitForEvents = async (
  town: TestTown,
  match: (e: TownEvent) => boolean,
  count = 1,
  timeoutMs = 15_000,
): Promise<TownEvent[]> => {
  const r = new Redis({
    path: join(town.dir, '.tt', 'redis.sock'),
    maxRetriesPerRequest: null,
    retryStrategy: (n) => Math.min(50 * n, 500),
  });
  r.on('error', () => {});
  onCleanup(() => r.disconnect());
  const found: TownEvent[] = [];
  let after = '0-0';
  const deadline = Date.now() + timeoutMs;
  try {
    while (found.length < count) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${count} event(s); saw ${found.length}`);
      const reply = (await r.xread(
        'COUNT',
        1000,
        'BLOCK',
        Math.min(left, 1000),
        'STREAMS',
        `${town.prefix}events`,
        after,
      )) as [string, Entry[]][] | null;
      for (const entry of reply?.[0]?.[1] ?? []) {
        after = entry[0];
        const e = decode(entry);
        if (match(e)) found.push(e);
      }
    }
    return found;
  } finally {
    r.disconnect();
  }
};

export const waitForEvent = async (
  town: TestTown,
  match: (e: TownEvent) => boolean,
  timeoutMs?: number,
): Promise<TownEvent> => (await waitForEvents(town, match, 1, timeoutMs))[0]!;

/** Every event of the town so far. */
export const allEvents = async (town: TestTown): Promise<TownEvent[]> =>
  ((await town.redis.xrange(`${town.prefix}events`, '-', '+')) as Entry[]).map(decode);
