import { randomUUID } from 'node:crypto';
import { SUPERVISOR_ID } from '../model/ids.js';
import type { Mission, WorkItem } from '../model/mission.js';
import { assign, updateItem, type Assignment } from '../store/missions.js';
import type { Dispatcher } from './dispatcher.js';
import { bestAgent, type Pool } from './pool.js';

/**
 * The tasks a mission hands out. Every one is built by missionTask from its kind's settings; the
 * script writes the description from the item ("[prefix] title", the mission, the item, its
 * source and body) and adds the `extra` line.
 */
const KINDS = {
  work: { prefix: 'Mission Work Item', priority: 'normal', role: 'work', mode: 'ready' },
  review: { prefix: 'Mission Review', priority: 'high', role: 'review', mode: 'keep' },
  fix: { prefix: 'Mission Fix', priority: 'high', role: 'fix', mode: 'take' },
  redirect: { prefix: 'Mission Redirect', priority: 'high', role: 'work', mode: 'take' },
  fixRedirect: { prefix: 'Mission Fix Redirect', priority: 'high', role: 'fix', mode: 'take' },
} as const satisfies Record<string, Pick<Assignment, 'prefix' | 'priority' | 'role' | 'mode'>>;
export type MissionTaskKind = keyof typeof KINDS;

const WORK_DONE = 'When done, complete the task with the PR URL (or owner/repo#N) as its result.';
const FIX_DONE = 'Complete with the PR URL (or owner/repo#N) as the result when fixed.';
const REVIEW_DONE = 'Complete with a result that starts "approved: ..." or "rejected: <what to change>".';

/** A mission task's tags: its item's owner role and capabilities (what routing and claims match). */
export const itemTags = (item: Pick<WorkItem, 'ownerRole' | 'caps'>): string[] => [
  ...new Set([...(item.ownerRole ? [item.ownerRole] : []), ...item.caps]),
];

/** The one place a mission task's assignment is written: a new task of `kind` on `item` for `agent`. */
export const missionTask = (
  kind: MissionTaskKind,
  item: Pick<WorkItem, 'id' | 'ownerRole' | 'caps'>,
  agent: string,
  extra: string,
  more: { tags?: string[]; watch?: string; branch?: string | undefined } = {},
): Assignment => ({
  ...KINDS[kind],
  item: item.id,
  agent,
  task: randomUUID(),
  extra,
  tags: more.tags ?? itemTags(item),
  ...(more.watch ? { watch: more.watch } : {}),
  ...(more.branch ? { branch: more.branch } : {}),
});

/** The work tasks a plan makes: one per planned item, tagged with the item's role and capabilities. */
export const workAssignments = (
  plan: { item: string; agent: string }[],
  items: Pick<WorkItem, 'id' | 'ownerRole' | 'caps'>[],
): Assignment[] => {
  const byId = new Map(items.map((i) => [i.id, i]));
  return plan.map((p) => missionTask('work', byId.get(p.item)!, p.agent, WORK_DONE));
};

/** Creates one mission task (from the supervisor), under the lease. */
const assignOne = (d: Dispatcher, m: Mission, a: Assignment) =>
  assign(d.db, m.id, d.token, SUPERVISOR_ID, [a]);

/**
 * A review task for an item, to the best reviewer; false when no agent can review now (it is
 * tried again next tick).
 */
export const reviewTask = async (d: Dispatcher, m: Mission, item: WorkItem, pool: Pool): Promise<boolean> => {
  // Nobody reviews their own work: with no other agent the review waits (and help is asked for).
  const agent = await bestAgent(d.db, pool, { kind: 'review', caps: [] }, undefined, item.assignedTo);
  if (!agent) return false;
  const latest =
    item.artifacts
      .filter((a) => !a.startsWith('task:'))
      .slice(-3)
      .join(', ') || 'see the work item';
  // The reviewer checks out the item's branch detached (see branchPlan).
  const task = missionTask('review', item, agent, `Review the submitted work (${latest}). ${REVIEW_DONE}`, {
    tags: ['reviewer'],
    branch: item.branch,
  });
  const r = await assignOne(d, m, task);
  if (r.assigned) await updateItem(d.db, m.id, d.token, item.id, { set: { reviewTask: task.task } });
  return r.assigned > 0;
};

/** A fix task for an item: to its assignee, else the best agent for it; the item is assigned again. */
export const fixTask = async (
  d: Dispatcher,
  m: Mission,
  item: WorkItem,
  pool: Pool,
  why: string,
  watch?: string,
): Promise<void> => {
  const agent = await bestAgent(d.db, pool, item, item.assignedTo);
  if (!agent) return;
  // The fix commits on the item's branch, so its pull request updates.
  await assignOne(
    d,
    m,
    missionTask('fix', item, agent, `${why}\n${FIX_DONE}`, {
      ...(watch ? { watch } : {}),
      branch: item.branch,
    }),
  );
};

/** The item's work handed to `agent`: a fix of what was submitted, or the work itself when nothing was. */
export const redirectTask = async (
  d: Dispatcher,
  m: Mission,
  item: WorkItem,
  agent: string,
  extra: string,
): Promise<void> => {
  const hasWork = item.artifacts.some((a) => !a.startsWith('task:'));
  // A fix of submitted work goes on on the item's branch.
  await assignOne(
    d,
    m,
    missionTask(
      hasWork ? 'fixRedirect' : 'redirect',
      item,
      agent,
      extra,
      hasWork ? { branch: item.branch } : {},
    ),
  );
};
