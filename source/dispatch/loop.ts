import type { Redis } from 'ioredis';
import { activeMissionIds, lease, waitForDispatchWake } from '../store/missions.js';
import type { Dispatcher } from './dispatcher.js';
import type { Pool } from './pool.js';
import type { MissionTickReport } from './report.js';
import { tickMission } from './tick.js';

/** One dispatcher tick over the given missions (default: every active one). */
export const tick = async (d: Dispatcher, ids?: string[]): Promise<MissionTickReport[]> => {
  d.ticks++;
  const missions = ids ?? (await activeMissionIds(d.db));
  if (missions.length === 0) return [];
  const pool: Pool = {};
  const reports: MissionTickReport[] = [];
  for (const id of missions) reports.push(await tickMission(d, id, pool));
  return reports;
};

/** Gives up every lease this dispatcher holds (on shutdown). */
export const releaseLeases = async (d: Dispatcher, ids: string[]): Promise<void> => {
  for (const id of ids) await lease(d.db, id, d.token, 0, true).catch(() => undefined);
};

/**
 * The dispatcher loop: a tick, then wait until the next tick is due or something wakes it (a
 * finished mission task, a control note). Ends when the signal aborts.
 */
export const runDispatcher = async (
  d: Dispatcher,
  blocking: Redis,
  signal: AbortSignal,
  onTick?: (r: MissionTickReport[]) => void,
  /** Housekeeping run before each tick (the reaper of dead agents and due retries). */
  chores?: () => Promise<void>,
): Promise<void> => {
  const unblock = () => blocking.disconnect();
  signal.addEventListener('abort', unblock, { once: true });
  const seen = new Set<string>();
  try {
    while (!signal.aborted) {
      const wait = await loopOnce(d, signal, seen, onTick, chores);
      if (signal.aborted) break;
      await waitForDispatchWake(d.db, blocking, wait / 1000);
    }
  } finally {
    signal.removeEventListener('abort', unblock);
    await releaseLeases(d, [...seen]);
  }
};

/**
 * Chores and one tick; returns how long to wait for the next (ms): the tick interval, sooner
 * when a mission's watch is due sooner, at most a second after a failed tick.
 */
const loopOnce = async (
  d: Dispatcher,
  signal: AbortSignal,
  seen: Set<string>,
  onTick?: (r: MissionTickReport[]) => void,
  chores?: () => Promise<void>,
): Promise<number> => {
  let wait = d.config.tickMs;
  try {
    await chores?.();
    const reports = await tick(d);
    for (const r of reports) {
      if (r.status === 'ticked') seen.add(r.mission);
      if (r.nextWakeAt) wait = Math.min(wait, Math.max(10, r.nextWakeAt - d.db.clock.now()));
    }
    onTick?.(reports);
  } catch (e) {
    if (signal.aborted) return wait;
    d.log?.(`dispatcher tick failed: ${(e as Error).message}`);
    wait = Math.min(wait, 1000);
  }
  return wait;
};
