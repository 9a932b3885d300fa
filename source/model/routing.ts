import { shortId } from './ids.js';
import type { Agent } from './agent.js';
import type { Mission, WorkItem, WorkKind } from './mission.js';

/**
 * Routing: which agent should take a ready work item. Lanes and score tables follow the
 * reference (tinytown 5.3); capabilities are hard requirements (an item's caps must all be in
 * the agent's caps or role); planning a tick is deterministic and never hands one agent more
 * new items than its spare capacity.
 */

export const LANES = [
  'backend',
  'frontend',
  'devops',
  'tester',
  'reviewer',
  'runner',
  'researcher',
  'generalist',
] as const;
export type Lane = (typeof LANES)[number];

const ROLE_ALIASES: Readonly<Record<string, string>> = {
  test: 'tester',
  review: 'reviewer',
  audit: 'reviewer',
  infra: 'devops',
};

/** A role name with its aliases folded: test -> tester, review/audit -> reviewer, infra -> devops. */
export const normalizeRole = (role: string): string => {
  const r = role.trim().toLowerCase();
  return ROLE_ALIASES[r] ?? r;
};

const ROLE_LANE: Readonly<Record<string, Lane>> = {
  backend: 'backend',
  frontend: 'frontend',
  devops: 'devops',
  tester: 'tester',
  reviewer: 'reviewer',
  runner: 'runner',
  researcher: 'researcher',
  default: 'generalist',
  worker: 'generalist',
  generalist: 'generalist',
};

/** Name heuristics, in order; whole words of the name (camelCase and digits split words). */
const NAME_LANES: readonly [ReadonlySet<string>, Lane][] = [
  [new Set(['review', 'reviews', 'reviewer', 'reviewers', 'audit', 'auditor']), 'reviewer'],
  [new Set(['test', 'tests', 'tester', 'testers', 'qa']), 'tester'],
  [new Set(['backend', 'api', 'server']), 'backend'],
  [new Set(['frontend', 'ui', 'web', 'client']), 'frontend'],
  [new Set(['devops', 'infra', 'deploy', 'deployer']), 'devops'],
  [new Set(['runner', 'ci']), 'runner'],
  [new Set(['research', 'researcher', 'explore', 'explorer']), 'researcher'],
];

const nameWords = (name: string): string[] =>
  name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z]+/)
    .filter(Boolean);

/** What routing reads of an agent. */
export interface RoutedAgent {
  name: string;
  role?: string | undefined;
  caps: readonly string[];
}

/** The agent's lane: from its role when the role names one, else from words of its name. */
export const laneOf = (agent: Pick<Agent, 'name' | 'role'>): Lane => {
  if (agent.role) {
    const lane = ROLE_LANE[normalizeRole(agent.role)];
    if (lane) return lane;
  }
  const words = nameWords(agent.name);
  for (const [set, lane] of NAME_LANES) if (words.some((w) => set.has(w))) return lane;
  return 'generalist';
};

type Table = Readonly<Record<Lane, number>>;
const row = (
  b: number,
  f: number,
  d: number,
  t: number,
  rv: number,
  ru: number,
  rs: number,
  g: number,
): Table => ({
  backend: b,
  frontend: f,
  devops: d,
  tester: t,
  reviewer: rv,
  runner: ru,
  researcher: rs,
  generalist: g,
});

/** Scores by kind when the item has no owner role (or one outside the owner tables). */
export const KIND_SCORES: Readonly<Record<WorkKind, Table>> = {
  //                  B   F   D   T   Rv  Ru  Rs  G
  implement: row(60, 60, 60, 5, 0, 35, 35, 60),
  test: row(45, 45, 45, 85, 10, 30, 30, 45),
  review: row(5, 5, 5, 5, 100, 5, 35, 20),
  design: row(55, 55, 55, 10, 30, 20, 75, 55),
  mergegate: row(35, 35, 35, 10, 50, 80, 20, 35),
  followup: row(50, 50, 50, 20, 10, 35, 50, 50),
};

/** Scores when the item's owner role is not the agent's role. */
const ownerScores = (owner: string, kind: WorkKind): Table | undefined => {
  switch (owner) {
    case 'backend':
    case 'frontend':
    case 'devops':
      return row(35, 35, 35, kind === 'implement' ? 5 : 15, 0, 20, 20, 55);
    case 'tester':
      return row(30, 30, 30, 100, 5, 20, 20, 45);
    case 'reviewer':
      return row(0, 0, 0, 0, 100, 0, 20, 10);
    default:
      return undefined;
  }
};

