import type { WorkItem } from '../model/mission.js';
import { canFinalize, onReviewResult, onWorkSubmitted, PR_WATCHES } from '../model/submission.js';
import type { Task } from '../model/task.js';
import type { Db } from '../store/db.js';
import type { MissionView } from '../store/mission-reads.js';
import {
  dropCompletions,
  getItem,
  putWatch,
  readEachItem,
  takeCompletions,
  updateItem,
} from '../store/missions.js';
import { MalformedRecordError } from '../store/records.js';
import { readEachTask } from '../store/tasks.js';
import type { Dispatcher } from './dispatcher.js';
import type { Pool } from './pool.js';
import { reportMalformed } from './report.js';
import { fixTask, reviewTask } from './tasks.js';
import { reread, type Tick } from './tick-state.js';
import { newWatch } from './watches.js';

/** What applying a batch of finished tasks carries from one to the next. */
interface Feed {
  d: Dispatcher;
  /** The mission's record and its watches, as the tick read them. */
  snap: Pick<MissionView, 'mission' | 'watches'>;
  pool: Pool;
  /** Sends an item update without waiting for its reply (see applyCompletions). */
  write: (p: Promise<unknown>) => void;
}

/**
 * The tick's second step: the mission's finished tasks (at most completionsPerTick) feed their
 * items, then leave the mission's completions queue.
 */
export const applyFinishedTasks = async (t: Tick): Promise<void> => {
  if (t.view.completions === 0) return;
  const { d, report } = t;
  const done = await takeCompletions(d.db, t.id, d.token, d.config.completionsPerTick);
  if (!done.length) return;
  if (await applyCompletions(t, done)) report.progress = true;
  await dropCompletions(d.db, t.id, d.token, done.length);
  report.completions = done.length;
  await reread(t);
};

const itemOf = async (db: Db, mission: string, item: string | undefined) =>
  item ? getItem(db, mission, item) : undefined;

/** The finished tasks, and the items they name (each read once). */
const readFinished = async (d: Dispatcher, mission: string, ids: string[]) => {
  const tasks = await readEachTask(d.db, ids);
  const itemIds = [
    ...new Set(
      tasks.flatMap((t) => (t && !(t instanceof MalformedRecordError) && t.workItem ? [t.workItem] : [])),
    ),
  ];
  const read = await readEachItem(d.db, mission, itemIds);
  return { tasks, items: new Map(itemIds.map((i, k) => [i, read[k]])) };
};

/**
 * Finished mission tasks feed their items, in order. Their tasks and items are read up front
 * (an item an earlier one wrote is read again), and the item updates go out without waiting for
 * each other's reply; whatever follows an update (watches, a review or fix task) is sent after it.
 * Returns whether any made progress.
 */
const applyCompletions = async (t: Tick, ids: string[]): Promise<boolean> => {
  const { d, report } = t;
  const m = t.view.mission;
  const { tasks, items } = await readFinished(d, m.id, ids);
  const touched = new Set<string>();
  const writes: Promise<unknown>[] = [];
  let failed: unknown;
  const write = (p: Promise<unknown>) => void writes.push(p.catch((e: unknown) => void (failed ??= e)));
  const feed: Feed = { d, snap: t.view, pool: t.pool, write };
  let progress = false;
  // A record that cannot be read is reported and skipped; the rest of the batch still applies.
  const skip = (e: MalformedRecordError) =>
    reportMalformed(d, report, `${e.malformed.key}: ${e.malformed.problem}`);
  try {
    for (const [k, taskId] of ids.entries()) {
      const task = tasks[k];
      if (task instanceof MalformedRecordError) {
        skip(task);
        continue;
      }
      const wi = task?.workItem;
      const item =
        wi && touched.has(wi)
          ? await itemOf(d.db, m.id, wi).catch((e: unknown) =>
              e instanceof MalformedRecordError ? e : Promise.reject(e),
            )
          : wi
            ? items.get(wi)
            : undefined;
      if (item instanceof MalformedRecordError) {
        skip(item);
        continue;
      }
      if (await applyCompletion(feed, taskId, task, item)) progress = true;
      if (wi) touched.add(wi);
    }
  } finally {
    await Promise.all(writes);
  }
  if (failed) throw failed;
  return progress;
};

