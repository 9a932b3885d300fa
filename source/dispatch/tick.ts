import { shortId } from '../model/ids.js';
import { isTerminalMission } from '../model/mission.js';
import { leaseAndView, readView, type MissionView } from '../store/mission-reads.js';
import { LeaseLost, type LeaseResult } from '../store/missions.js';
import { assignReady, prefetchPool } from './assign.js';
import { applyFinishedTasks } from './completions.js';
import type { Dispatcher } from './dispatcher.js';
import { finalizeBlocked } from './finalize.js';
import { applyNotes } from './notes.js';
import type { Pool } from './pool.js';
import { reconcileLive } from './reconcile.js';
import { newReport, type MissionTickReport } from './report.js';
import { settle } from './settle.js';
import { skipMalformed, type Tick } from './tick-state.js';
import { checkDueWatches } from './watches.js';

/**
 * One tick of one mission, under its lease: control notes, finished tasks, due watches, the
 * scheduler (reconcile, finalize, assign), then completion, waiting and help. Every write checks
 * the lease inside its script, so a dispatcher that lost the lease (paused past its TTL, say)
 * writes nothing; it learns so from the first refused write and stops this mission's tick.
 *
 * It reads what it needs when it needs it: the mission record and the sizes of its queues come
 * with the lease; notes, finished tasks, due watches and blocked items are read only when there
 * are some; live items are checked against their tasks inside Redis; the ready queue is read only
 * as deep as the free agents and slots can take; and the agent pool only when there is ready work.
 */
export const tickMission = async (d: Dispatcher, id: string, pool: Pool = {}): Promise<MissionTickReport> => {
  const now = d.db.clock.now();
  const report = newReport(id);
  const opened = await openMission(d, id);
  if (opened.lease.status === 'held') return { ...report, status: 'held', holder: opened.lease.holder };
  try {
    if (!opened.view) return { ...report, status: 'skipped' };
    const t: Tick = { d, id, now, pool, report, view: opened.view, stale: false };
    report.state = t.view.mission.state;
    skipMalformed(t, t.view.malformed);
    if (!(await applyNotes(t))) return { ...report, status: 'skipped' };
    if (!isScheduled(t)) return report;
    await applyFinishedTasks(t);
    await checkDueWatches(t);
    if (t.view.mission.state === 'running') {
      // The scheduler; the agent pool is read alongside reconcile when ready work will want it.
      const prefetch = prefetchPool(t);
      await reconcileLive(t);
      await finalizeBlocked(t);
      await prefetch;
      await assignReady(t);
    }
    await settle(t);
    return report;
  } catch (e) {
    if (e instanceof LeaseLost) return { ...report, status: 'lost' };
    throw e;
  }
};

/**
 * Takes or renews the mission's lease and reads its view. A lease taken afresh (first tick, or
 * again after losing it) starts with a full sweep of the live items (see reconcile.ts).
 */
const openMission = async (
  d: Dispatcher,
  id: string,
): Promise<{ lease: LeaseResult; view?: MissionView }> => {
  const opened = await leaseAndView(d.db, id, d.token, d.config.leaseTtlMs);
  if (opened.lease.status !== 'renewed') d.swept?.delete(id);
  if (opened.lease.status === 'held' || d.failpoint !== 'hold-lease') return opened;
  // Test hook: hold the lease a while, then read the view again.
  d.log?.(`failpoint hold-lease: holding the lease on ${shortId(id)} (token ${shortId(d.token)})`);
  await new Promise((r) => setTimeout(r, 500));
  const view = await readView(d.db, id);
  return { lease: opened.lease, ...(view ? { view } : {}) };
};

/** Whether the mission (after its notes) is one the scheduler works on: not planning, not finished. */
const isScheduled = (t: Tick): boolean => {
  const m = t.view.mission;
  if (m.state !== 'planning' && !isTerminalMission(m.state)) return true;
  t.report.state = m.state;
  return false;
};
