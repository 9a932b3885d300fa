import { shortId } from '../model/ids.js';
import { displayLabel } from '../model/agent.js';
import { UsageError } from '../model/errors.js';
import {
  agents,
  closeAgent,
  interruptAgent,
  killAgent,
  pruneAgents,
  reclaimInboxes,
  reclaimOrphanTasks,
  recoverAgents,
  registerNewAgent,
  restartAgent,
  resumeAgent,
  startWorker,
  waitAgent,
  type OrphanAction,
} from '../services/agents.js';
import { maxRoundsOf, spawnRequest, SPAWN_FLAGS, START_FLAGS } from '../services/spawn.js';
import { str, type Command, type Ctx } from './command.js';
import type { Agent } from '../model/agent.js';
import type { Town } from '../services/context.js';
import { runAgentLoop } from '../services/workers.js';
import { pruneAgentWorktrees } from '../services/worktrees.js';
import { AGENT_GLYPH, table } from './format.js';
import { withTown } from './with-town.js';

/** Starts an agent's worker: detached in the background, or here with --foreground. */
const startAgentWorker = async (
  t: Town,
  agent: Agent,
  how: { start: boolean; foreground: boolean },
): Promise<string> => {
  if (!how.start) return 'not started (--no-start)';
  if (how.foreground) return 'foreground';
  const pid = await startWorker(t, agent.id);
  return `worker pid ${pid}, log .tt/logs/${agent.name}.log`;
};

const runForeground = async (ctx: Ctx, agent: Agent) => {
  const exit = await runAgentLoop(ctx.where, agent.id, {
    ...(ctx.io.signal ? { signal: ctx.io.signal } : {}),
    log: ctx.io.out,
  });
  return exit === 'gone' ? 1 : 0;
};

export const spawn: Command = {
  name: 'spawn',
  summary: 'create an agent and start its worker process',
  args: '<name>',
  description:
    "The worker runs detached (its output in .tt/logs/<name>.log) and takes work from the agent's\n" +
    'inbox and, when idle, from the backlog. --cli sim is a built-in simulated agent (no LLM).',
  flags: SPAWN_FLAGS,
  json: true,
  minArgs: 1,
  maxArgs: 1,
  run: (ctx) =>
    withTown(ctx, async (t) => {
      const request = spawnRequest(ctx.args[0]!, ctx.flags);
      const a = await registerNewAgent(t, request.options);
      const how = await startAgentWorker(t, a, request);
      if (ctx.json) ctx.printJson({ ...a, worker: how });
      else {
        const where = a.noWorktree ? ", in the town's directory (--no-worktree)" : '';
        ctx.io.out(`spawned ${displayLabel(a)} (${shortId(a.id)}) with cli ${a.cli}${where}: ${how}`);
      }
      if (how === 'foreground') return runForeground(ctx, a);
    }),
};

export const agentLoop: Command = {
  name: 'agent-loop',
  summary: 'run the worker of an agent in this process (what spawn starts)',
  args: '<agent-id>',
  hidden: true,
  flags: { failpoint: { type: 'string', description: 'test hook', value: 'name' } },
  minArgs: 1,
  maxArgs: 1,
  async run(ctx) {
    const exit = await runAgentLoop(ctx.where, ctx.args[0]!, {
      ...(ctx.io.signal ? { signal: ctx.io.signal } : {}),
      log: ctx.io.out,
      ...(str(ctx.flags, 'failpoint') ? { failpoint: str(ctx.flags, 'failpoint')! } : {}),
    });
    return exit === 'gone' ? 1 : 0;
  },
};

export const list: Command = {
  name: 'list',
  summary: 'list agents',
  json: true,
  maxArgs: 0,
  run: (ctx) =>
    withTown(ctx, async (t) => {
      const all = await agents(t);
      if (ctx.json) return ctx.printJson({ agents: all });
      if (all.length === 0) return void ctx.io.out('no agents: tt spawn <name> makes one');
      ctx.io.out(
        table([
          ['STATE', 'AGENT', 'ID', 'CLI'],
          ...all.map((a) => [`${AGENT_GLYPH[a.state]} ${a.state}`, displayLabel(a), shortId(a.id), a.cli]),
        ]),
      );
      const prunable = all.filter((a) => a.state === 'stopped' || a.state === 'error').length;
      if (prunable) ctx.io.out(`\n${prunable} stopped agent(s) can be removed with tt prune`);
    }),
};

