import type { AgentStatus } from '../services/status.js';
import type { HelpPrompt } from '../services/console.js';
import type { TownEvent } from '../model/event.js';
import type { Mission, WorkItem } from '../model/mission.js';
import type { Task } from '../model/task.js';
import type { ConsoleState, PaneId } from './store.js';

/**
 * A pane's rows: what it lists, filtered, in display order. Pure, so keys and tests agree with the
 * view. The store is immutable (every update replaces what changed), so each derivation is
 * remembered for its inputs: the snapshot (or the events array) and the pane's filter. The view,
 * the footer hints and the commands ask for the same rows many times per frame; a list is filtered
 * and sorted again only when a new snapshot, events batch or filter arrives. Callers must not
 * mutate what these return.
 */
export type MissionRow =
  | { kind: 'mission'; id: string; mission: Mission }
  | { kind: 'item'; id: string; mission: Mission; item: WorkItem };

export interface PaneRows {
  agents: AgentStatus[];
  tasks: Task[];
  missions: MissionRow[];
  events: TownEvent[];
  help: HelpPrompt[];
}

const PRIORITY_ORDER = { critical: 0, high: 1, normal: 2, low: 3 } as const;
const TASK_ORDER = { running: 0, assigned: 1, pending: 2, failed: 3, completed: 4, cancelled: 5 } as const;
const AGENT_ORDER = {
  error: 0,
  quarantined: 1,
  working: 2,
  paused: 3,
  draining: 4,
  starting: 5,
  idle: 6,
  stopped: 7,
  cold: 8,
} as const;

/** Compares as String.prototype.localeCompare does (default locale and options), without its per-call cost. */
const collator = new Intl.Collator();

/**
 * Agent names in collation order as numbers (names that collate equal share one), kept while every
 * name is known: names rarely change from one snapshot to the next, so the agent sort compares
 * numbers instead of asking the collator about every pair.
 */
let nameRanks = new Map<string, number>();
const rankNames = (agents: readonly AgentStatus[]): Map<string, number> => {
  if (agents.every((a) => nameRanks.has(a.name))) return nameRanks;
  const names = [...new Set(agents.map((a) => a.name))].sort(collator.compare);
  const ranks = new Map<string, number>();
  let rank = 0;
  names.forEach((name, i) => {
    if (i > 0 && collator.compare(names[i - 1]!, name) !== 0) rank++;
    ranks.set(name, rank);
  });
  nameRanks = ranks;
  return ranks;
};

/** A filter as a test of a row's lower-cased text: undefined when there is no filter (every row passes). */
const matcher = (filter: string | undefined): ((lower: string) => boolean) | undefined => {
  if (!filter) return undefined;
  const f = filter.toLowerCase();
  if (f.startsWith('!')) {
    const not = f.slice(1);
    return (lower) => !lower.includes(not);
  }
  return (lower) => lower.includes(f);
};

/**
 * A row's text for filtering, lower-cased, remembered per record: typing a filter tests the same
 * records again with every key, and events stay in the ring for many batches.
 */
const searchable = <T extends object>(text: (row: T) => string) => {
  const seen = new WeakMap<T, string>();
  return (row: T): string => {
    let lower = seen.get(row);
    if (lower === undefined) {
      lower = text(row).toLowerCase();
      seen.set(row, lower);
    }
    return lower;
  };
};
const agentText = searchable((a: AgentStatus) => `${a.label} ${a.name} ${a.state} ${a.role ?? ''} ${a.cli}`);
const taskText = searchable(
  (t: Task) => `${t.id} ${t.state} ${t.priority} ${t.description} ${t.tags.join(' ')}`,
);
const missionText = searchable((m: Mission) => `${m.title} ${m.state}`);
const itemText = searchable((i: WorkItem) => `${i.title} ${i.status} ${i.kind}`);
const eventText = searchable(
  (e: TownEvent) =>
    `${e.type} ${e.agent ?? ''} ${e.task ?? ''} ${e.mission ?? ''} ${e.text ?? ''} ${e.state ?? ''}`,
);
const helpText = searchable((h: HelpPrompt) => h.text);

