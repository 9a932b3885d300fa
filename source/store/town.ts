import type { Db } from './db.js';

/** Every key of the town (SCAN, never KEYS): for reset and for the key-schema test, never a hot path. */
export const scanTownKeys = async (db: Db, match = '*'): Promise<string[]> => {
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await db.redis.scan(cursor, 'MATCH', `${db.keys.prefix}${match}`, 'COUNT', 1000);
    cursor = next;
    out.push(...keys);
  } while (cursor !== '0');
  return out;
};

/** The town's keys counted by kind (the first segment after the prefix), for reset's preview. */
export const countKeysByKind = (db: Db, keys: string[]): Record<string, number> => {
  const byKind: Record<string, number> = {};
  for (const k of keys) {
    const kind = k.slice(db.keys.prefix.length).split(':')[0]!;
    byKind[kind] = (byKind[kind] ?? 0) + 1;
  }
  return byKind;
};

/** The server's `INFO server` section. */
export const serverInfo = (db: Db): Promise<string> => db.redis.info('server');

const AGENT_KEY_KINDS = [
  'agent:',
  'inbox:',
  'wake:',
  'held:',
  'running:',
  'stop:',
  'activity:',
  'hb:',
  'events:agent:',
  'attempt:',
  'attempts:agent:',
];

/** Deletes the town's keys (or only its agents' keys) and records the reset. Returns how many went. */
export const resetTown = async (db: Db, agentsOnly: boolean): Promise<number> => {
  let keys = await scanTownKeys(db);
  if (agentsOnly) {
    const p = db.keys.prefix;
    keys = keys.filter(
      (k) =>
        k === db.keys.agents ||
        k === db.keys.agentNames ||
        AGENT_KEY_KINDS.some((kind) => k.startsWith(p + kind)),
    );
  }
  for (let i = 0; i < keys.length; i += 500) await db.redis.unlink(...keys.slice(i, i + 500));
  const data = JSON.stringify({
    type: 'town.reset',
    ts: db.clock.now(),
    text: `${keys.length} keys deleted${agentsOnly ? ' (agents only)' : ''}`,
  });
  await db.redis.xadd(db.keys.events, 'MAXLEN', '~', 10000, '*', 'type', 'town.reset', 'data', data);
  return keys.length;
};

/** Records the town's name and creation time once; returns the stored creation time. */
export const ensureTownMeta = async (db: Db, name: string): Promise<void> => {
  await db.redis.hsetnx(db.keys.meta, 'name', name);
  await db.redis.hsetnx(db.keys.meta, 'createdAt', String(db.clock.now()));
};
