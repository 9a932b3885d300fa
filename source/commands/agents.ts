import { displayLabel } from '../model/agent.js';
import { UsageError } from '../model/errors.js';
import { parseTags } from '../model/task.js';
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
import { str, type Command, type Ctx, type FlagSpec } from './command.js';
import type { Agent } from '../model/agent.js';
import { SimSettings } from '../model/sim.js';
import type { Town } from '../services/context.js';
import { runAgentLoop } from '../services/workers.js';
import { AGENT_GLYPH, short, table } from './format.js';
import { withTown } from './with-town.js';

const simFlags: Record<string, FlagSpec> = {
  simDuration: { type: 'number', description: 'sim: milliseconds each task takes', value: 'ms' },
  simFailRate: { type: 'number', description: 'sim: chance 0..1 that an attempt fails', value: 'p' },
  simFailFirst: { type: 'number', description: 'sim: the first N attempts of each task fail', value: 'n' },
  simQueryRate: {
    type: 'number',
    description: 'sim: chance 0..1 of asking the supervisor a question',
    value: 'p',
  },
};

const simSettings = (ctx: Ctx): SimSettings | undefined => {
  const given = Object.keys(simFlags).filter((k) => ctx.flags[k] !== undefined);
  if (given.length === 0) return undefined;
  const raw = {
    ...(ctx.flags.simDuration !== undefined ? { durationMs: ctx.flags.simDuration } : {}),
    ...(ctx.flags.simFailRate !== undefined ? { failRate: ctx.flags.simFailRate } : {}),
    ...(ctx.flags.simFailFirst !== undefined ? { failFirst: ctx.flags.simFailFirst } : {}),
    ...(ctx.flags.simQueryRate !== undefined ? { queryRate: ctx.flags.simQueryRate } : {}),
  };
  const r = SimSettings.safeParse(raw);
  if (!r.success)
    throw new UsageError(`--sim-*: ${r.error.issues[0]!.path.join('.')}: ${r.error.issues[0]!.message}`);
  return r.data;
};

const startFlags: Record<string, FlagSpec> = {
  maxRounds: {
    type: 'number',
    description: 'rounds before the worker stops (0: no limit; default from config)',
    value: 'n',
  },
  foreground: {
    type: 'boolean',
    description: 'run the worker here, attached to this terminal, until it stops',
  },
  start: {
    type: 'boolean',
    default: true,
    description: 'start the worker process (--no-start: register only)',
  },
};

const roundsFlag = (ctx: Ctx): number | undefined => {
  const n = ctx.flags.maxRounds as number | undefined;
  if (n !== undefined && (!Number.isInteger(n) || n < 0))
    throw new UsageError('--max-rounds must be a whole number, 0 or more');
  return n;
};

/** Starts an agent's worker: detached in the background, or here with --foreground. */
const startAgentWorker = async (ctx: Ctx, t: Town, agent: Agent): Promise<string> => {
  if (!ctx.flags.start) return 'not started (--no-start)';
  if (ctx.flags.foreground) return 'foreground';
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
    "The worker runs detached (its output in .tt/logs/<name>.log) and takes work from the agent's\ninbox and, when idle, from the backlog. --cli sim is a built-in simulated agent (no LLM).",
  flags: {
    cli: {
      type: 'string',
      shortFlag: 'c',
      description: 'CLI preset (claude, codex, aider, gemini, sim, ...) or a shell command',
      value: 'cli',
    },
    role: { type: 'string', description: 'role: worker, reviewer, tester, backend, ...', value: 'role' },
    nickname: {
      type: 'string',
      description: 'display name (default: a 1920s name from the id)',
      value: 'nick',
    },
    parent: { type: 'string', description: 'the agent that delegated to this one', value: 'agent' },
    cap: { type: 'string', description: 'capabilities, comma separated', value: 'a,b' },
    ...startFlags,
    ...simFlags,
  },
  json: true,
  minArgs: 1,
  maxArgs: 1,
  run: (ctx) =>
    withTown(ctx, async (t) => {
      const sim = simSettings(ctx);
      const maxRounds = roundsFlag(ctx);
      const a = await registerNewAgent(t, {
        name: ctx.args[0]!,
        ...(str(ctx.flags, 'cli') ? { cli: str(ctx.flags, 'cli')! } : sim ? { cli: 'sim' } : {}),
        ...(str(ctx.flags, 'role') ? { role: str(ctx.flags, 'role')! } : {}),
        ...(str(ctx.flags, 'nickname') ? { nickname: str(ctx.flags, 'nickname')! } : {}),
        ...(str(ctx.flags, 'parent') ? { parent: str(ctx.flags, 'parent')! } : {}),
        caps: parseTags(str(ctx.flags, 'cap')),
        ...(maxRounds !== undefined ? { maxRounds } : {}),
        ...(sim ? { sim } : {}),
        checkCli: ctx.flags.start !== false,
      });
      const how = await startAgentWorker(ctx, t, a);
      if (ctx.json) ctx.printJson({ ...a, worker: how });
      else ctx.io.out(`spawned ${displayLabel(a)} (${short(a.id)}) with cli ${a.cli}: ${how}`);
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
          ...all.map((a) => [`${AGENT_GLYPH[a.state]} ${a.state}`, displayLabel(a), short(a.id), a.cli]),
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
export const resume = agentVerb('resume', 'resume a paused agent', resumeAgent, 'resumed');
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
  flags: startFlags,
  json: true,
  minArgs: 1,
  maxArgs: 1,
  run: (ctx) =>
    withTown(ctx, async (t) => {
      const maxRounds = roundsFlag(ctx);
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

export const prune: Command = {
  name: 'prune',
  summary: 'remove stopped and errored agents and their keys',
  flags: { all: { type: 'boolean', description: 'remove every agent, running or not' } },
  json: true,
  maxArgs: 0,
  run: (ctx) =>
    withTown(ctx, async (t) => {
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
    'Without --to or --to-backlog it only lists. With --orphan-tasks it works on live tasks\nwhose assignee is missing or stopped instead of on inboxes.',
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
              short(r.task.id),
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
