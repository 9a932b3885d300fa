import { createHash, randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { GitHubClient } from '../github/client.js';
import { parseIssueRef } from '../model/github-ref.js';
import { isTerminalAgent, type Agent } from '../model/agent.js';
import { assessHelp, helpMessage, isStalled, nextHelpState, shouldSendHelp } from '../model/help.js';
import { SUPERVISOR_ID } from '../model/ids.js';
import {
  isTerminalMission,
  type ControlNote,
  type Mission,
  type Watch,
  type WorkItem,
} from '../model/mission.js';
import { NoteError, parseNote, resolveItemRef } from '../model/notes.js';
import { resolveAgentRef } from '../model/resolve.js';
import { laneOf, planAssignments, routeScore, type AvailableAgent } from '../model/routing.js';
import {
  canFinalize,
  onReviewResult,
  onWorkSubmitted,
  PR_WATCHES,
  requiresReview,
} from '../model/submission.js';
import { Task, isTerminalTask } from '../model/task.js';
import { isDue, watchPlan, type PrState } from '../model/watch.js';
import { listAgents } from '../store/agents.js';
import type { Db } from '../store/db.js';
import {
  activeMismatches,
  availableAgents,
  blockedItems,
  dropTouched,
  leaseAndView,
  readSnapshot,
  readView,
  readyHead,
  touchedMismatches,
  type ActiveMismatch,
  type MissionSnapshot,
  type MissionView,
} from '../store/mission-reads.js';
import {
  activeMissionIds,
  assign,
  dropCompletions,
  getItem,
  lease,
  LeaseLost,
  markNote,
  putWatch,
  readEachItem,
  readItems,
  takeCompletions,
  updateItem,
  updateMission,
  waitForDispatchWake,
  type Assignment,
} from '../store/missions.js';
import { MalformedRecordError } from '../store/records.js';
import type { Malformed } from '../model/hash.js';
import { sendMessage } from '../store/messages.js';
import { moveTask, readEachTask, readTasks, taskState } from '../store/tasks.js';
import type { DispatchConfig } from './config.js';

/** One dispatcher: its fencing token, its settings, and what it talks to. */
export interface Dispatcher {
  db: Db;
  token: string;
  config: DispatchConfig;
  github?: GitHubClient;
  log?: (line: string) => void;
  /** Ticks run so far (the receipts of control notes name the tick). */
  ticks: number;
  /** Test hook: "hold-lease" pauses each mission tick right after taking the lease. */
  failpoint?: string;
  /**
   * Missions whose live items this dispatcher has checked in full since it took their lease:
   * their later ticks check only the items touched since (see reconcile).
   */
  swept?: Set<string>;
}

export const newDispatcher = (
  db: Db,
  config: DispatchConfig,
  github?: GitHubClient,
  log?: (line: string) => void,
): Dispatcher => ({
  db,
  token: randomUUID(),
  config,
  ...(github ? { github } : {}),
  ...(log ? { log } : {}),
  ticks: 0,
  swept: new Set(),
});

export interface MissionTickReport {
  mission: string;
  status: 'ticked' | 'held' | 'skipped' | 'lost';
  holder?: string;
  state?: Mission['state'];
  assigned: number;
  completions: number;
  promoted: number;
  notes: { id: string; effect: string }[];
  watchesChecked: number;
  help?: string;
  progress: boolean;
  nextWakeAt?: number;
  /** Ready items stayed ready though slots were free: no agent with room could take them. */
  unassignable?: boolean;
  /** Records this tick could not read (a finished task or its item), reported and skipped. */
  malformed?: string[];
}

/** Ready items one tick plans over at most, best rank first. */
export const READY_HEAD = 1000;

/** The work tasks a plan makes: one per planned item, tagged with the item's role and capabilities. */
export const workAssignments = (
  plan: { item: string; agent: string }[],
  items: Pick<WorkItem, 'id' | 'ownerRole' | 'caps'>[],
): Assignment[] => {
  const byId = new Map(items.map((i) => [i.id, i]));
  return plan.map((p) => {
    const item = byId.get(p.item)!;
    return {
      item: item.id,
      agent: p.agent,
      task: randomUUID(),
      prefix: 'Mission Work Item',
      extra: 'When done, complete the task with the PR URL (or owner/repo#N) as its result.',
      priority: 'normal',
      tags: itemTags(item),
      role: 'work',
      mode: 'ready',
    };
  });
};
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

/** Malformed records each dispatcher has logged: a record is logged once, reported every tick. */
const logged = new WeakMap<Dispatcher, Set<string>>();
/** A record the tick could not read is reported (the tick report, the log once) and skipped. */
const reportMalformed = (d: Dispatcher, report: MissionTickReport, line: string) => {
  const list = (report.malformed ??= []);
  if (!list.includes(line)) list.push(line);
  let seen = logged.get(d);
  if (!seen) logged.set(d, (seen = new Set()));
  if (seen.has(line)) return;
  seen.add(line);
  d.log?.(`mission ${report.mission.slice(0, 8)}: skipped malformed record ${line}`);
};

/** The pool read in flight, so a second caller waits for it instead of reading again. */
const poolReads = new WeakMap<Pool, Promise<AvailableAgent[]>>();
const availableOf = async (db: Db, pool: Pool): Promise<AvailableAgent[]> => {
  if (pool.available) return pool.available;
  let read = poolReads.get(pool);
  if (!read) {
    read = availableAgents(db, CAPACITY).then((list) =>
      list.map((a) => ({
        id: a.id,
        name: a.name,
        ...(a.role ? { role: a.role } : {}),
        caps: a.caps,
        load: a.load,
        capacity: CAPACITY,
      })),
    );
    poolReads.set(pool, read);
  }
  const list = await read;
  return (pool.available ??= list);
};

const everyone = async (db: Db, pool: Pool): Promise<Agent[]> =>
  (pool.all ??= (await listAgents(db)).items.filter((a) => !isTerminalAgent(a.state)));

/** A watch's id is derived from what it watches (UUID-shaped), so re-submitting a PR finds the same watches. */
const watchId = (item: string, kind: string, target: string) => {
  const h = createHash('sha256').update(`${item} ${kind} ${target}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
};

const toPrState = async (github: GitHubClient, target: string): Promise<PrState | { error: string }> => {
  try {
    const p = await github.pull(parseIssueRef(target));
    return {
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

/** The best agent (highest route score, then least loaded, then name) for an item-like piece of work. */
const bestAgent = async (
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

/**
 * One tick of one mission, under its lease: control notes, finished tasks, due watches, the
 * scheduler (reconcile, finalize, assign), completion, and help escalation. Every write checks
 * the lease inside its script, so a dispatcher that lost the lease (paused past its TTL, say)
 * writes nothing; it learns so from the first refused write and stops this mission's tick.
 *
 * It reads what it needs when it needs it: the mission record and the sizes of its queues come
 * with the lease; notes, finished tasks, due watches and blocked items are read only when there
 * are some; live items are checked against their tasks inside Redis; the ready queue is read only
 * as deep as the free agents and slots can take; and the agent pool only when there is ready work.
 */
export const tickMission = async (d: Dispatcher, id: string, pool: Pool = {}): Promise<MissionTickReport> => {
  const { db, token, config } = d;
  const now = db.clock.now();
  const report: MissionTickReport = {
    mission: id,
    status: 'ticked',
    assigned: 0,
    completions: 0,
    promoted: 0,
    notes: [],
    watchesChecked: 0,
    progress: false,
  };
  const opened = await leaseAndView(db, id, token, config.leaseTtlMs);
  // A lease taken afresh (first tick, or again after losing it) starts with a full sweep.
  if (opened.lease.status !== 'renewed') d.swept?.delete(id);
  if (opened.lease.status === 'held') return { ...report, status: 'held', holder: opened.lease.holder };
  let view = opened.view;
  if (d.failpoint === 'hold-lease') {
    d.log?.(`failpoint hold-lease: holding the lease on ${id.slice(0, 8)} (token ${token.slice(0, 8)})`);
    await new Promise((r) => setTimeout(r, 500));
    view = await readView(db, id);
  }
  try {
    if (!view) return { ...report, status: 'skipped' };
    report.state = view.mission.state;
    const say = (line: string) => d.log?.(`mission ${id.slice(0, 8)}: ${line}`);
    const skipAll = (list: Malformed[]) =>
      list.forEach((x) => reportMalformed(d, report, `${x.key}: ${x.problem}`));
    skipAll(view.malformed);
    // Whether this tick wrote since `view` was read; a stale view is read again before it is used.
    let stale = false;
    const reread = async (v: MissionView): Promise<MissionView> => {
      stale = false;
      return (await readView(db, id)) ?? v;
    };

    // 1. Control notes, oldest first.
    if (view.notesPending > 0) {
      const snap = await readSnapshot(db, id, READY_HEAD);
      if (!snap) return { ...report, status: 'skipped' };
      for (const note of snap.notes.sort((a, b) => a.createdAt - b.createdAt)) {
        const effect = await applyNote(d, snap, note, pool);
        report.notes.push({ id: note.id, effect });
        if (!effect.startsWith('ignored') && !effect.startsWith('noted')) report.progress = true;
        await markNote(db, token, { ...note, processedAt: now, tick: d.ticks, effect });
        say(`note "${note.body}": ${effect}`);
      }
      if (report.notes.length) view = await reread(view);
    }
    let m = view.mission;

    if (m.state === 'planning' || isTerminalMission(m.state)) {
      report.state = m.state;
      return report;
    }

    // 2. Finished mission tasks.
    if (view.completions > 0) {
      const done = await takeCompletions(db, id, token, config.completionsPerTick);
      if (done.length && (await applyCompletions(d, view, done, pool, report))) report.progress = true;
      if (done.length) {
        await dropCompletions(db, id, token, done.length);
        report.completions = done.length;
        view = await reread(view);
      }
    }

    // 3. Due watches.
    const due = d.github ? view.watches.filter((x) => isDue(x, now)) : [];
    if (d.github && due.length) {
      // The items as they were before the watches act on them.
      const ids = [...new Set(due.map((w) => w.item))];
      const items = new Map((await readItems(db, id, ids)).items.map((i) => [i.id, i]));
      for (const w of due) {
        report.watchesChecked++;
        const step = watchPlan(w, await toPrState(d.github, w.target), now, {
          snoozeSecs: config.watchSnoozeSecs,
          maxFailures: config.watchMaxFailures,
        });
        await putWatch(
          db,
          id,
          token,
          step.watch,
          step.watch.status !== w.status ? 'mission.watch' : '',
          `${w.kind} ${w.target}: ${step.watch.status}`,
        );
        const item = items.get(w.item);
        if (!item) continue;
        if (step.action.type === 'blockItem')
          await updateItem(db, id, token, item.id, {
            status: 'blocked',
            event: 'mission.item',
            text: step.action.reason,
          });
        if (step.action.type === 'trigger') {
          report.progress = true;
          if (step.action.action === 'create_fix_task')
            await fixTask(
              d,
              m,
              item,
              pool,
              `${w.kind} on ${w.target} needs a fix (head ${step.action.headSha.slice(0, 7) || 'unknown'})`,
              w.id,
            );
          else if (step.action.action === 'advance_pipeline')
            await updateItem(db, id, token, item.id, {
              set: { artifacts: JSON.stringify([...new Set([...item.artifacts, w.target])]) },
              event: 'mission.item',
              text: `${w.target} is mergeable and green`,
            });
          else
            for (const a of (await everyone(db, pool)).filter((x) => laneOf(x) === 'reviewer')) {
              await sendMessage(
                db,
                {
                  from: SUPERVISOR_ID,
                  to: a.id,
                  body: { type: 'informational', summary: `${w.kind} on ${w.target} for "${item.title}"` },
                  priority: 'normal',
                },
                `notify reviewer: ${w.target}`,
              );
            }
        }
        if (step.watch.status === 'done' || step.action.type !== 'none') report.progress = true;
      }
      view = await reread(view);
    }

    // 4. Scheduler: reconcile live work with its tasks, finalize waiting items, assign ready ones.
    if (view.mission.state === 'running') {
      // Ready work and free slots will want the agent pool: read it alongside the live items' check.
      const prefetch =
        view.mission.policy.maxParallel > view.activeCount && view.readyCount > 0
          ? availableOf(db, pool).catch(() => undefined)
          : undefined;
      if (view.activeCount > 0 && (await reconcile(d, id))) {
        report.progress = true;
        view = await reread(view);
      }
      if (view.blockedCount > 0) {
        const mission = view.mission;
        for (const item of (await blockedItems(db, id)).filter((i) => i.status === 'blocked')) {
          if (canFinalize(item, view.watches, mission.policy)) {
            const r = await updateItem(db, id, token, item.id, {
              status: 'done',
              event: 'mission.item',
              text: `${item.title}: done`,
            });
            report.promoted += r?.promoted ?? 0;
            report.progress = true;
            stale = true;
          } else if (wantsReview(item, mission) && !(await reviewOut(db, item))) {
            if (await reviewTask(d, mission, item, pool)) {
              report.progress = true;
              stale = true;
            }
          }
        }
        if (stale) view = await reread(view);
      }
      await prefetch;
      const slots = view.mission.policy.maxParallel - view.activeCount;
      const available = slots > 0 && view.readyCount > 0 ? await availableOf(db, pool) : [];
      if (available.length > 0) {
        // Planning never looks past what the free agents and slots can take, unless some of
        // what it looked at could not be placed: then it looks at the whole head, as deep as ever.
        const room = available.reduce((n, a) => n + Math.max(0, Math.floor(a.capacity - a.load)), 0);
        const want = Math.min(slots, room);
        let head = await readyHead(db, id, want, READY_HEAD);
        skipAll(head.malformed);
        let plan = planAssignments({ ready: head.items, agents: available, slots });
        let whole = head.read >= Math.min(READY_HEAD, head.readyCount);
        // (A malformed item in the head is skipped, not a reason to read it all again.)
        if (plan.length < Math.min(want, head.items.length) && !whole) {
          head = await readyHead(db, id, READY_HEAD, READY_HEAD);
          skipAll(head.malformed);
          plan = planAssignments({ ready: head.items, agents: available, slots });
          whole = true;
        }
        if (head.items.length > 0) {
          const list = workAssignments(plan, head.items);
          const r = list.length ? await assign(db, id, token, SUPERVISOR_ID, list) : { assigned: 0 };
          report.assigned = r.assigned;
          // The ready items of the head as deep as planning may look (those read, or all of it).
          const seen = whole
            ? head.items.length
            : Math.min(READY_HEAD, head.readyCount) - (head.read - head.items.length);
          if (plan.length < Math.min(slots, seen)) report.unassignable = true;
          const byAgent = new Map(available.map((a) => [a.id, a]));
          for (const p of plan) {
            const a = byAgent.get(p.agent);
            if (a) a.load++;
          }
          pool.available = available.filter((a) => a.capacity - a.load > 0);
          if (r.assigned) {
            report.progress = true;
            stale = true;
          }
        }
      }
    }

    // 5. Completion, waiting, help.
    const fresh = stale ? await reread(view) : view;
    m = fresh.mission;
    const openWatches = fresh.watches.filter((w) => w.status !== 'done');
    const set: Record<string, string | number> = { lastTickAt: now, lastTick: d.ticks, lastTickBy: token };
    const del: string[] = [];
    if (report.progress) set.lastProgressAt = now;
    let state: Mission['state'] | undefined;
    if (
      m.state === 'running' &&
      m.itemsTotal > 0 &&
      m.itemsDone >= m.itemsTotal &&
      openWatches.length === 0
    ) {
      state = 'completed';
      del.push('nextWakeAt', 'blockedReason');
    } else if (m.state === 'running') {
      const nextDue = Math.min(...openWatches.map((w) => w.nextDueAt));
      if (Number.isFinite(nextDue)) set.nextWakeAt = nextDue;
      else del.push('nextWakeAt');
      if (fresh.readyCount === 0 && fresh.activeCount === 0)
        set.blockedReason = openWatches.length
          ? `Waiting on ${openWatches.length} active watch(es)`
          : 'Waiting on dependency, review, or external watch';
      else del.push('blockedReason');
    }
    report.state = state ?? m.state;
    let help: object | undefined;
    if (!state && !isTerminalMission(m.state)) {
      const lastProgressAt = report.progress ? now : m.lastProgressAt;
      // Ready work that no agent with room could take counts as no idle agent. (The count is
      // only looked at when there is ready work.)
      const idleAgents = report.unassignable
        ? 0
        : (pool.available ?? (fresh.readyCount > 0 ? await availableOf(db, pool) : [])).length;
      // The oldest live task matters only to a mission without progress for a while.
      const stalled =
        !(fresh.readyCount > 0 && idleAgents === 0) && isStalled(lastProgressAt, now, config.tickMs);
      const reason = assessHelp({
        mission: {
          id,
          state: m.state,
          ...(lastProgressAt !== undefined ? { lastProgressAt } : {}),
          ...(set.blockedReason
            ? { blockedReason: String(set.blockedReason) }
            : m.state === 'blocked' && m.blockedReason
              ? { blockedReason: m.blockedReason }
              : {}),
        },
        readyCount: fresh.readyCount,
        idleAgents,
        watchesActive: openWatches.length,
        ...(stalled ? await staleTask(db, id) : {}),
        now,
        tickMs: config.tickMs,
      });
      if (
        reason &&
        shouldSendHelp(m, reason, now, {
          repeatSecs: config.helpRepeatSecs,
          backoffCap: config.helpBackoffCap,
        })
      ) {
        const next = nextHelpState(m, reason, now);
        Object.assign(set, next);
        help = {
          type: 'query',
          question: helpMessage(id, reason),
          from: SUPERVISOR_ID,
          priority: 'high',
          mission: id,
        };
        report.help = reason;
        say(`asked for help: ${reason}`);
      }
    }
    await updateMission(db, id, token, {
      ...(state ? { state, event: 'mission.state', text: 'all work items done' } : {}),
      set,
      del,
      ...(help ? { help, retireHelp: true, event: 'mission.help', text: report.help! } : {}),
    });
    if (set.nextWakeAt) report.nextWakeAt = Number(set.nextWakeAt);
    return report;
  } catch (e) {
    if (e instanceof LeaseLost) return { ...report, status: 'lost' };
    throw e;
  }
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

/** A mission task's tags: its item's owner role and capabilities (what routing and claims match). */
const itemTags = (item: Pick<WorkItem, 'ownerRole' | 'caps'>): string[] => [
  ...new Set([...(item.ownerRole ? [item.ownerRole] : []), ...item.caps]),
];

/** The live task of the mission that changed longest ago, from its live items. */
const staleTask = async (db: Db, id: string): Promise<{ staleTask?: { id: string; updatedAt: number } }> => {
  const snap = await readSnapshot(db, id, 1);
  const ids = (snap?.active ?? []).map((i) => i.task).filter((t): t is string => Boolean(t));
  if (!ids.length) return {};
  const tasks = await readTasks(db, ids);
  const live = tasks.items.filter((t) => !isTerminalTask(t.state)).sort((a, b) => a.updatedAt - b.updatedAt);
  return live[0] ? { staleTask: { id: live[0].id, updatedAt: live[0].updatedAt } } : {};
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
  for (const { item, task } of mismatches) {
    if (!task || task.state === 'cancelled') {
      await updateItem(db, id, token, item.id, {
        status: 'ready',
        del: ['assignedTo', 'task'],
        event: 'mission.item',
        text: `${item.title}: released (its task is gone)`,
      });
      changed = true;
    } else if (task.state === 'running' && item.status === 'assigned') {
      await updateItem(db, id, token, item.id, {
        status: 'running',
        ...(task.assignedTo ? { set: { assignedTo: task.assignedTo } } : {}),
      });
      changed = true;
    } else if (task.assignedTo && task.assignedTo !== item.assignedTo) {
      await updateItem(db, id, token, item.id, {
        set: { assignedTo: task.assignedTo },
        event: 'mission.item',
        text: `${item.title}: rebound to ${task.assignedTo.slice(0, 8)}`,
      });
      changed = true;
    }
  }
  swept.add(id);
  return changed;
};

const itemOf = async (db: Db, mission: string, item: string | undefined): Promise<WorkItem | undefined> =>
  item ? getItem(db, mission, item) : undefined;

/**
 * Finished mission tasks feed their items, in order. Their tasks and items are read up front
 * (an item an earlier one wrote is read again), and the item updates go out without waiting for
 * each other's reply; whatever follows an update (watches, a review or fix task) is sent after it.
 * Returns whether any made progress.
 */
const applyCompletions = async (
  d: Dispatcher,
  snap: Pick<MissionView, 'mission' | 'watches'>,
  ids: string[],
  pool: Pool,
  report: MissionTickReport,
): Promise<boolean> => {
  const { db } = d;
  const m = snap.mission;
  const tasks = await readEachTask(db, ids);
  const itemIds = [
    ...new Set(
      tasks.flatMap((t) => (t && !(t instanceof MalformedRecordError) && t.workItem ? [t.workItem] : [])),
    ),
  ];
  const read = await readEachItem(db, m.id, itemIds);
  const items = new Map(itemIds.map((i, k) => [i, read[k]]));
  const touched = new Set<string>();
  const writes: Promise<unknown>[] = [];
  let failed: unknown;
  const write = (p: Promise<unknown>) => void writes.push(p.catch((e: unknown) => void (failed ??= e)));
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
          ? await itemOf(db, m.id, wi).catch((e: unknown) =>
              e instanceof MalformedRecordError ? e : Promise.reject(e),
            )
          : wi
            ? items.get(wi)
            : undefined;
      if (item instanceof MalformedRecordError) {
        skip(item);
        continue;
      }
      if (await applyCompletion(d, snap, taskId, task, item, pool, write)) progress = true;
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
  d: Dispatcher,
  snap: Pick<MissionView, 'mission' | 'watches'>,
  taskId: string,
  task: Task | undefined,
  item: WorkItem | undefined,
  pool: Pool,
  write: (p: Promise<unknown>) => void,
): Promise<boolean> => {
  const { db, token } = d;
  const m = snap.mission;
  if (!task || !item || item.status === 'done') return false;
  const mark = `task:${taskId}`;
  if (item.artifacts.includes(mark)) return false;
  if (task.state === 'failed') {
    write(
      updateItem(db, m.id, token, item.id, {
        status: 'blocked',
        del: ['task'],
        set: { artifacts: JSON.stringify([...item.artifacts, mark]) },
        event: 'mission.item',
        text: `${item.title}: its task failed for good (${task.lastError ?? 'no reason'})`,
      }),
    );
    return true;
  }
  if (task.state !== 'completed') return false;
  if (task.missionRole === 'review') {
    if (onReviewResult(task.result ?? '') === 'reject') {
      write(
        updateItem(db, m.id, token, item.id, {
          status: 'blocked',
          del: ['task', 'reviewTask'],
          set: { reviewerApproved: 'false', artifacts: JSON.stringify([...item.artifacts, mark]) },
          event: 'mission.item',
          text: `${item.title}: changes requested`,
        }),
      );
      await fixTask(d, m, { ...item, status: 'blocked' }, pool, `review asked for changes: ${task.result}`);
    } else {
      const approved = {
        ...item,
        status: 'blocked' as const,
        reviewerApproved: true,
        artifacts: [...item.artifacts, mark],
      };
      const finalize = canFinalize(approved, snap.watches, m.policy);
      write(
        updateItem(db, m.id, token, item.id, {
          status: finalize ? 'done' : 'blocked',
          del: ['task'],
          set: { reviewerApproved: 'true', artifacts: JSON.stringify(approved.artifacts) },
          event: 'mission.item',
          text: `${item.title}: approved${finalize ? ', done' : ''}`,
        }),
      );
    }
    return true;
  }
  const out = onWorkSubmitted(item, m.policy, task.result ?? '');
  const artifacts = [...new Set([mark, ...out.artifacts])];
  write(
    updateItem(db, m.id, token, item.id, {
      status: out.status,
      del: ['task', 'reviewTask'],
      set: { artifacts: JSON.stringify(artifacts), reviewerApproved: 'false' },
      event: 'mission.item',
      text: `${item.title}: submitted${out.done ? ', done' : out.needsReview ? ', waiting for review' : ', waiting on its pull request'}`,
    }),
  );
  for (const target of out.watchesFor) {
    for (const { kind, onTrigger } of PR_WATCHES) {
      const w: Watch = {
        id: watchId(item.id, kind, target),
        mission: m.id,
        item: item.id,
        kind,
        target,
        intervalSecs: m.policy.watchIntervalSecs,
        nextDueAt: d.db.clock.now(),
        status: 'active',
        onTrigger,
        failures: 0,
      };
      await putWatch(db, m.id, token, w, 'mission.watch', `watching ${kind} on ${target}`);
    }
  }
  if (out.needsReview) await reviewTask(d, m, { ...item, artifacts, status: 'blocked' }, pool);
  return true;
};

/** A review task for an item, to the best reviewer; false when no agent can review now (retried next tick). */
const reviewTask = async (d: Dispatcher, m: Mission, item: WorkItem, pool: Pool): Promise<boolean> => {
  // Nobody reviews their own work: with no other agent the review waits (and help is asked for).
  const agent = await bestAgent(d.db, pool, { kind: 'review', caps: [] }, undefined, item.assignedTo);
  if (!agent) return false;
  const latest =
    item.artifacts
      .filter((a) => !a.startsWith('task:'))
      .slice(-3)
      .join(', ') || 'see the work item';
  const taskId = randomUUID();
  const r = await assign(d.db, m.id, d.token, SUPERVISOR_ID, [
    {
      item: item.id,
      agent,
      task: taskId,
      prefix: 'Mission Review',
      extra: `Review the submitted work (${latest}). Complete with a result that starts "approved: ..." or "rejected: <what to change>".`,
      priority: 'high',
      tags: ['reviewer'],
      role: 'review',
      mode: 'keep',
    },
  ]);
  if (r.assigned) await updateItem(d.db, m.id, d.token, item.id, { set: { reviewTask: taskId } });
  return r.assigned > 0;
};

/** A fix task for an item: to its assignee, else the best agent for it; the item is assigned again. */
const fixTask = async (
  d: Dispatcher,
  m: Mission,
  item: WorkItem,
  pool: Pool,
  why: string,
  watch?: string,
): Promise<void> => {
  const agent = await bestAgent(d.db, pool, item, item.assignedTo);
  if (!agent) return;
  await assign(d.db, m.id, d.token, SUPERVISOR_ID, [
    {
      item: item.id,
      agent,
      task: randomUUID(),
      prefix: 'Mission Fix',
      extra: `${why}\nComplete with the PR URL (or owner/repo#N) as the result when fixed.`,
      priority: 'high',
      tags: itemTags(item),
      role: 'fix',
      ...(watch ? { watch } : {}),
      mode: 'take',
    },
  ]);
};

