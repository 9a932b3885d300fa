import { assessHelp, helpMessage, isStalled, nextHelpState, shouldSendHelp } from '../model/help.js';
import { SUPERVISOR_ID } from '../model/ids.js';
import { isTerminalMission, type Mission, type Watch } from '../model/mission.js';
import { isTerminalTask } from '../model/task.js';
import type { Db } from '../store/db.js';
import { readSnapshot, type MissionView } from '../store/mission-reads.js';
import { updateMission } from '../store/missions.js';
import { readTasks } from '../store/tasks.js';
import { availableOf } from './pool.js';
import { freshView, say, type Tick } from './tick-state.js';

/** The mission fields the tick's last write sets and deletes, and the state it moves to, if any. */
interface Standing {
  state?: Mission['state'];
  set: Record<string, string | number>;
  del: string[];
}

/**
 * The tick's last step, one write: the tick's stamp, the mission completed when every item is
 * done and no watch is open, else when it is next due and what it waits on; and a help prompt
 * when the mission needs the operator.
 */
export const settle = async (t: Tick): Promise<void> => {
  const view = await freshView(t);
  const m = view.mission;
  const openWatches = view.watches.filter((w) => w.status !== 'done');
  const { state, set, del } = standing(t, view, openWatches);
  t.report.state = state ?? m.state;
  const help = state || isTerminalMission(m.state) ? undefined : await askForHelp(t, view, openWatches, set);
  await updateMission(t.d.db, t.id, t.d.token, {
    ...(state ? { state, event: 'mission.state', text: 'all work items done' } : {}),
    set,
    del,
    ...(help ? { help, retireHelp: true, event: 'mission.help', text: t.report.help! } : {}),
  });
  if (set.nextWakeAt) t.report.nextWakeAt = Number(set.nextWakeAt);
};

/** Completed, or (running) when its next watch is due and, with no ready or live item, what it waits on. */
const standing = (t: Tick, view: MissionView, openWatches: Watch[]): Standing => {
  const m = view.mission;
  const set: Standing['set'] = { lastTickAt: t.now, lastTick: t.d.ticks, lastTickBy: t.d.token };
  const del: string[] = [];
  if (t.report.progress) set.lastProgressAt = t.now;
  if (m.state !== 'running') return { set, del };
  if (m.itemsTotal > 0 && m.itemsDone >= m.itemsTotal && openWatches.length === 0)
    return { state: 'completed', set, del: [...del, 'nextWakeAt', 'blockedReason'] };
  const nextDue = Math.min(...openWatches.map((w) => w.nextDueAt));
  if (Number.isFinite(nextDue)) set.nextWakeAt = nextDue;
  else del.push('nextWakeAt');
  if (view.readyCount === 0 && view.activeCount === 0)
    set.blockedReason = openWatches.length
      ? `Waiting on ${openWatches.length} active watch(es)`
      : 'Waiting on dependency, review, or external watch';
  else del.push('blockedReason');
  return { set, del };
};

/**
 * The help prompt for the supervisor when the mission needs help and it is time to ask (again);
 * the mission's help state goes into `set`.
 */
const askForHelp = async (
  t: Tick,
  view: MissionView,
  openWatches: Watch[],
  set: Standing['set'],
): Promise<object | undefined> => {
  const { d, id, now, report } = t;
  const m = view.mission;
  const reason = await helpReason(t, view, openWatches.length, set.blockedReason);
  const cfg = { repeatSecs: d.config.helpRepeatSecs, backoffCap: d.config.helpBackoffCap };
  if (!reason || !shouldSendHelp(m, reason, now, cfg)) return undefined;
  Object.assign(set, nextHelpState(m, reason, now));
  report.help = reason;
  say(t, `asked for help: ${reason}`);
  return {
    type: 'query',
    question: helpMessage(id, reason),
    from: SUPERVISOR_ID,
    priority: 'high',
    mission: id,
  };
};

/** Why the mission needs help (model/help.ts assessHelp), or undefined. */
const helpReason = async (
  t: Tick,
  view: MissionView,
  watchesActive: number,
  waitingOn: string | number | undefined,
): Promise<string | undefined> => {
  const { d, id, now, report, pool } = t;
  const m = view.mission;
  const lastProgressAt = report.progress ? now : m.lastProgressAt;
  // Ready work that no agent with room could take counts as no idle agent. (The count is
  // only looked at when there is ready work.)
  const idleAgents = report.unassignable
    ? 0
    : (pool.available ?? (view.readyCount > 0 ? await availableOf(d.db, pool) : [])).length;
  // The oldest live task matters only to a mission without progress for a while.
  const stalled =
    !(view.readyCount > 0 && idleAgents === 0) && isStalled(lastProgressAt, now, d.config.tickMs);
  const blockedReason = waitingOn ? String(waitingOn) : m.state === 'blocked' ? m.blockedReason : undefined;
  // A watch that cannot decide alone asks even while watches are active.
  if (report.askOperator) return `Mission ${id} needs the operator: ${report.askOperator}`;
  return assessHelp({
    mission: {
      id,
      state: m.state,
      ...(lastProgressAt !== undefined ? { lastProgressAt } : {}),
      ...(blockedReason ? { blockedReason } : {}),
    },
    readyCount: view.readyCount,
    idleAgents,
    watchesActive,
    ...(stalled ? await staleTask(d.db, id) : {}),
    now,
    tickMs: d.config.tickMs,
  });
};

/** The live task of the mission that changed longest ago, from its live items. */
const staleTask = async (db: Db, id: string): Promise<{ staleTask?: { id: string; updatedAt: number } }> => {
  const snap = await readSnapshot(db, id, 1);
  const ids = (snap?.active ?? []).map((i) => i.task).filter((t): t is string => Boolean(t));
  if (!ids.length) return {};
  const tasks = await readTasks(db, ids);
  const live = tasks.items.filter((t) => !isTerminalTask(t.state)).sort((a, b) => a.updatedAt - b.updatedAt);
  return live[0] ? { staleTask: { id: live[0].id, updatedAt: live[0].updatedAt } } : {};
};