/** A verb that moves one agent and reports the move. */
const agentVerb = (name: string, summary: string, fn: typeof killAgent, done: string): Command => ({
  name,
  summary,
  args: '<agent>',
  json: true,
  minArgs: 1,
  maxArgs: 1,
  run: (ctx) =>
    withTown(ctx, async (t) => {
      const r = await fn(t, ctx.args[0]!);
      if (ctx.json) return ctx.printJson({ id: r.agent.id, name: r.agent.name, previous: r.prev });
      ctx.io.out(`${displayLabel(r.agent)} ${done} (was ${r.prev})`);
    }),
});

export const kill = agentVerb('kill', 'stop an agent now', killAgent, 'stopped');
export const interrupt = agentVerb(
  'interrupt',
  'pause an agent: it takes no new work until resumed',
  interruptAgent,
  'paused',
);
export const resume = agentVerb('resume', 'resume a paused or quarantined agent', resumeAgent, 'resumed');
export const close = agentVerb(
  'close',
  'let an agent finish its round, then stop (drain)',
  closeAgent,
  'draining',
);
export const restart: Command = {
  name: 'restart',
  summary: 'bring a stopped agent back (fresh round count) and start its worker',
  args: '<agent>',
  flags: START_FLAGS,
  json: true,
  minArgs: 1,
  maxArgs: 1,
  run: (ctx) =>
    withTown(ctx, async (t) => {
      const maxRounds = maxRoundsOf(ctx.flags);
      const r = await restartAgent(t, ctx.args[0]!, {
        start: Boolean(ctx.flags.start) && !ctx.flags.foreground,
        ...(maxRounds !== undefined ? { maxRounds } : {}),
      });
      if (ctx.json) ctx.printJson({ id: r.agent.id, name: r.agent.name, previous: r.prev });
      else ctx.io.out(`${displayLabel(r.agent)} restarted (was ${r.prev})`);
      if (ctx.flags.foreground) return runForeground(ctx, r.agent);
    }),
};

export const wait: Command = {
  name: 'wait',
  summary: 'wait until an agent stops (exit 1 on timeout)',
  args: '<agent>',
  flags: { timeout: { type: 'number', description: 'seconds to wait', default: 300, value: 'secs' } },
  json: true,
  minArgs: 1,
  maxArgs: 1,
  run: (ctx) =>
    withTown(ctx, async (t) => {
      const secs = ctx.flags.timeout as number;
      if (secs < 0) throw new UsageError('--timeout must be 0 or more');
      const r = await waitAgent(t, ctx.args[0]!, secs * 1000);
      if (ctx.json) ctx.printJson({ id: r.agent.id, state: r.agent.state, done: r.done });
      else
        ctx.io.out(
          r.done
            ? `${displayLabel(r.agent)} is ${r.agent.state}`
            : `timed out after ${secs}s: ${displayLabel(r.agent)} is ${r.agent.state}`,
        );
      return r.done ? 0 : 1;
    }),
};

/** `tt prune --worktrees`: the agents' clean, merged worktrees removed; what stays and why. */
const pruneTrees = async (ctx: Ctx, t: Town): Promise<void> => {
  const dryRun = Boolean(ctx.flags.dryRun);
  const r = await pruneAgentWorktrees(t, { dryRun });
  if (ctx.json) return ctx.printJson({ dryRun, ...r });
  if (r.why) return void ctx.io.out(`no worktrees to prune: ${r.why}`);
  if (!r.removed.length && !r.kept.length) return void ctx.io.out('no agent worktrees');
  ctx.io.out(
    table([
      ...r.removed.map((w) => [dryRun ? 'would remove' : 'removed', w.agent, w.path, w.why]),
      ...r.kept.map((w) => ['kept', w.agent, w.path, w.why]),
    ]),
  );
  if (r.removed.length)
    ctx.io.out(
      `\nbranches are kept; ${dryRun ? 'nothing was removed (--dry-run)' : 'git branch -d removes merged ones'}`,
    );
};

export const prune: Command = {
  name: 'prune',
  summary: 'remove stopped and errored agents and their keys (--worktrees: clean, merged worktrees)',
  description:
    "--worktrees removes, instead, the agents' git worktrees that are clean and whose HEAD the\n" +
    'base branch already has, never one whose agent is working; it says what stays and why.\n' +
    'Branches are never deleted.',
  flags: {
    all: { type: 'boolean', description: 'remove every agent, running or not' },
    worktrees: { type: 'boolean', description: "remove the agents' clean, merged worktrees (not agents)" },
    dryRun: { type: 'boolean', description: 'with --worktrees: say what would go, remove nothing' },
  },
  json: true,
  maxArgs: 0,
  run: (ctx) =>
    withTown(ctx, async (t) => {
      if (ctx.flags.worktrees) {
        if (ctx.flags.all) throw new UsageError('--all prunes agents, --worktrees their worktrees: give one');
        return pruneTrees(ctx, t);
      }
      if (ctx.flags.dryRun) throw new UsageError('--dry-run goes with --worktrees');
      const removed = await pruneAgents(t, Boolean(ctx.flags.all));
      if (ctx.json)
        return ctx.printJson({ removed: removed.map((a) => ({ id: a.id, name: a.name, state: a.state })) });
      ctx.io.out(removed.length ? `removed ${removed.map((a) => a.name).join(', ')}` : 'nothing to prune');
    }),
};

