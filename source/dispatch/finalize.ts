import type { Mission, WorkItem } from '../model/mission.js';
import { canFinalize, requiresReview } from '../model/submission.js';
import type { Db } from '../store/db.js';
import { blockedItems } from '../store/mission-reads.js';
import { updateItem } from '../store/missions.js';
import { taskState } from '../store/tasks.js';
import { reviewTask } from './tasks.js';
import { reread, type Tick } from './tick-state.js';

/**
 * The scheduler's second part: each blocked item that can finish is done (promoting what waited
 * on it); one that waits for its reviewer gets a review task when none is out.
 */
export const finalizeBlocked = async (t: Tick): Promise<void> => {
  if (t.view.blockedCount === 0) return;
  const { d, id, report } = t;
  const mission = t.view.mission;
  for (const item of (await blockedItems(d.db, id)).filter((i) => i.status === 'blocked')) {
    if (canFinalize(item, t.view.watches, mission.policy)) {
      const r = await updateItem(d.db, id, d.token, item.id, {
        status: 'done',
        event: 'mission.item',
        text: `${item.title}: done`,
      });
      report.promoted += r?.promoted ?? 0;
      report.progress = true;
      t.stale = true;
    } else if (wantsReview(item, mission) && !(await reviewOut(d.db, item))) {
      if (await reviewTask(d, mission, item, t.pool)) {
        report.progress = true;
        t.stale = true;
      }
    }
  }
  if (t.stale) await reread(t);
};

/** Whether a review task for the item is still live. */
const reviewOut = async (db: Db, item: WorkItem): Promise<boolean> => {
  if (!item.reviewTask) return false;
  const state = await taskState(db, item.reviewTask);
  return state !== undefined && state !== 'cancelled' && state !== 'failed';
};

/** A blocked item that needs its reviewer's word. */
const wantsReview = (item: WorkItem, mission: Mission): boolean =>
  requiresReview(item.kind, mission.policy) && !item.reviewerApproved && item.artifacts.length > 0;