/** A finished mission task feeds its item: a submission, a review verdict, or a dead letter. */
const applyCompletion = async (
  f: Feed,
  taskId: string,
  task: Task | undefined,
  item: WorkItem | undefined,
): Promise<boolean> => {
  if (!task || !item || item.status === 'done') return false;
  const mark = `task:${taskId}`;
  if (item.artifacts.includes(mark)) return false;
  if (task.state === 'failed') {
    f.write(deadLetter(f, item, mark, task.lastError));
    return true;
  }
  if (task.state !== 'completed') return false;
  if (task.missionRole === 'review') await reviewed(f, item, mark, task.result ?? '');
  else await submitted(f, item, mark, task.result ?? '', task.branch);
  return true;
};

/** The item's task failed for good: the item is blocked until someone acts. */
const deadLetter = ({ d, snap }: Feed, item: WorkItem, mark: string, why: string | undefined) =>
  updateItem(d.db, snap.mission.id, d.token, item.id, {
    status: 'blocked',
    del: ['task'],
    set: { artifacts: JSON.stringify([...item.artifacts, mark]) },
    event: 'mission.item',
    text: `${item.title}: its task failed for good (${why ?? 'no reason'})`,
  });

/** A review verdict: a rejection blocks the item and sends a fix task; an approval may finish it. */
const reviewed = async (f: Feed, item: WorkItem, mark: string, result: string): Promise<void> => {
  const { d, snap, write } = f;
  const m = snap.mission;
  if (onReviewResult(result) === 'reject') {
    write(
      updateItem(d.db, m.id, d.token, item.id, {
        status: 'blocked',
        del: ['task', 'reviewTask'],
        set: { reviewerApproved: 'false', artifacts: JSON.stringify([...item.artifacts, mark]) },
        event: 'mission.item',
        text: `${item.title}: changes requested`,
      }),
    );
    await fixTask(d, m, { ...item, status: 'blocked' }, f.pool, `review asked for changes: ${result}`);
    return;
  }
  const approved = {
    ...item,
    status: 'blocked' as const,
    reviewerApproved: true,
    artifacts: [...item.artifacts, mark],
  };
  const finalize = canFinalize(approved, snap.watches, m.policy);
  write(
    updateItem(d.db, m.id, d.token, item.id, {
      status: finalize ? 'done' : 'blocked',
      del: ['task'],
      set: { reviewerApproved: 'true', artifacts: JSON.stringify(approved.artifacts) },
      event: 'mission.item',
      text: `${item.title}: approved${finalize ? ', done' : ''}`,
    }),
  );
};

/**
 * Submitted work: the item records it and the branch it is on, watches its pull requests, and
 * waits for review if it needs one (the review and fix tasks it gets work on that branch).
 */
const submitted = async (
  f: Feed,
  item: WorkItem,
  mark: string,
  result: string,
  branch: string | undefined,
): Promise<void> => {
  const { d, write } = f;
  const m = f.snap.mission;
  const out = onWorkSubmitted(item, m.policy, result);
  const artifacts = [...new Set([mark, ...out.artifacts])];
  const onBranch = branch ?? item.branch;
  const next = out.done
    ? ', done'
    : out.needsReview
      ? ', waiting for review'
      : ', waiting on its pull request';
  write(
    updateItem(d.db, m.id, d.token, item.id, {
      status: out.status,
      del: ['task', 'reviewTask'],
      set: {
        artifacts: JSON.stringify(artifacts),
        reviewerApproved: 'false',
        ...(onBranch ? { branch: onBranch } : {}),
      },
      event: 'mission.item',
      text: `${item.title}: submitted${next}`,
    }),
  );
  for (const target of out.watchesFor) {
    for (const kind of PR_WATCHES) {
      const w = newWatch(m, item.id, target, kind, d.db.clock.now());
      await putWatch(d.db, m.id, d.token, w, 'mission.watch', `watching ${w.kind} on ${target}`);
    }
  }
  if (out.needsReview)
    await reviewTask(
      d,
      m,
      { ...item, artifacts, status: 'blocked', ...(onBranch ? { branch: onBranch } : {}) },
      f.pool,
    );
};