export const recover: Command = {
  name: 'recover',
  summary: 'take back the work of agents whose heartbeat expired, and requeue due retries',
  json: true,
  maxArgs: 0,
  run: (ctx) =>
    withTown(ctx, async (t) => {
      const r = await recoverAgents(t);
      if (ctx.json)
        return ctx.printJson({
          recovered: r.agents.map((a) => ({ id: a.id, name: a.name, was: a.state })),
          moved: r.moved,
          promoted: r.promoted,
        });
      for (const a of r.agents) ctx.io.out(`recovered ${displayLabel(a)} (was ${a.state})`);
      ctx.io.out(
        r.agents.length || r.moved || r.promoted
          ? `${r.moved} task(s) taken back, ${r.promoted} retry(ies) requeued`
          : 'no dead agents, no due retries',
      );
    }),
};

const orphanAction = (ctx: Ctx): OrphanAction => {
  const chosen = (['cancel', 'delete', 'toBacklog'] as const).filter((f) => ctx.flags[f]);
  if (chosen.length > 1) throw new UsageError('choose one of --to-backlog, --cancel, --delete');
  return chosen[0] === 'toBacklog' ? 'backlog' : (chosen[0] ?? 'list');
};

export const reclaim: Command = {
  name: 'reclaim',
  summary: 'take the queued work of stopped agents (or tasks whose agent is gone)',
  description:
    'Without --to or --to-backlog it only lists. With --orphan-tasks it works on live tasks\n' +
    'whose assignee is missing or stopped instead of on inboxes.',
  flags: {
    toBacklog: { type: 'boolean', description: 'put the work back on the backlog' },
    to: { type: 'string', description: 'move the messages to this agent', value: 'agent' },
    from: { type: 'string', description: 'only this stopped agent', value: 'agent' },
    orphanTasks: { type: 'boolean', description: 'work on orphaned tasks instead of inboxes' },
    cancel: { type: 'boolean', description: 'with --orphan-tasks: cancel them' },
    delete: { type: 'boolean', description: 'with --orphan-tasks: delete them' },
  },
  json: true,
  maxArgs: 0,
  run: (ctx) =>
    withTown(ctx, async (t) => {
      if (ctx.flags.orphanTasks) {
        const rows = await reclaimOrphanTasks(t, orphanAction(ctx));
        if (ctx.json)
          return ctx.printJson({
            tasks: rows.map((r) => ({
              id: r.task.id,
              assignedTo: r.task.assignedTo,
              reason: r.reason,
              done: r.done,
            })),
          });
        if (!rows.length) return void ctx.io.out('no orphaned tasks');
        ctx.io.out(
          table(
            rows.map((r) => [
              shortId(r.task.id),
              r.task.state,
              r.reason,
              r.done ? orphanAction(ctx) : 'listed',
              r.task.description.split('\n', 1)[0]!.slice(0, 50),
            ]),
          ),
        );
        return;
      }
      if (ctx.flags.cancel || ctx.flags.delete)
        throw new UsageError('--cancel and --delete go with --orphan-tasks');
      if (ctx.flags.to && ctx.flags.toBacklog) throw new UsageError('choose one of --to and --to-backlog');
      const rows = await reclaimInboxes(t, {
        ...(str(ctx.flags, 'from') ? { from: str(ctx.flags, 'from')! } : {}),
        ...(str(ctx.flags, 'to') ? { to: str(ctx.flags, 'to')! } : {}),
        toBacklog: Boolean(ctx.flags.toBacklog),
      });
      if (ctx.json) return ctx.printJson({ messages: rows });
      ctx.io.out(
        rows.length
          ? table(rows.map((r) => [r.agent, r.outcome, r.message]))
          : 'nothing queued for stopped agents',
      );
    }),
};

export const agentCommands = [
  spawn,
  agentLoop,
  list,
  kill,
  interrupt,
  resume,
  close,
  wait,
  restart,
  prune,
  recover,
  reclaim,
];