/** Remembers the last result of `derive` for one input object and one filter. */
const remember = <K extends object | undefined, R, X = undefined>(
  derive: (key: K, filter: string | undefined, extra: X) => R,
) => {
  let last: { key: K; filter: string | undefined; extra: X; rows: R } | undefined;
  return (key: K, filter: string | undefined, extra?: X): R => {
    if (last && last.key === key && last.filter === filter && last.extra === extra) return last.rows;
    const rows = derive(key, filter, extra as X);
    last = { key, filter, extra: extra as X, rows };
    return rows;
  };
};

const NO_AGENTS: AgentStatus[] = [];
const NO_TASKS: Task[] = [];

const agentsOf = remember((snap: ConsoleState['snapshot'], filter): AgentStatus[] => {
  const all = snap?.agents ?? NO_AGENTS;
  const test = matcher(filter);
  const rows = test ? all.filter((a) => test(agentText(a))) : all;
  const ranks = rankNames(rows);
  const n = rows.length;
  const state = new Float64Array(n);
  const name = new Float64Array(n);
  const order = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    state[i] = AGENT_ORDER[rows[i]!.state];
    name[i] = ranks.get(rows[i]!.name)!;
    order[i] = i;
  }
  order.sort((a, b) => state[a]! - state[b]! || name[a]! - name[b]!);
  return order.map((i) => rows[i]!);
});

const tasksOf = remember((snap: ConsoleState['snapshot'], filter): Task[] => {
  const all = snap?.tasks ?? NO_TASKS;
  const test = matcher(filter);
  const rows = test ? all.filter((t) => test(taskText(t))) : all;
  // By state and priority into groups, each kept in list order, then each group by age: the order
  // of the stable sort by state, priority and createdAt, in about linear time, since the snapshot
  // lists tasks oldest first. Anything unexpected (an unknown state, no createdAt) takes that sort.
  const groups: Task[][] = Array.from({ length: 24 }, () => []);
  for (const t of rows) {
    const g = TASK_ORDER[t.state] * 4 + PRIORITY_ORDER[t.priority];
    if (!(g >= 0 && g < 24) || !Number.isFinite(t.createdAt))
      return rows
        .slice()
        .sort(
          (a, b) =>
            TASK_ORDER[a.state] - TASK_ORDER[b.state] ||
            PRIORITY_ORDER[a.priority] - PRIORITY_ORDER[b.priority] ||
            a.createdAt - b.createdAt,
        );
    groups[g]!.push(t);
  }
  const out: Task[] = [];
  for (const g of groups) {
    let sorted = true;
    for (let i = 1; i < g.length && sorted; i++) sorted = g[i - 1]!.createdAt <= g[i]!.createdAt;
    if (!sorted) g.sort((a, b) => a.createdAt - b.createdAt);
    for (const t of g) out.push(t);
  }
  return out;
});

const missionsOf = remember((snap: ConsoleState['snapshot'], filter): MissionRow[] => {
  const out: MissionRow[] = [];
  const test = matcher(filter);
  for (const m of snap?.missions ?? []) {
    const all = snap?.items[m.id] ?? [];
    const items = test ? all.filter((i) => test(itemText(i))) : all;
    if (test && !test(missionText(m)) && items.length === 0) continue;
    out.push({ kind: 'mission', id: m.id, mission: m });
    for (const item of items) out.push({ kind: 'item', id: item.id, mission: m, item });
  }
  return out;
});

/** Agent names by id, once per snapshot. */
const NO_NAMES = new Map<string, string>();
const namesOf = new WeakMap<object, Map<string, string>>();
export const agentNames = (s: Pick<ConsoleState, 'snapshot'>): Map<string, string> => {
  const agents = s.snapshot?.agents;
  if (!agents) return NO_NAMES;
  let names = namesOf.get(agents);
  if (!names) {
    names = new Map(agents.map((a) => [a.id, a.name]));
    namesOf.set(agents, names);
  }
  return names;
};

