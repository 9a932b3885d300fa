import { shortId } from '../model/ids.js';
import type { TaskPriority } from '../model/priority.js';
import { parseTags } from '../model/task.js';
import {
  addToBacklog,
  assignAllBacklog,
  backlogTasks,
  claimFromBacklog,
  removeFromBacklog,
} from '../services/backlog.js';
import { str, type Command } from './command.js';
import { ago, oneLine, table } from './format.js';
import { priorityFlag, tagsFlag } from './tasks.js';
import { withTown } from './with-town.js';

export const backlogAdd: Command = {
  name: 'backlog add',
  summary: 'add an unassigned task to the backlog',
  args: '<task...>',
  flags: { priority: priorityFlag, tags: tagsFlag },
  json: true,
  minArgs: 1,
  run: (ctx) =>
    withTown(ctx, async (t) => {
      const task = await addToBacklog(t, {
        description: ctx.args.join(' '),
        priority: ctx.flags.priority as TaskPriority,
        tags: parseTags(str(ctx.flags, 'tags')),
      });
      if (ctx.json) return ctx.printJson(task);
      ctx.io.out(`added task ${task.id} to the backlog`);
    }),
};

export const backlogList: Command = {
  name: 'backlog list',
  summary: 'list the backlog in claim order (priority, then age)',
  json: true,
  maxArgs: 0,
  run: (ctx) =>
    withTown(ctx, async (t) => {
      const tasks = await backlogTasks(t);
      if (ctx.json) return ctx.printJson({ tasks });
      if (!tasks.length) return void ctx.io.out('the backlog is empty');
      const now = t.clock.now();
      ctx.io.out(
        table([
          ['ID', 'PRI', 'AGE', 'TAGS', 'TASK'],
          ...tasks.map((x) => [
            shortId(x.id),
            x.priority,
            ago(now - x.createdAt),
            x.tags.join(',') || '-',
            oneLine(x.description, 60),
          ]),
        ]),
      );
    }),
};

export const backlogClaim: Command = {
  name: 'backlog claim',
  summary: 'assign one backlog task to an agent',
  args: '<task> <agent>',
  json: true,
  minArgs: 2,
  maxArgs: 2,
  run: (ctx) =>
    withTown(ctx, async (t) => {
      const id = await claimFromBacklog(t, ctx.args[0]!, ctx.args[1]!);
      if (ctx.json) return ctx.printJson({ task: id, agent: ctx.args[1] });
      ctx.io.out(`assigned task ${id} to ${ctx.args[1]}`);
    }),
};

export const backlogAssignAll: Command = {
  name: 'backlog assign-all',
  summary: 'assign every backlog task to an agent',
  args: '<agent>',
  json: true,
  minArgs: 1,
  maxArgs: 1,
  run: (ctx) =>
    withTown(ctx, async (t) => {
      const ids = await assignAllBacklog(t, ctx.args[0]!);
      if (ctx.json) return ctx.printJson({ tasks: ids, agent: ctx.args[0] });
      ctx.io.out(ids.length ? `assigned ${ids.length} task(s) to ${ctx.args[0]}` : 'the backlog is empty');
    }),
};

export const backlogRemove: Command = {
  name: 'backlog remove',
  summary: 'remove a task from the backlog and delete it',
  args: '<task>',
  json: true,
  minArgs: 1,
  maxArgs: 1,
  run: (ctx) =>
    withTown(ctx, async (t) => {
      const id = await removeFromBacklog(t, ctx.args[0]!);
      if (ctx.json) return ctx.printJson({ removed: id });
      ctx.io.out(`removed task ${id}`);
    }),
};

export const backlogCommands = [backlogAdd, backlogList, backlogClaim, backlogAssignAll, backlogRemove];
