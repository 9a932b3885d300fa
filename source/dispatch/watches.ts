import { createHash } from 'node:crypto';
import type { GitHubClient } from '../github/client.js';
import { parseIssueRef } from '../model/github-ref.js';
import { SUPERVISOR_ID } from '../model/ids.js';
import type { Mission, TriggerAction, Watch, WatchKind, WorkItem } from '../model/mission.js';
import { laneOf } from '../model/routing.js';
import { isDue, watchPlan, type PrState, type WatchStep } from '../model/watch.js';
import { sendMessage } from '../store/messages.js';
import { putWatch, readItems, updateItem } from '../store/missions.js';
import { everyone } from './pool.js';
import { fixTask } from './tasks.js';
import { reread, type Tick } from './tick-state.js';

/**
 * A watch's id is derived from what it watches (UUID-shaped), so re-submitting a PR finds the
 * same watches.
 */
const watchId = (item: string, kind: string, target: string) => {
  const h = createHash('sha256').update(`${item} ${kind} ${target}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
};

/** A new watch of `kind` on a pull request an item submitted, due now. */
export const newWatch = (
  m: Mission,
  item: string,
  target: string,
  w: { kind: WatchKind; onTrigger: TriggerAction },
  now: number,
): Watch => ({
  id: watchId(item, w.kind, target),
  mission: m.id,
  item,
  kind: w.kind,
  target,
  intervalSecs: m.policy.watchIntervalSecs,
  nextDueAt: now,
  status: 'active',
  onTrigger: w.onTrigger,
  failures: 0,
});

const toPrState = async (github: GitHubClient, target: string): Promise<PrState | { error: string }> => {
  try {
    const p = await github.pull(parseIssueRef(target));
    return {
      state: p.state,
      ci: p.ci,
      mergeable: p.mergeable,
      changesRequested: p.changesRequested,
      bugbotComments: p.bugbotComments,
      headSha: p.headSha,
    };
  } catch (e) {
    return { error: (e as Error).message };
  }
};

/**
 * The tick's third step: every due watch is checked against its pull request, stored with its
 * next due time, and its action run on the item as it was before the watches acted on it.
 */
export const checkDueWatches = async (t: Tick): Promise<void> => {
  const github = t.d.github;
  const due = github ? t.view.watches.filter((x) => isDue(x, t.now)) : [];
  if (!github || !due.length) return;
  const ids = [...new Set(due.map((w) => w.item))];
  const items = new Map((await readItems(t.d.db, t.id, ids)).items.map((i) => [i.id, i]));
  const m = t.view.mission;
  // An item whose PR closed is told once, though each of its watches sees the close.
  const closed = new Set<string>();
  for (const w of due) await checkWatch(t, github, m, w, items.get(w.item), closed);
  await reread(t);
};

/** One due watch: checked, stored, and its action applied to its item (when the item is readable). */
const checkWatch = async (
  t: Tick,
  github: GitHubClient,
  m: Mission,
  w: Watch,
  item: WorkItem | undefined,
  closed: Set<string>,
): Promise<void> => {
  const { d, report } = t;
  const { config } = d;
  report.watchesChecked++;
  const step = watchPlan(w, await toPrState(github, w.target), t.now, {
    snoozeSecs: config.watchSnoozeSecs,
    maxFailures: config.watchMaxFailures,
    requireChecks: config.requireChecks,
  });
  const event = step.watch.status !== w.status ? 'mission.watch' : '';
  await putWatch(d.db, t.id, d.token, step.watch, event, `${w.kind} ${w.target}: ${step.watch.status}`);
  if (!item) return;
  if (step.action.type === 'blockItem')
    await updateItem(d.db, t.id, d.token, item.id, {
      status: 'blocked',
      event: 'mission.item',
      text: step.action.reason,
    });
  if (step.action.type === 'askOperator') report.askOperator = step.action.reason;
  if (step.action.type === 'prClosed' && !closed.has(item.id)) {
    closed.add(item.id);
    await prClosed(t, w, item, step.action.merged);
  }
  if (step.action.type === 'trigger') {
    report.progress = true;
    await trigger(t, m, w, item, step.action);
  }
  if (step.watch.status === 'done' || step.action.type !== 'none') report.progress = true;
};

/**
 * The item's pull request was merged: the item is done (a merge is the work landing, whoever
 * approved it). Closed unmerged: the work did not land, so the item goes back to work (ready,
 * unassigned from its tasks, its approval cleared) and says why in the mission's events.
 */
const prClosed = async (t: Tick, w: Watch, item: WorkItem, merged: boolean): Promise<void> => {
  const { d } = t;
  if (item.status === 'done') return;
  const r = merged
    ? await updateItem(d.db, t.id, d.token, item.id, {
        status: 'done',
        event: 'mission.item',
        text: `${item.title}: ${w.target} was merged, done`,
      })
    : await updateItem(d.db, t.id, d.token, item.id, {
        status: 'ready',
        del: ['task', 'reviewTask'],
        set: { reviewerApproved: 'false' },
        event: 'mission.item',
        text: `${item.title}: ${w.target} was closed without merging, back to work`,
      });
  t.report.promoted += r?.promoted ?? 0;
  t.report.progress = true;
};

/** A triggered watch's action: a fix task, the item's pipeline advanced, or the reviewers told. */
const trigger = async (
  t: Tick,
  m: Mission,
  w: Watch,
  item: WorkItem,
  action: Extract<WatchStep['action'], { type: 'trigger' }>,
): Promise<void> => {
  const { d } = t;
  if (action.action === 'create_fix_task') {
    const head = action.headSha.slice(0, 7) || 'unknown';
    await fixTask(d, m, item, t.pool, `${w.kind} on ${w.target} needs a fix (head ${head})`, w.id);
  } else if (action.action === 'advance_pipeline')
    await updateItem(d.db, t.id, d.token, item.id, {
      set: { artifacts: JSON.stringify([...new Set([...item.artifacts, w.target])]) },
      event: 'mission.item',
      text: `${w.target} is mergeable and green`,
    });
  else
    for (const a of (await everyone(d.db, t.pool)).filter((x) => laneOf(x) === 'reviewer')) {
      const summary = `${w.kind} on ${w.target} for "${item.title}"`;
      await sendMessage(
        d.db,
        { from: SUPERVISOR_ID, to: a.id, body: { type: 'informational', summary }, priority: 'normal' },
        `notify reviewer: ${w.target}`,
      );
    }
};
