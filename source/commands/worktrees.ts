import { townWorktrees, type AgentWorktree } from '../services/worktrees.js';
import type { Command } from './command.js';
import { table } from './format.js';
import { withTown } from './with-town.js';

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The tree's state in a word or two: clean, N changes, gone, locked. */
const treeOf = (w: AgentWorktree): string => {
  const tree = !w.exists ? 'missing' : w.changes ? plural(w.changes, 'change') : 'clean';
  return w.locked !== undefined ? `${tree}, locked` : tree;
};

const branchOf = (w: AgentWorktree): string => w.branch ?? (w.head ? `detached ${w.head.slice(0, 8)}` : '-');

export const worktrees: Command = {
  name: 'worktrees',
  summary: "each agent's git worktree: branch, clean or not, commits ahead of the base branch",
  description:
    'In a git town each agent works in a worktree of its own, outside the checkout\n' +
    '(.tt-worktrees/<town>/<agent> beside it, or under worktrees.root), one branch per task.\n' +
    'AHEAD counts the commits on its HEAD that the base branch does not have.\n' +
    'tt prune --worktrees removes the clean, merged ones.',
  json: true,
  maxArgs: 0,
  run: (ctx) =>
    withTown(ctx, async (t) => {
      const r = await townWorktrees(t);
      if (ctx.json) return ctx.printJson(r);
      if (!r.git) return void ctx.io.out(`no worktrees: ${r.why}; agents work in the town's directory`);
      const out = ctx.io.out;
      out(`base ${r.base}; agent worktrees in ${r.dir}`);
      if (!r.enabled)
        out("worktrees.enabled is false in tt.config.json: agents work in the town's directory");
      if (r.worktrees.length)
        out(
          `\n${table([
            ['AGENT', 'STATE', 'BRANCH', 'TREE', 'AHEAD', 'PATH'],
            ...r.worktrees.map((w) => [
              w.agent,
              w.state ?? '(removed)',
              branchOf(w),
              treeOf(w),
              String(w.ahead),
              w.path,
            ]),
          ])}`,
        );
      else out('\nno agent worktrees yet (an agent gets one when it first works)');
      if (r.without.length)
        out(
          `\nwithout a worktree: ${r.without
            .map((a) => (a.noWorktree ? `${a.name} (--no-worktree)` : a.name))
            .join(', ')}`,
        );
    }),
};

export const worktreeCommands = [worktrees];