const LANE_ROLE: Readonly<Record<Lane, string | undefined>> = {
  backend: 'backend',
  frontend: 'frontend',
  devops: 'devops',
  tester: 'tester',
  reviewer: 'reviewer',
  runner: 'runner',
  researcher: 'researcher',
  generalist: undefined,
};

const normCap = (c: string): string => c.trim().toLowerCase();

/** What of an agent the score depends on; agents with equal profiles score the same on every item. */
interface AgentProfile {
  lane: Lane;
  /** The role an owner role must equal for an exact match: the role, or the lane's when no role. */
  matchRole: string | undefined;
  caps: ReadonlySet<string>;
}

const profileOf = (agent: RoutedAgent): AgentProfile => {
  const lane = laneOf(agent);
  const role = agent.role?.trim() ? agent.role : undefined;
  const caps = new Set(agent.caps.map(normCap));
  if (role) {
    caps.add(normCap(role));
    caps.add(normalizeRole(role));
  }
  return { lane, matchRole: role ? normalizeRole(role) : LANE_ROLE[lane], caps };
};
const profileKey = (p: AgentProfile): string =>
  `${p.lane}\u0000${p.matchRole ?? ''}\u0000${[...p.caps].sort().join('\u0001')}`;

type RoutedItem = Pick<WorkItem, 'kind' | 'ownerRole'> & { caps?: readonly string[] };

interface ItemProfile {
  kind: WorkKind;
  owner: string | undefined;
  caps: readonly string[];
}
const itemProfileOf = (item: RoutedItem): ItemProfile => ({
  kind: item.kind,
  owner: item.ownerRole?.trim() ? normalizeRole(item.ownerRole) : undefined,
  caps: [...new Set((item.caps ?? []).map(normCap).filter(Boolean))].sort(),
});
const itemKey = (p: ItemProfile): string => `${p.kind}\u0000${p.owner ?? ''}\u0000${p.caps.join('\u0001')}`;

const scoreProfiles = (item: ItemProfile, agent: AgentProfile): number => {
  for (const c of item.caps) if (!agent.caps.has(c)) return 0;
  if (item.kind === 'review' && agent.lane === 'reviewer') return 120;
  if (item.owner) {
    if (agent.matchRole === item.owner) return 100;
    const t = ownerScores(item.owner, item.kind);
    if (t) return t[agent.lane];
  }
  return KIND_SCORES[item.kind][agent.lane];
};

/** Whether the agent has every capability the item needs (its role counts as one). */
export const hasCaps = (item: { caps?: readonly string[] }, agent: RoutedAgent): boolean => {
  const caps = profileOf(agent).caps;
  return (item.caps ?? []).every((c) => !normCap(c) || caps.has(normCap(c)));
};

/** How well the agent fits the item; 0 means never assign (including missing capabilities). */
export const routeScore = (item: RoutedItem, agent: RoutedAgent): number =>
  scoreProfiles(itemProfileOf(item), profileOf(agent));

// ---- Planning a tick -----------------------------------------------------------------------

export type ReadyItem = Pick<WorkItem, 'id' | 'kind' | 'ownerRole' | 'caps' | 'rank' | 'createdAt'>;

/** An agent that can take work: idle, or busy with spare capacity (capacity - load > 0). */
export interface AvailableAgent {
  id: string;
  name: string;
  role?: string;
  caps: readonly string[];
  /** Items it holds now. */
  load: number;
  /** Items it may hold at once (1 for a single-task worker). */
  capacity: number;
}

export interface Assignment {
  item: string;
  agent: string;
  score: number;
}

export interface PlanInput {
  ready: readonly ReadyItem[];
  agents: readonly AvailableAgent[];
  /** Assignments this tick may make (maxParallel minus items assigned or running). */
  slots: number;
}

const cmpStr = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
/** Ready items in the order they get agents: topological rank, then age, then id. */
export const compareReady = (a: ReadyItem, b: ReadyItem): number =>
  a.rank - b.rank || a.createdAt - b.createdAt || cmpStr(a.id, b.id);

interface Seat {
  agent: AvailableAgent;
  load: number;
  left: number;
}
/** Tie-break among equal scores: lower load, then name, then id. */
const seatBefore = (a: Seat, b: Seat): boolean =>
  a.load !== b.load
    ? a.load < b.load
    : a.agent.name !== b.agent.name
      ? a.agent.name < b.agent.name
      : a.agent.id < b.agent.id;

