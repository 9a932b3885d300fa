import { isTerminalAgent } from '../model/agent.js';
import { SUPERVISOR_ID } from '../model/ids.js';
import { isTerminalMission, type Mission, type WorkItem } from '../model/mission.js';
import { explainAssignment, type GateCheck } from '../model/routing.js';
import type { Task, TaskState } from '../model/task.js';
import { listItems, listMissions } from '../store/missions.js';
import { peekInbox } from '../store/messages.js';
import { listTasks } from '../store/tasks.js';
import type { Town } from './context.js';
import { report } from './report.js';
import { townStatus, type AgentStatus } from './status.js';

/** A help prompt: a question to the supervisor (the dispatcher's help requests among them). */
export interface HelpPrompt {
  id: string;
  from: string;
  mission?: string;
  text: string;
  createdAt: number;
}

/** Everything the console shows, read in one go (events come separately, as a stream). */
export interface ConsoleSnapshot {
  at: number;
  town: string;
  endpoint: string;
  agents: AgentStatus[];
  /** Live tasks (pending, assigned, running) and dead letters, oldest first. */
  tasks: Task[];
  taskCounts: Record<TaskState, number>;
  backlog: number;
  missions: Mission[];
  items: Record<string, WorkItem[]>;
  help: HelpPrompt[];
}

/** How many live tasks a snapshot carries at most (the counts are always exact). */
export const SNAPSHOT_TASKS = 5000;

export const consoleSnapshot = async (t: Town): Promise<ConsoleSnapshot> => {
  const status = await townStatus(t);
  const live = report(t, await listTasks(t.db, ['pending', 'assigned', 'running', 'failed']));
  const tasks = live.filter((x) => x.state !== 'failed' || x.deadReason).slice(-SNAPSHOT_TASKS);
  const missions = report(t, await listMissions(t.db)).sort((a, b) => b.createdAt - a.createdAt);
  const shown = missions
    .filter((m) => !isTerminalMission(m.state))
    .concat(missions.filter((m) => isTerminalMission(m.state)).slice(0, 5));
  const items: Record<string, WorkItem[]> = {};
  const lists = await Promise.all(shown.map((m) => listItems(t.db, m.id)));
  shown.forEach((m, i) => (items[m.id] = report(t, lists[i]!).sort((a, b) => a.rank - b.rank)));
  const inbox = report(t, await peekInbox(t.db, SUPERVISOR_ID, 200));
  const help = inbox
    .filter(({ message }) => message.type === 'query')
    .map(({ message }) => ({
      id: message.id,
      from: message.from,
      ...((message as { mission?: string }).mission
        ? { mission: (message as { mission?: string }).mission! }
        : {}),
      text: message.type === 'query' ? message.question : '',
      createdAt: message.createdAt,
    }))
    .sort((a, b) => a.createdAt - b.createdAt);
  const { total: _total, ...taskCounts } = status.tasks;
  return {
    at: t.clock.now(),
    town: status.town,
    endpoint: status.endpoint,
    agents: status.agents,
    tasks,
    taskCounts,
    backlog: status.backlog,
    missions: shown,
    items,
    help,
  };
};

/** Why a ready work item is or is not assigned: each scheduler gate with its value. */
export const whyNotAssigned = (snap: ConsoleSnapshot, missionId: string, itemId: string): GateCheck[] => {
  const m = snap.missions.find((x) => x.id === missionId);
  const items = snap.items[missionId] ?? [];
  const item = items.find((i) => i.id === itemId);
  if (!m || !item) return [{ gate: 'item ready', ok: false, detail: 'no such work item' } as GateCheck];
  const agents = snap.agents
    .filter(
      (a) =>
        !isTerminalAgent(a.state) &&
        a.state !== 'paused' &&
        a.state !== 'quarantined' &&
        a.state !== 'draining',
    )
    .map((a) => ({
      id: a.id,
      name: a.name,
      ...(a.role ? { role: a.role } : {}),
      caps: a.caps ?? [],
      load: a.inbox + (a.currentTask ? 1 : 0),
      capacity: 1,
    }))
    .filter((a) => a.capacity - a.load > 0);
  return explainAssignment({ item, items, mission: m, agents });
};
