import { SUPERVISOR_ID } from '../model/ids.js';
import { planAssignments, type AvailableAgent } from '../model/routing.js';
import { readyHead, type ReadyHead } from '../store/mission-reads.js';
import { assign } from '../store/missions.js';
import { availableOf, type Pool } from './pool.js';
import { workAssignments } from './tasks.js';
import { READY_HEAD, skipMalformed, type Tick } from './tick-state.js';

/** Starts reading the agent pool when ready work and free slots will want it (read alongside reconcile). */
export const prefetchPool = (t: Tick): Promise<unknown> => {
  const { view } = t;
  return view.mission.policy.maxParallel > view.activeCount && view.readyCount > 0
    ? availableOf(t.d.db, t.pool).catch(() => undefined)
    : Promise.resolve();
};

/** What planning looked at and what it placed. */
interface Planned {
  head: ReadyHead;
  plan: { item: string; agent: string }[];
  /** Whether the head was read as deep as planning may look. */
  whole: boolean;
}

/**
 * Plans the head of the ready queue. Planning never looks past what the free agents and slots can
 * take, unless some of what it looked at could not be placed: then it looks at the whole head,
 * as deep as ever. (A malformed item in the head is skipped, not a reason to read it all again.)
 */
const planHead = async (t: Tick, available: AvailableAgent[], slots: number): Promise<Planned> => {
  const room = available.reduce((n, a) => n + Math.max(0, Math.floor(a.capacity - a.load)), 0);
  const want = Math.min(slots, room);
  let head = await readyHead(t.d.db, t.id, want, READY_HEAD);
  skipMalformed(t, head.malformed);
  let plan = planAssignments({ ready: head.items, agents: available, slots });
  const whole = head.read >= Math.min(READY_HEAD, head.readyCount);
  if (plan.length >= Math.min(want, head.items.length) || whole) return { head, plan, whole };
  head = await readyHead(t.d.db, t.id, READY_HEAD, READY_HEAD);
  skipMalformed(t, head.malformed);
  plan = planAssignments({ ready: head.items, agents: available, slots });
  return { head, plan, whole: true };
};

/** The loads the plan adds, so later missions of this tick route around them. */
const charge = (pool: Pool, available: AvailableAgent[], plan: Planned['plan']): void => {
  const byAgent = new Map(available.map((a) => [a.id, a]));
  for (const p of plan) {
    const a = byAgent.get(p.agent);
    if (a) a.load++;
  }
  pool.available = available.filter((a) => a.capacity - a.load > 0);
};

/**
 * The scheduler's last part: ready items go to free agents, best rank first, as many as the
 * mission's free slots allow. A report says when ready work stayed ready though slots were free.
 */
export const assignReady = async (t: Tick): Promise<void> => {
  const { d, view, report } = t;
  const slots = view.mission.policy.maxParallel - view.activeCount;
  const available = slots > 0 && view.readyCount > 0 ? await availableOf(d.db, t.pool) : [];
  if (available.length === 0) return;
  const { head, plan, whole } = await planHead(t, available, slots);
  if (head.items.length === 0) return;
  const list = workAssignments(plan, head.items);
  const r = list.length ? await assign(d.db, t.id, d.token, SUPERVISOR_ID, list) : { assigned: 0 };
  report.assigned = r.assigned;
  // The ready items of the head as deep as planning may look (those read, or all of it).
  const seen = whole
    ? head.items.length
    : Math.min(READY_HEAD, head.readyCount) - (head.read - head.items.length);
  if (plan.length < Math.min(slots, seen)) report.unassignable = true;
  charge(t.pool, available, plan);
  if (r.assigned) {
    report.progress = true;
    t.stale = true;
  }
};
