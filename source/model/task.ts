import { z } from 'zod';
import { num, optStr, strList } from './hash.js';
import { TaskPriority } from './priority.js';

export const TASK_STATES = ['pending', 'assigned', 'running', 'completed', 'failed', 'cancelled'] as const;
export const TaskState = z.preprocess((v) => (v === 'in_flight' ? 'running' : v), z.enum(TASK_STATES));
export type TaskState = (typeof TASK_STATES)[number];

export const isTerminalTask = (s: TaskState): boolean =>
  s === 'completed' || s === 'failed' || s === 'cancelled';

/**
 * Legal moves. failed -> pending is the re-drive of a dead letter; completed and cancelled are final.
 * assigned -> assigned is a reassignment.
 */
const NEXT: Record<TaskState, readonly TaskState[]> = {
  pending: ['assigned', 'cancelled', 'failed'],
  assigned: ['assigned', 'running', 'pending', 'completed', 'failed', 'cancelled'],
  running: ['pending', 'assigned', 'completed', 'failed', 'cancelled'],
  completed: [],
  failed: ['pending'],
  cancelled: [],
};

export const canMoveTask = (from: TaskState, to: TaskState): boolean => NEXT[from].includes(to);
export const taskStatesInto = (to: TaskState): TaskState[] => TASK_STATES.filter((s) => NEXT[s].includes(to));

export const Task = z.object({
  id: z.string(),
  description: z.string(),
  state: TaskState,
  priority: TaskPriority.default('normal'),
  tags: strList(),
  parent: z.string().optional(),
  assignedTo: z.string().optional(),
  createdAt: num(),
  updatedAt: num(),
  startedAt: num().optional(),
  completedAt: num().optional(),
  result: z.string().optional(),
  attempts: num().default(0),
  maxAttempts: num().default(3),
  lastError: z.string().optional(),
  /** The agent of the last failed attempt: the backlog offers the retry to another first. */
  lastAgent: optStr(),
  /** When the pending retry is (was) due. */
  retryAt: num().optional(),
  /** The token of the attempt in progress: only its holder may finish it. */
  claimToken: optStr(),
  /** Why a task was dead-lettered (failed after its last attempt). */
  deadReason: z.string().optional(),
  /** Mission work: the mission, its work item, the task's role there (work|review|fix), the watch that made it. */
  mission: optStr(),
  workItem: optStr(),
  missionRole: optStr(),
  watch: optStr(),
  /**
   * The git branch the task's work is on: recorded when an attempt ends (a retry goes on from it),
   * and given at creation to a mission's fix or review task (its work item's branch).
   */
  branch: optStr(),
  /** The head commit of `branch` when the last attempt ended. */
  head: optStr(),
});
export type Task = z.infer<typeof Task>;

/** First line of a description, cut to `max` characters. */
export const taskTitle = (t: Pick<Task, 'description'>, max = 60): string => {
  const line = t.description.split('\n', 1)[0]!.trim();
  return line.length > max ? `${line.slice(0, max - 3)}...` : line;
};

/** Tags from a comma list, trimmed, lower-cased, deduplicated. */
export const parseTags = (s: string | undefined): string[] =>
  s
    ? [
        ...new Set(
          s
            .split(',')
            .map((t) => t.trim().toLowerCase())
            .filter(Boolean),
        ),
      ]
    : [];
