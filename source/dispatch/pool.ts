import { isTerminalAgent, type Agent } from '../model/agent.js';
import type { WorkItem } from '../model/mission.js';
import { routeScore, type AvailableAgent } from '../model/routing.js';
import { listAgents } from '../store/agents.js';
import type { Db } from '../store/db.js';
import { availableAgents } from '../store/mission-reads.js';

/** Items an agent holds at once (a single-task worker). */
const CAPACITY = 1;

/**
 * The agents a tick can route to, each part read when first needed and then kept for the rest
 * of the tick (a tick that has nothing to route reads none of it).
 */
export interface Pool {
  /** Agents that can take new work, with what each holds; loads grow as the tick assigns. */
  available?: AvailableAgent[];
  /** Every agent not stopped: review and fix tasks, redirects, reviewer notices. */
  all?: Agent[];
}

/** The pool read in flight, so a second caller waits for it instead of reading again. */
const poolReads = new WeakMap<Pool, Promise<AvailableAgent[]>>();

const readAvailable = async (db: Db): Promise<AvailableAgent[]> =>
  (await availableAgents(db, CAPACITY)).map((a) => ({
    id: a.id,
    name: a.name,
    ...(a.role ? { role: a.role } : {}),
    caps: a.caps,
    load: a.load,
    capacity: CAPACITY,
  }));

/** The agents that can take new work now (read once per pool). */
export const availableOf = async (db: Db, pool: Pool): Promise<AvailableAgent[]> => {
  if (pool.available) return pool.available;
  let read = poolReads.get(pool);
  if (!read) {
    read = readAvailable(db);
    poolReads.set(pool, read);
  }
  const list = await read;
  return (pool.available ??= list);
};

/** Every agent not stopped (read once per pool). */
export const everyone = async (db: Db, pool: Pool): Promise<Agent[]> =>
  (pool.all ??= (await listAgents(db)).items.filter((a) => !isTerminalAgent(a.state)));

/**
 * The best agent (highest route score, then least loaded, then name) for an item-like piece of
 * work: `prefer` when it is still about, never `exclude`.
 */
export const bestAgent = async (
  db: Db,
  pool: Pool,
  item: Pick<WorkItem, 'kind' | 'ownerRole' | 'caps'>,
  prefer?: string,
  exclude?: string,
): Promise<string | undefined> => {
  const all = await everyone(db, pool);
  if (prefer && all.some((a) => a.id === prefer)) return prefer;
  const loads = new Map((await availableOf(db, pool)).map((a) => [a.id, a.load]));
  const scored = all
    .filter((a) => a.id !== exclude)
    .map((a) => ({
      a,
      score: routeScore(item, { name: a.name, ...(a.role ? { role: a.role } : {}), caps: a.caps }),
      load: loads.get(a.id) ?? 99,
    }))
    .filter((x) => x.score > 0)
    .sort((x, y) => y.score - x.score || x.load - y.load || x.a.name.localeCompare(y.a.name));
  return scored[0]?.a.id;
};
