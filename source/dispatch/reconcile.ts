import { shortId } from '../model/ids.js';
import {
  activeMismatches,
  dropTouched,
  touchedMismatches,
  type ActiveMismatch,
} from '../store/mission-reads.js';
import { updateItem } from '../store/missions.js';
import type { Dispatcher } from './dispatcher.js';
import { reread, type Tick } from './tick-state.js';

/** The scheduler's first part: live items brought back in line with their tasks. */
export const reconcileLive = async (t: Tick): Promise<void> => {
  if (t.view.activeCount > 0 && (await reconcile(t.d, t.id))) {
    t.report.progress = true;
    await reread(t);
  }
};

/**
 * Items whose live task has gone (cancelled, deleted, or lost with its agent) go back to ready;
 * moved tasks are followed. Redis picks out the items whose task no longer matches them: on the
 * first tick since this dispatcher took the mission's lease, among all its live items (a full
 * sweep, which catches whatever changed while nobody looked); after that, only among the items
 * touched since the last tick (every script that changes a mission task's state or assignee, or
 * deletes it, adds its item to the mission's touched set). Should anything fail midway, the next
 * tick sweeps in full again, so items taken off the set and not yet handled are not lost.
 */
const reconcile = async (d: Dispatcher, id: string): Promise<boolean> => {
  const { db, token } = d;
  const swept = (d.swept ??= new Set());
  const full = !swept.has(id);
  swept.delete(id);
  let changed = false;
  let mismatches: ActiveMismatch[];
  if (full) {
    // Whatever is touched from here on is checked at the next tick; the sweep covers the rest.
    await dropTouched(db, id, token);
    mismatches = await activeMismatches(db, id);
  } else mismatches = await touchedMismatches(db, id, token);
  for (const mismatch of mismatches) if (await realign(d, id, mismatch)) changed = true;
  swept.add(id);
  return changed;
};

/** One live item realigned with its task: released, started, or rebound. Whether it changed. */
const realign = async (d: Dispatcher, id: string, { item, task }: ActiveMismatch): Promise<boolean> => {
  const { db, token } = d;
  if (!task || task.state === 'cancelled') {
    await updateItem(db, id, token, item.id, {
      status: 'ready',
      del: ['assignedTo', 'task'],
      event: 'mission.item',
      text: `${item.title}: released (its task is gone)`,
    });
    return true;
  }
  if (task.state === 'running' && item.status === 'assigned') {
    await updateItem(db, id, token, item.id, {
      status: 'running',
      ...(task.assignedTo ? { set: { assignedTo: task.assignedTo } } : {}),
    });
    return true;
  }
  if (task.assignedTo && task.assignedTo !== item.assignedTo) {
    await updateItem(db, id, token, item.id, {
      set: { assignedTo: task.assignedTo },
      event: 'mission.item',
      text: `${item.title}: rebound to ${shortId(task.assignedTo)}`,
    });
    return true;
  }
  return false;
};