/** A binary min-heap of seats by `seatBefore`. */
class SeatHeap {
  readonly h: Seat[] = [];
  push(s: Seat): void {
    const h = this.h;
    h.push(s);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!seatBefore(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }
  top(): Seat | undefined {
    return this.h[0];
  }
  /** Restores order after the top's load grew, or removes it when it has no room left. */
  settleTop(): void {
    const h = this.h;
    if (h[0]!.left <= 0) {
      const last = h.pop()!;
      if (h.length === 0) return;
      h[0] = last;
    }
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && seatBefore(h[l]!, h[m]!)) m = l;
      if (r < h.length && seatBefore(h[r]!, h[m]!)) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }
}

interface Group {
  profile: AgentProfile;
  seats: SeatHeap;
}

/**
 * The assignments of one tick. Ready items are served in topological order (rank), then age,
 * then id; each takes the best-scoring agent with room, ties to lower load, then name, then id.
 * An agent takes new items only while capacity - load exceeds what it got this tick (so an
 * idle single-task agent takes one). An item no available agent scores above 0 stays ready and
 * uses no slot. Agents are grouped by what their score depends on, so a tick costs about
 * items x groups, not items x agents.
 */
export const planAssignments = (input: PlanInput): Assignment[] => {
  const out: Assignment[] = [];
  if (input.slots <= 0) return out;
  const groups = new Map<string, Group>();
  let room = 0;
  for (const agent of input.agents) {
    const left = Math.floor(agent.capacity - agent.load);
    if (!(left > 0)) continue;
    const profile = profileOf(agent);
    const key = profileKey(profile);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { profile, seats: new SeatHeap() }));
    g.seats.push({ agent, load: agent.load, left });
    room += left;
  }
  const groupList = [...groups.values()];
  // Per item profile: groups with a positive score, in tiers of equal score, best first.
  const tiersOf = new Map<string, { score: number; groups: Group[] }[]>();
  // Items as given map to profiles through a cheap raw key, so most items cost one lookup.
  const tiersOfRaw = new Map<string, { score: number; groups: Group[] }[]>();
  const tiersFor = (item: ReadyItem) => {
    const raw = `${item.kind}\u0000${item.ownerRole ?? ''}\u0000${item.caps.join('\u0001')}`;
    const hit = tiersOfRaw.get(raw);
    if (hit) return hit;
    const p = itemProfileOf(item);
    const k = itemKey(p);
    let tiers = tiersOf.get(k);
    if (!tiers) {
      const byScore = new Map<number, Group[]>();
      for (const g of groupList) {
        const s = scoreProfiles(p, g.profile);
        if (s <= 0) continue;
        const list = byScore.get(s);
        if (list) list.push(g);
        else byScore.set(s, [g]);
      }
      tiers = [...byScore.entries()]
        .sort((a, b) => b[0] - a[0])
        .map(([score, gs]) => ({ score, groups: gs }));
      tiersOf.set(k, tiers);
    }
    tiersOfRaw.set(raw, tiers);
    return tiers;
  };

  const items = [...input.ready].sort(compareReady);
  for (const item of items) {
    if (out.length >= input.slots || room <= 0) break;
    for (const tier of tiersFor(item)) {
      let best: Group | undefined;
      for (const g of tier.groups) {
        const top = g.seats.top();
        if (top && (!best || seatBefore(top, best.seats.top()!))) best = g;
      }
      if (!best) continue;
      const seat = best.seats.top()!;
      out.push({ item: item.id, agent: seat.agent.id, score: tier.score });
      seat.load++;
      seat.left--;
      room--;
      best.seats.settleTop();
      break;
    }
  }
  return out;
};

// ---- Explaining ----------------------------------------------------------------------------

export type AssignmentGate =
  | 'mission running'
  | 'item ready'
  | 'dependencies met'
  | 'slots free'
  | 'idle agents'
  | 'capabilities'
  | 'best score'
  | 'queue';

export interface GateCheck {
  gate: AssignmentGate;
  ok: boolean;
  detail: string;
}

export interface ExplainInput {
  item: Pick<
    WorkItem,
    'id' | 'status' | 'deps' | 'kind' | 'ownerRole' | 'caps' | 'rank' | 'createdAt' | 'assignedTo'
  >;
  /** Every item of the mission (for dependencies, busy slots and the queue ahead). */
  items: readonly Pick<
    WorkItem,
    'id' | 'title' | 'status' | 'kind' | 'ownerRole' | 'caps' | 'rank' | 'createdAt'
  >[];
  mission: Pick<Mission, 'state' | 'blockedReason'> & { policy: Pick<Mission['policy'], 'maxParallel'> };
  /** Agents that can take work now (idle, or with spare capacity). */
  agents: readonly AvailableAgent[];
}

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

