import { displayLabel } from '../model/agent.js';
import { classify, summarize, type Message } from '../model/message.js';
import { messagePriorityOfTask } from '../model/priority.js';
import { SUPERVISOR_ID } from '../model/ids.js';
import type { Task } from '../model/task.js';
import { backlogIds } from '../store/backlog.js';
import type { Db } from '../store/db.js';
import { readTasks } from '../store/tasks.js';
import type { RoundWork } from './executor.js';
import {
  agentRoleKeywords,
  buildPrompt,
  matchesRole,
  type PromptInput,
  type PromptPullRequest,
  type PromptSetting,
  type PromptTask,
} from './prompt.js';
import { splitClassifiedError } from '../model/report.js';

const promptTask = (t: Task, pullRequest?: PromptPullRequest): PromptTask => ({
  id: t.id,
  description: t.description,
  priority: t.priority,
  attempts: t.attempts,
  maxAttempts: t.maxAttempts,
  tags: t.tags,
  ...(t.lastError ? lastErrorOf(t.lastError) : {}),
  ...(pullRequest ? { pullRequest } : {}),
});

/**
 * The pull request a task's work ends in: in a town with GitHub, a mission's work task opens one
 * from its branch into the worktree's base, and its fix task (on the same branch) pushes to it,
 * which updates it. A review, and any other task, opens none.
 */
export const pullRequestFor = (
  t: Pick<Task, 'mission' | 'missionRole'>,
  github: boolean,
  base: string | undefined,
): PromptPullRequest | undefined => {
  if (!github || !t.mission) return undefined;
  if (t.missionRole !== 'work' && t.missionRole !== 'fix') return undefined;
  return { wanted: true, ...(base ? { base } : {}), ...(t.missionRole === 'fix' ? { update: true } : {}) };
};

/** Whether a town has GitHub configured: an API address or a repository in its `github` settings. */
export const githubConfigured = (g: { apiUrl?: string | undefined; repo?: string | undefined }): boolean =>
  Boolean(g.apiUrl || g.repo);

/** What the town tells a round's prompt. */
export interface RoundPromptOptions {
  /** The town has GitHub configured: mission work and fix tasks end in a pull request. */
  github?: boolean;
}

/** A task's last error and, when it starts with one (`timeout: ...`), its class. */
const lastErrorOf = (lastError: string): Pick<PromptTask, 'lastError' | 'lastErrorClass'> => {
  const cls = splitClassifiedError(lastError).class;
  return { lastError, ...(cls ? { lastErrorClass: cls } : {}) };
};

/** How many backlog tasks a prompt's snapshot looks at. */
const BACKLOG_PEEK = 50;

export type { PromptSetting };

/**
 * The prompt of one round: its messages in serving order (a task taken from the backlog shows
 * as an assignment), informational and confirmation summaries, and a snapshot of the backlog
 * tasks that fit the agent's role.
 */
export const roundPrompt = async (
  db: Db,
  town: string,
  maxRounds: number,
  work: Omit<RoundWork, 'prompt'>,
  setting: PromptSetting = {},
  opts: RoundPromptOptions = {},
): Promise<string> => {
  const tasks = new Map(work.tasks.map(({ task }) => [task.id, task]));
  const base = setting.workspace?.git?.base;
  const assigned = (t: Task) => promptTask(t, pullRequestFor(t, opts.github ?? false, base));
  const actionable: PromptInput['actionable'] = [];
  const informational: string[] = [];
  const confirmations: string[] = [];
  const listed = new Set<string>();
  for (const { message } of work.messages) {
    const c = classify(message);
    if (c === 'informational') informational.push(summarize(message, 100));
    else if (c === 'confirmation') confirmations.push(summarize(message, 60));
    else {
      const task = message.type === 'task_assign' ? tasks.get(message.taskId) : undefined;
      if (task) listed.add(task.id);
      actionable.push({ message, ...(task ? { task: assigned(task) } : {}) });
    }
  }
  for (const task of tasks.values()) {
    if (listed.has(task.id)) continue;
    const message: Message = {
      id: 'backlog',
      type: 'task_assign',
      taskId: task.id,
      from: SUPERVISOR_ID,
      to: work.agent.id,
      priority: messagePriorityOfTask(task.priority),
      createdAt: task.updatedAt,
    };
    actionable.unshift({ message, task: assigned(task) });
  }
  const ids = await backlogIds(db);
  const keywords = agentRoleKeywords(work.agent);
  const peek = await readTasks(db, ids.slice(0, BACKLOG_PEEK));
  const matching = peek.items.filter((t) => matchesRole(t, keywords)).map((t) => promptTask(t));
  return buildPrompt({
    town,
    agent: {
      id: work.agent.id,
      name: work.agent.name,
      label: displayLabel(work.agent),
      ...(work.agent.role ? { role: work.agent.role } : {}),
    },
    round: work.round,
    maxRounds,
    actionable,
    informational,
    confirmations,
    backlog: { total: ids.length, matching },
    ...setting,
  });
};
