import { shortId } from '../model/ids.js';
import { UsageError } from '../model/errors.js';
import { TASK_PRIORITIES, type TaskPriority } from '../model/priority.js';
import { REPORT_MAX_BYTES } from '../model/report.js';
import { parseTags, TASK_STATES, type Task, type TaskState } from '../model/task.js';
import { agentLabels } from '../services/agents.js';
import {
  assignTask,
  cancelTask,
  completeTask,
  currentTask,
  failTask,
  findTask,
  retryTask,
  tasksIn,
} from '../services/tasks.js';
import { str, type Command, type FlagSpec } from './command.js';
import { ago, oneLine, table, TASK_GLYPH } from './format.js';
import { readTextInput, textFlags } from './text-input.js';
import { withTown } from './with-town.js';

export const priorityFlag: FlagSpec = {
  type: 'string',
  shortFlag: 'p',
  choices: TASK_PRIORITIES,
  default: 'normal',
  description: 'critical, high, normal or low',
};
export const tagsFlag: FlagSpec = { type: 'string', description: 'tags, comma separated', value: 'a,b' };

export const assign: Command = {
  name: 'assign',
  summary: 'create a task and assign it to an agent',
  args: '<agent> <task...>',
  flags: {
    priority: priorityFlag,
    tags: tagsFlag,
    from: { type: 'string', description: 'sender (default: this agent, else supervisor)', value: 'agent' },
  },
  json: true,
  minArgs: 2,
  run: (ctx) =>
    withTown(ctx, async (t) => {
      const task = await assignTask(t, ctx.args[0]!, {
        description: ctx.args.slice(1).join(' '),
        priority: ctx.flags.priority as TaskPriority,
        tags: parseTags(str(ctx.flags, 'tags')),
        ...(str(ctx.flags, 'from') ? { from: str(ctx.flags, 'from')! } : {}),
      });
      if (ctx.json) return ctx.printJson(task);
      ctx.io.out(`assigned task ${task.id} to ${ctx.args[0]}`);
    }),
};

const showTask = (task: Task, labels: Map<string, string>, now: number): string =>
  table(
    [
      ['id', task.id],
      ['state', task.state],
      ['priority', task.priority],
      ['assigned to', task.assignedTo ? (labels.get(task.assignedTo) ?? task.assignedTo) : '-'],
      ['attempts', `${task.attempts}/${task.maxAttempts}`],
      ['tags', task.tags.join(', ') || '-'],
      ['created', `${new Date(task.createdAt).toISOString()} (${ago(now - task.createdAt)} ago)`],
      ...(task.startedAt ? [['started', new Date(task.startedAt).toISOString()]] : []),
      ...(task.completedAt ? [['finished', new Date(task.completedAt).toISOString()]] : []),
      ...(task.parent ? [['parent', task.parent]] : []),
      ...(task.result ? [['result', task.result]] : []),
      ...(task.lastError ? [['last error', task.lastError]] : []),
      ...(task.deadReason ? [['dead letter', task.deadReason]] : []),
    ].map(([k, v]) => [`${k}:`, v!]),
  ) + `\n\n${task.description}`;

export const taskShow: Command = {
  name: 'task show',
  summary: 'show a task',
  args: '<task>',
  json: true,
  minArgs: 1,
  maxArgs: 1,
  run: (ctx) =>
    withTown(ctx, async (t) => {
      const task = await findTask(t, ctx.args[0]!);
      if (ctx.json) return ctx.printJson(task);
      const labels = await agentLabels(t);
      ctx.io.out(showTask(task, labels, t.clock.now()));
    }),
};

export const taskComplete: Command = {
  name: 'task complete',
  summary: 'mark a task completed (repeating it changes nothing)',
  args: '<task>',
  description: `A report written by an agent is best passed as a file (--result-file F) or on stdin (--result - <<'EOF' ... EOF), where no shell expands it; it is stored byte for byte, up to ${REPORT_MAX_BYTES / 1024} KiB.`,
  flags: textFlags(
    'result',
    'what was done: a PR URL, a summary (default Completed)',
    'a file holding what was done',
    { shortFlag: 'r' },
  ),
  json: true,
  minArgs: 1,
  maxArgs: 1,
  run: async (ctx) => {
    const result = (await readTextInput(ctx, 'result', 'result')) ?? 'Completed';
    return withTown(ctx, async (t) => {
      const { task, end } = await completeTask(t, ctx.args[0]!, result);
      if (ctx.json) return ctx.printJson({ ...task, changed: end !== 'unchanged' });
      ctx.io.out(end === 'unchanged' ? `task ${task.id} was already completed` : `completed task ${task.id}`);
    });
  },
};