/**
 * Why a work item is or is not assigned on the next tick: each gate with its value, in the
 * order the scheduler applies them. The item gets an agent when every gate is ok.
 */
export const explainAssignment = (input: ExplainInput): GateCheck[] => {
  const { item, items, mission, agents } = input;
  const checks: GateCheck[] = [];
  const byId = new Map(items.map((i) => [i.id, i]));

  checks.push({
    gate: 'mission running',
    ok: mission.state === 'running',
    detail:
      mission.state === 'running'
        ? 'running'
        : `mission is ${mission.state}${mission.blockedReason ? `: ${mission.blockedReason}` : ''}`,
  });

  const statusDetail: Record<WorkItem['status'], string> = {
    ready: 'ready',
    pending: 'pending: it becomes ready when its dependencies are done',
    assigned: `already assigned${item.assignedTo ? ` to ${item.assignedTo}` : ''}`,
    running: `already running${item.assignedTo ? ` on ${item.assignedTo}` : ''}`,
    blocked: 'blocked: waiting on review or pull-request watches',
    done: 'done',
  };
  checks.push({ gate: 'item ready', ok: item.status === 'ready', detail: statusDetail[item.status] });

  const unmet = item.deps.filter((d) => byId.get(d)?.status !== 'done');
  checks.push({
    gate: 'dependencies met',
    ok: unmet.length === 0,
    detail:
      item.deps.length === 0
        ? 'no dependencies'
        : unmet.length === 0
          ? `all ${item.deps.length} done`
          : `waiting on ${unmet
              .map((d) => {
                const dep = byId.get(d);
                return dep
                  ? `${shortId(d)} "${dep.title}" (${dep.status})`
                  : `${shortId(d)} (missing: it never completes)`;
              })
              .join(', ')}`,
  });

  const busy = items.filter((i) => i.status === 'assigned' || i.status === 'running').length;
  const slots = Math.max(0, mission.policy.maxParallel - busy);
  checks.push({
    gate: 'slots free',
    ok: slots > 0,
    detail: `${slots} of ${mission.policy.maxParallel} free (${busy} assigned or running)`,
  });

  checks.push({
    gate: 'idle agents',
    ok: agents.length > 0,
    detail: agents.length
      ? `${plural(agents.length, 'agent')} can take work`
      : 'no agent is idle or has spare capacity',
  });

  if (item.caps.length) {
    const capable = agents.filter((a) => hasCaps(item, a));
    checks.push({
      gate: 'capabilities',
      ok: capable.length > 0,
      detail: `needs ${item.caps.join(', ')}; agents that have them: ${capable.length} of ${agents.length} available`,
    });
  } else checks.push({ gate: 'capabilities', ok: true, detail: 'none required' });

  const ip = itemProfileOf(item);
  let best: { seat: Seat; score: number } | undefined;
  for (const agent of agents) {
    if (!(agent.capacity - agent.load > 0)) continue;
    const score = scoreProfiles(ip, profileOf(agent));
    const seat = { agent, load: agent.load, left: 0 };
    if (score > 0 && (!best || score > best.score || (score === best.score && seatBefore(seat, best.seat))))
      best = { seat, score };
  }
  checks.push({
    gate: 'best score',
    ok: best !== undefined,
    detail: best
      ? `${best.seat.agent.name} scores ${best.score}`
      : agents.length
        ? 'no available agent scores above 0'
        : 'no available agents',
  });

  const earlierOk = checks.every((c) => c.ok);
  if (!earlierOk) {
    checks.push({ gate: 'queue', ok: false, detail: 'not reached: an earlier gate holds it back' });
    return checks;
  }
  const ready = items.filter((i) => i.status === 'ready' && i.id !== item.id);
  const plan = planAssignments({ ready: [...ready, item], agents, slots });
  const mine = plan.find((a) => a.item === item.id);
  if (mine) {
    const name = agents.find((a) => a.id === mine.agent)?.name ?? mine.agent;
    checks.push({ gate: 'queue', ok: true, detail: `next tick assigns it to ${name} (score ${mine.score})` });
  } else {
    const ahead = ready.filter((r) => compareReady(r, item) < 0).length;
    checks.push({
      gate: 'queue',
      ok: false,
      detail: `${plural(ahead, 'ready item')} ahead of it take the free slots or the agents that fit it`,
    });
  }
  return checks;
};
