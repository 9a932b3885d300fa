import { displayLabel, isTerminalAgent, type Agent } from '../model/agent.js';
import type { TownEvent } from '../model/event.js';
import { shortId, SUPERVISOR_ID } from '../model/ids.js';
import { TASK_STATES, type Task, type TaskState } from '../model/task.js';
import { readActivity } from '../store/agents.js';
import { backlogLength } from '../store/backlog.js';
import type { EventScope } from '../model/event.js';
import { recentEvents } from '../store/events.js';
import { inboxLengths } from '../store/messages.js';
import { countTasksByState, getTask } from '../store/tasks.js';
import { agents, pickAgent } from './agents.js';
import type { Town } from './context.js';
import { report } from './report.js';
import { tasksIn } from './tasks.js';

export interface AgentStatus {
  id: string;
  name: string;
  /** The 1920s nickname the label shows. */
  nickname?: string;
  label: string;
  role?: string;
  cli: string;
  state: Agent['state'];
  /** The agent's capabilities (what the dispatcher routes on). */
  caps?: string[];
  inbox: number;
  currentTask?: string;
  heartbeatAgeMs?: number;
  rounds: number;
  tasksCompleted: number;
  attempts?: number;
  activity?: string[];
}

export interface TownStatus {
  town: string;
  root: string;
  endpoint: string;
  agents: AgentStatus[];
  tasks: Record<TaskState, number> & { total: number };
  backlog: number;
  supervisorInbox: number;
  groups?: { agent: string; tasks: Pick<Task, 'id' | 'state' | 'description' | 'priority'>[] }[];
}

/** One snapshot of the town for `tt status` (and its --json shape). */
export const townStatus = async (
  t: Town,
  opts: { deep?: boolean; tasks?: boolean } = {},
): Promise<TownStatus> => {
  const all = await agents(t);
  const [lengths, counts, backlog] = await Promise.all([
    inboxLengths(t.db, [SUPERVISOR_ID, ...all.map((a) => a.id)]),
    countTasksByState(t.db),
    backlogLength(t.db),
  ]);
  const now = t.clock.now();
  const rows: AgentStatus[] = [];
  for (const a of all) {
    const row: AgentStatus = {
      id: a.id,
      name: a.name,
      ...(a.nickname ? { nickname: a.nickname } : {}),
      label: displayLabel(a),
      ...(a.role ? { role: a.role } : {}),
      cli: a.cli,
      state: a.state,
      caps: a.caps,
      inbox: lengths.get(a.id) ?? 0,
      ...(a.currentTask ? { currentTask: a.currentTask } : {}),
      ...(a.lastHeartbeat ? { heartbeatAgeMs: Math.max(0, now - a.lastHeartbeat) } : {}),
      rounds: a.roundsCompleted,
      tasksCompleted: a.tasksCompleted,
    };
    if (opts.deep) {
      if (a.currentTask) {
        const task = await getTask(t.db, a.currentTask).catch(() => undefined);
        if (task) row.attempts = task.attempts;
      }
      row.activity = await readActivity(t.db, a.id, 5);
    }
    rows.push(row);
  }
  const status: TownStatus = {
    town: t.config.name,
    root: t.root,
    endpoint: t.endpoint.display,
    agents: rows,
    tasks: { ...counts, total: TASK_STATES.reduce((n, s) => n + counts[s], 0) },
    backlog,
    supervisorInbox: lengths.get(SUPERVISOR_ID) ?? 0,
  };
  if (opts.tasks) {
    const label = new Map(all.map((a) => [a.id, displayLabel(a)]));
    const groups = new Map<string, NonNullable<TownStatus['groups']>[number]['tasks']>();
    for (const task of await tasksIn(t)) {
      const key = task.assignedTo ? (label.get(task.assignedTo) ?? shortId(task.assignedTo)) : 'unassigned';
      if (!groups.has(key)) groups.set(key, []);
      groups
        .get(key)!
        .push({ id: task.id, state: task.state, description: task.description, priority: task.priority });
    }
    status.groups = [...groups].map(([agent, tasks]) => ({ agent, tasks }));
  }
  return status;
};

export const prunableCount = (s: TownStatus): number =>
  s.agents.filter((a) => isTerminalAgent(a.state) && a.state !== 'cold').length;

/** Events of the town, or of one agent or mission, newest `count`, oldest first. */
export const history = async (
  t: Town,
  opts: { count: number; agent?: string; mission?: string },
  known?: readonly Agent[],
): Promise<TownEvent[]> => {
  const scope: EventScope = opts.agent
    ? { agent: pickAgent(opts.agent, known ?? (await agents(t))).id }
    : opts.mission
      ? { mission: opts.mission }
      : 'town';
  return report(t, await recentEvents(t.db, scope, opts.count));
};