/** Applies one control note; returns its effect (the receipt). */
const applyNote = async (
  d: Dispatcher,
  snap: MissionSnapshot,
  note: ControlNote,
  pool: Pool,
): Promise<string> => {
  const { db, token } = d;
  const m = snap.mission;
  let parsed;
  try {
    parsed = parseNote(note.body);
  } catch (e) {
    return `ignored: ${(e as NoteError).message}`;
  }
  switch (parsed.kind) {
    case 'resume': {
      if (m.state !== 'blocked') return `ignored: resume while the mission is ${m.state}`;
      for (const w of snap.watches.filter((x) => x.status !== 'done'))
        await putWatch(
          db,
          m.id,
          token,
          { ...w, status: 'done' },
          'mission.watch',
          `${w.kind} ${w.target}: done (resumed by ${note.sender})`,
        );
      await updateMission(db, m.id, token, {
        state: 'running',
        del: ['blockedReason', 'helpAt', 'helpReason'],
        set: { helpAttempts: 0 },
        retireHelp: true,
        event: 'mission.state',
        text: `resumed by ${note.sender}`,
      });
      return 'resumed';
    }
    case 'pause': {
      if (m.state !== 'running') return `ignored: pause while the mission is ${m.state}`;
      await updateMission(db, m.id, token, {
        state: 'blocked',
        set: { blockedReason: `Paused by ${note.sender}: ${note.body}` },
        retireHelp: true,
        event: 'mission.state',
        text: `paused by ${note.sender}`,
      });
      return 'paused';
    }
    case 'redirect': {
      const items = (
        await readItems(
          db,
          m.id,
          [...snap.ready, ...snap.active, ...snap.blocked].map((i) => i.id),
        )
      ).items;
      const agents = await everyone(db, pool);
      let itemId: string;
      let agentId: string;
      try {
        itemId = resolveItemRef(parsed.item, items);
        agentId = resolveAgentRef(parsed.agent, agents, { allowSupervisor: false });
      } catch (e) {
        return `ignored: ${(e as Error).message}`;
      }
      const item = items.find((i) => i.id === itemId)!;
      if (item.task) {
        await moveTask(db, item.task, {
          to: 'cancelled',
          set: { result: `superseded: redirected to ${parsed.agent}` },
          event: 'task.cancelled',
          text: `superseded by a redirect to ${parsed.agent}`,
        }).catch(() => undefined);
      }
      const hasWork = item.artifacts.some((a) => !a.startsWith('task:'));
      await assign(db, m.id, token, SUPERVISOR_ID, [
        {
          item: item.id,
          agent: agentId,
          task: randomUUID(),
          prefix: hasWork ? 'Mission Fix Redirect' : 'Mission Redirect',
          extra: parsed.reason
            ? `Redirected by ${note.sender}: ${parsed.reason}`
            : `Redirected by ${note.sender}.`,
          priority: 'high',
          tags: itemTags(item),
          role: hasWork ? 'fix' : 'work',
          mode: 'take',
        },
      ]);
      if (m.state === 'blocked')
        await updateMission(db, m.id, token, {
          state: 'running',
          del: ['blockedReason'],
          retireHelp: true,
          event: 'mission.state',
          text: `resumed by a redirect from ${note.sender}`,
        });
      return `redirected "${item.title}" to ${parsed.agent}`;
    }
    case 'note':
      return 'noted';
  }
};

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
        if (signal.aborted) break;
        d.log?.(`dispatcher tick failed: ${(e as Error).message}`);
        wait = Math.min(wait, 1000);
      }
      if (signal.aborted) break;
      await waitForDispatchWake(d.db, blocking, wait / 1000);
    }
  } finally {
    signal.removeEventListener('abort', unblock);
    await releaseLeases(d, [...seen]);
  }
};