/** Events whose text, or the name of their agent as the pane shows it, match the filter. */
const eventsOf = remember((events: TownEvent[], filter, names: Map<string, string>): TownEvent[] => {
  const test = matcher(filter);
  return test
    ? events.filter(
        (e) =>
          test(eventText(e)) || (e.agent !== undefined && test((names.get(e.agent) ?? '').toLowerCase())),
      )
    : events;
});

const helpOf = remember((snap: ConsoleState['snapshot'], filter): HelpPrompt[] => {
  const test = matcher(filter);
  const all = snap?.help ?? [];
  return test ? all.filter((h) => test(helpText(h))) : all.slice();
});

export const agentRows = (s: ConsoleState): AgentStatus[] => agentsOf(s.snapshot, s.ui.filter.agents);

export const taskRows = (s: ConsoleState): Task[] => tasksOf(s.snapshot, s.ui.filter.tasks);

export const missionRows = (s: ConsoleState): MissionRow[] => missionsOf(s.snapshot, s.ui.filter.missions);

export const eventRows = (s: ConsoleState): TownEvent[] =>
  eventsOf(s.events, s.ui.filter.events, agentNames(s));

export const helpRows = (s: ConsoleState): HelpPrompt[] => helpOf(s.snapshot, s.ui.filter.help);

/** A pane's rows, whichever the pane. */
export const paneRows = (s: ConsoleState, pane: PaneId): { id: string }[] => {
  switch (pane) {
    case 'agents':
      return agentRows(s);
    case 'tasks':
      return taskRows(s);
    case 'missions':
      return missionRows(s);
    case 'events':
      return eventRows(s);
    case 'help':
      return helpRows(s);
  }
};

const idsOf = new WeakMap<readonly { id: string }[], string[]>();
/** The last rows and ids per pane: callers ask for the same pane's ids many times in a row. */
const lastIds: Partial<Record<PaneId, { rows: readonly { id: string }[]; ids: string[] }>> = {};

export const rowIds = (s: ConsoleState, pane: PaneId): string[] => {
  const rows = paneRows(s, pane);
  const last = lastIds[pane];
  if (last?.rows === rows) return last.ids;
  let ids = idsOf.get(rows);
  if (!ids) {
    ids = rows.map((r) => r.id);
    idsOf.set(rows, ids);
  }
  lastIds[pane] = { rows, ids };
  return ids;
};

/**
 * Where an id is in a list of ids (the first place, as indexOf). The first question about a list
 * scans it; from the second on, an index of the list answers at once: callers that look the
 * selection up once per row (a find over the rows) stay linear, not quadratic.
 */
const indexes = new WeakMap<readonly string[], Map<string, number> | null>();
let lastLookup: { ids: readonly string[]; id: string; at: number } | undefined;
const indexIn = (ids: readonly string[], id: string): number => {
  if (lastLookup?.ids === ids && lastLookup.id === id) return lastLookup.at;
  const at = lookUp(ids, id);
  lastLookup = { ids, id, at };
  return at;
};
const lookUp = (ids: readonly string[], id: string): number => {
  let index = indexes.get(ids);
  if (index === undefined) {
    indexes.set(ids, null);
    return ids.indexOf(id);
  }
  if (index === null) {
    index = new Map();
    for (let i = ids.length - 1; i >= 0; i--) index.set(ids[i]!, i);
    indexes.set(ids, index);
  }
  return index.get(id) ?? -1;
};

/** The selected row's index: the selected id if it is still listed, else the first row (the newest event when following). */
export const selectedIndex = (s: ConsoleState, pane: PaneId, ids?: string[]): number => {
  if (pane === 'events' && s.ui.follow) return (ids ?? eventRows(s)).length - 1;
  const id = s.ui.selected[pane];
  if (!id) return 0;
  const i = indexIn(ids ?? rowIds(s, pane), id);
  return i >= 0 ? i : 0;
};

/** The first visible row so the selection stays in a window of `height` rows. */
export const windowStart = (index: number, count: number, height: number): number => {
  if (count <= height) return 0;
  const half = Math.floor(height / 2);
  return Math.max(0, Math.min(index - half, count - height));
};
