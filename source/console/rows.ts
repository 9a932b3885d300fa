import type { AgentStatus } from '../services/status.js';
import type { HelpPrompt } from '../services/console.js';
import type { TownEvent } from '../model/event.js';
import type { Mission, WorkItem } from '../model/mission.js';
import type { Task } from '../model/task.js';
import type { ConsoleState, PaneId } from './store.js';

/** A pane's rows: what it lists, filtered, in display order. Pure, so keys and tests agree with the view. */
export type MissionRow = { kind: 'mission'; id: string; mission: Mission } | { kind: 'item'; id: string; mission: Mission; item: WorkItem };

export interface PaneRows {
  agents: AgentStatus[];
  tasks: Task[];
  missions: MissionRow[];
  events: TownEvent[];
  help: HelpPrompt[];
}

const PRIORITY_ORDER = { critical: 0, high: 1, normal: 2, low: 3 } as const;
const TASK_ORDER = { running: 0, assigned: 1, pending: 2, failed: 3, completed: 4, cancelled: 5 } as const;
const AGENT_ORDER = { error: 0, working: 1, paused: 2, draining: 3, starting: 4, idle: 5, stopped: 6, cold: 7 } as const;

const matches = (text: string, filter: string | undefined): boolean => {
  if (!filter) return true;
  const f = filter.toLowerCase();
  return f.startsWith('!') ? !text.toLowerCase().includes(f.slice(1)) : text.toLowerCase().includes(f);
};

export const agentRows = (s: ConsoleState): AgentStatus[] =>
  (s.snapshot?.agents ?? [])
    .filter((a) => matches(`${a.label} ${a.name} ${a.state} ${a.role ?? ''} ${a.cli}`, s.ui.filter.agents))
    .sort((a, b) => AGENT_ORDER[a.state] - AGENT_ORDER[b.state] || a.name.localeCompare(b.name));

export const taskRows = (s: ConsoleState): Task[] =>
  (s.snapshot?.tasks ?? [])
    .filter((t) => matches(`${t.id} ${t.state} ${t.priority} ${t.description} ${t.tags.join(' ')}`, s.ui.filter.tasks))
    .sort((a, b) => TASK_ORDER[a.state] - TASK_ORDER[b.state] || PRIORITY_ORDER[a.priority] - PRIORITY_ORDER[b.priority] || a.createdAt - b.createdAt);

export const missionRows = (s: ConsoleState): MissionRow[] => {
  const out: MissionRow[] = [];
  for (const m of s.snapshot?.missions ?? []) {
    const items = (s.snapshot?.items[m.id] ?? []).filter((i) => matches(`${i.title} ${i.status} ${i.kind}`, s.ui.filter.missions));
    if (!matches(`${m.title} ${m.state}`, s.ui.filter.missions) && items.length === 0) continue;
    out.push({ kind: 'mission', id: m.id, mission: m });
    for (const item of items) out.push({ kind: 'item', id: item.id, mission: m, item });
  }
  return out;
};

export const eventRows = (s: ConsoleState): TownEvent[] => {
  const f = s.ui.filter.events;
  if (!f) return s.events;
  return s.events.filter((e) => matches(`${e.type} ${e.agent ?? ''} ${e.task ?? ''} ${e.mission ?? ''} ${e.text ?? ''} ${e.state ?? ''}`, f));
};

export const helpRows = (s: ConsoleState): HelpPrompt[] => (s.snapshot?.help ?? []).filter((h) => matches(h.text, s.ui.filter.help));

export const rowIds = (s: ConsoleState, pane: PaneId): string[] => {
  switch (pane) {
    case 'agents':
      return agentRows(s).map((a) => a.id);
    case 'tasks':
      return taskRows(s).map((t) => t.id);
    case 'missions':
      return missionRows(s).map((r) => r.id);
    case 'events':
      return eventRows(s).map((e) => e.id);
    case 'help':
      return helpRows(s).map((h) => h.id);
  }
};

/** The selected row's index: the selected id if it is still listed, else the first row (the newest event when following). */
export const selectedIndex = (s: ConsoleState, pane: PaneId, ids = rowIds(s, pane)): number => {
  if (pane === 'events' && s.ui.follow) return ids.length - 1;
  const id = s.ui.selected[pane];
  const i = id ? ids.indexOf(id) : -1;
  return i >= 0 ? i : 0;
};

/** The first visible row so the selection stays in a window of `height` rows. */
export const windowStart = (index: number, count: number, height: number): number => {
  if (count <= height) return 0;
  const half = Math.floor(height / 2);
  return Math.max(0, Math.min(index - half, count - height));
};