export const taskFail: Command = {
  name: 'task fail',
  summary: 'report a failed attempt: retried with backoff until its attempts run out',
  args: '<task>',
  description: `The reason takes the same forms as tt task complete's result: --reason "...", --reason-file F, or --reason - (stdin), up to ${REPORT_MAX_BYTES / 1024} KiB.`,
  flags: textFlags('reason', 'why it failed', 'a file saying why it failed'),
  json: true,
  minArgs: 1,
  maxArgs: 1,
  run: async (ctx) => {
    const reason = await readTextInput(ctx, 'reason', 'reason');
    if (!reason) throw new UsageError('say why: --reason "...", --reason-file F or --reason - (stdin)');
    return withTown(ctx, async (t) => {
      const { task, end } = await failTask(t, ctx.args[0]!, reason);
      if (ctx.json) return ctx.printJson({ ...task, changed: end !== 'unchanged', end });
      ctx.io.out(
        end === 'retry'
          ? `task ${task.id} failed attempt ${task.attempts} of ${task.maxAttempts}; it will be retried`
          : `task ${task.id} failed for good after ${task.attempts} attempt(s); tt task retry ${shortId(task.id)} re-drives it`,
      );
    });
  },
};

export const taskRetry: Command = {
  name: 'task retry',
  summary: 'put a failed (dead-lettered) task back on the backlog with fresh attempts',
  args: '<task>',
  json: true,
  minArgs: 1,
  maxArgs: 1,
  run: (ctx) =>
    withTown(ctx, async (t) => {
      const task = await retryTask(t, ctx.args[0]!);
      if (ctx.json) return ctx.printJson(task);
      ctx.io.out(`task ${task.id} is back on the backlog`);
    }),
};

export const taskCancel: Command = {
  name: 'task cancel',
  summary: 'cancel a task that has not finished',
  args: '<task>',
  flags: {
    reason: { type: 'string', description: 'why', default: 'cancelled by the operator', value: 'text' },
  },
  json: true,
  minArgs: 1,
  maxArgs: 1,
  run: (ctx) =>
    withTown(ctx, async (t) => {
      const { task, changed } = await cancelTask(t, ctx.args[0]!, str(ctx.flags, 'reason')!);
      if (ctx.json) return ctx.printJson({ ...task, changed });
      ctx.io.out(changed ? `cancelled task ${task.id}` : `task ${task.id} was already cancelled`);
    }),
};

export const taskCurrent: Command = {
  name: 'task current',
  summary: 'show the task an agent is working on (default: this agent)',
  args: '[agent]',
  json: true,
  maxArgs: 1,
  run: (ctx) =>
    withTown(ctx, async (t) => {
      const r = await currentTask(t, ctx.args[0]);
      if (ctx.json) return ctx.printJson({ agent: r.agent, task: r.task ?? null });
      ctx.io.out(
        r.task
          ? `${r.task.id}  ${r.task.state}  ${oneLine(r.task.description, 70)}`
          : `${r.agent} has no current task`,
      );
    }),
};

export const taskList: Command = {
  name: 'task list',
  summary: 'list tasks',
  flags: {
    state: { type: 'string', choices: TASK_STATES, description: 'only tasks in this state' },
    dead: { type: 'boolean', description: 'only dead letters: tasks that failed their last attempt' },
  },
  json: true,
  maxArgs: 0,
  run: (ctx) =>
    withTown(ctx, async (t) => {
      const state = ctx.flags.dead ? 'failed' : (str(ctx.flags, 'state') as TaskState | undefined);
      const tasks = await tasksIn(t, state ? [state] : undefined);
      if (ctx.json) return ctx.printJson({ tasks });
      if (!tasks.length) return void ctx.io.out(state ? `no ${state} tasks` : 'no tasks');
      const labels = await agentLabels(t);
      ctx.io.out(
        table([
          ['', 'ID', 'STATE', 'PRI', 'AGENT', 'TRY', 'TASK'],
          ...tasks.map((x) => [
            TASK_GLYPH[x.state],
            shortId(x.id),
            x.state,
            x.priority,
            x.assignedTo ? (labels.get(x.assignedTo) ?? shortId(x.assignedTo)) : '-',
            `${x.attempts}/${x.maxAttempts}`,
            oneLine(x.description, 50),
          ]),
        ]),
      );
    }),
};

export const taskCommands = [
  assign,
  taskComplete,
  taskFail,
  taskRetry,
  taskCancel,
  taskShow,
  taskCurrent,
  taskList,
];
