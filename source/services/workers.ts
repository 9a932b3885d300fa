import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import type { Agent } from '../model/agent.js';
import { retryDelaysMs } from '../model/retry.js';
import { environValue, isAlive } from '../redis/process.js';
import { cliCommand } from '../config/presets.js';
import { isGitTown } from '../git/worktrees.js';
import { cliExecutor, cliSettings } from '../runtime/cli-executor.js';
import { SIM } from '../runtime/clis/index.js';
import { ttEntry, writeShim } from '../runtime/entry.js';
import type { Executor } from '../runtime/executor.js';
import { githubConfigured, roundPrompt } from '../runtime/round-prompt.js';
import { parseSim } from '../model/sim.js';
import { simExecutor } from '../runtime/sim.js';
import { runWorker, type WorkerConfig, type WorkerExit } from '../runtime/worker.js';
import { getAgent } from '../store/agents.js';
import { openTown, type Town, type Where } from './context.js';

export const logsDir = (t: Pick<Town, 'root'>) => join(t.root, '.tt', 'logs');

/** The worker settings of a town's config. */
export const workerConfig = (t: Pick<Town, 'config'>, maxRounds?: number): WorkerConfig => {
  const a = t.config.agent;
  const s = (secs: number) => Math.round(secs * 1000);
  return {
    heartbeatMs: s(a.heartbeatSecs),
    heartbeatTtlMs: s(a.heartbeatTtlSecs),
    idleTimeoutMs: s(a.idleTimeoutSecs),
    maxRounds: maxRounds ?? a.maxRounds,
    reapIntervalMs: s(a.reapIntervalSecs),
    blockMs: Math.min(5000, s(a.reapIntervalSecs)),
    quarantine: { after: a.quarantineAfter, fastFailMs: s(a.fastFailSecs) },
    policy: {
      maxMessages: 100,
      maxTasks: a.tasksPerRound,
      autoClaim: a.autoClaim,
      backlogScan: 50,
      retryGraceMs: s(a.retryGraceSecs),
      delaysMs: retryDelaysMs(
        t.config.tasks.maxAttempts,
        t.config.tasks.backoffBaseSecs,
        t.config.tasks.backoffMaxSecs,
      ),
    },
  };
};

/**
 * Whether an agent's rounds run in a worktree of its own when the town is a git town: a CLI
 * agent (not the simulator), worktrees on for the town, the agent not spawned --no-worktree.
 */
export const usesWorktree = (t: Pick<Town, 'config'>, agent: Agent): boolean =>
  agent.cli !== SIM && t.config.worktrees.enabled && !agent.noWorktree;

/**
 * The executor for an agent's CLI: the built-in simulator, or the CLI run per round through its
 * adapter, in the agent's worktree in a git town. `ttBin` is the shim the agent runs tt by.
 */
export const executorFor = (t: Town, agent: Agent, ttBin?: string): Executor => {
  if (agent.cli === SIM) return simExecutor(parseSim(agent.sim));
  const settings = cliSettings(agent.cli, cliCommand(agent.cli, t.presets), t.config.agent);
  return cliExecutor({
    ...settings,
    townRoot: t.root,
    db: t.db,
    ...(ttBin ? { ttBin } : {}),
    workspace: {
      town: { root: t.root, name: t.config.name, worktrees: t.config.worktrees },
      agent: { name: agent.name, noWorktree: agent.noWorktree },
      env: t.env,
      db: t.db,
      ...(ttBin ? { ttBin } : {}),
    },
  });
};

/** Starts a detached worker process for an agent (its own session, output to .tt/logs/<name>.log). */
export const launchWorker = (t: Town, agent: Agent): number => {
  const dir = logsDir(t);
  mkdirSync(dir, { recursive: true });
  const fd = openSync(join(dir, `${agent.name}.log`), 'a');
  try {
    const child = spawn(process.execPath, [ttEntry(t.env), 'agent-loop', agent.id, '--town', t.root], {
      cwd: t.root,
      detached: true,
      stdio: ['ignore', fd, fd],
      env: { ...t.env, [WORKER_MARK]: agent.id } as NodeJS.ProcessEnv,
    });
    child.unref();
    return child.pid ?? 0;
  } finally {
    closeSync(fd);
  }
};

/** The environment variable that marks a worker process with its agent's id. */
const WORKER_MARK = 'TT_WORKER_AGENT';

/** Whether a pid is this agent's worker on this machine (not a recycled pid). */
export const isWorkerOf = (pid: number, agentId: string): boolean =>
  isAlive(pid) && environValue(pid, WORKER_MARK) === agentId;

/** Asks an agent's worker process to stop now (SIGTERM), if it runs on this machine. */
export const signalWorker = (agent: Agent): boolean => {
  if (!agent.pid || !isWorkerOf(agent.pid, agent.id)) return false;
  try {
    process.kill(agent.pid, 'SIGTERM');
    return true;
  } catch {
    return false;
  }
};

/** The body of `tt agent-loop`: the worker of one agent, until it stops. */
export const runAgentLoop = async (
  where: Where,
  agentId: string,
  opts: { signal?: AbortSignal; log: (line: string) => void; maxRounds?: number; failpoint?: string },
): Promise<WorkerExit> => {
  const t = await openTown(where, 'dispatcher');
  try {
    const agent = await getAgent(t.db, agentId);
    if (!agent) return 'gone';
    const blocking = await t.connect('blocking');
    const config = workerConfig(t, opts.maxRounds ?? agent.maxRounds);
    // A worktree holds one task's branch at a time: one task a round.
    if (usesWorktree(t, agent) && (await isGitTown(t.root, { env: t.env }))) config.policy.maxTasks = 1;
    const shim = writeShim(join(t.root, '.tt', 'bin'), t.env, t.root);
    const env = Object.fromEntries(
      Object.entries(t.env).filter((e): e is [string, string] => e[1] !== undefined),
    );
    return await runWorker({
      db: t.db,
      blocking,
      agentId,
      executor: executorFor(t, agent, join(shim, 'tt')),
      config,
      buildPrompt: (work, setting) =>
        roundPrompt(t.db, t.config.name, config.maxRounds, work, setting, {
          github: githubConfigured(t.config.github),
        }),
      logsDir: logsDir(t),
      env: { ...env, TT_TOWN: t.root, PATH: `${shim}:${env.PATH ?? ''}` },
      ...(opts.signal ? { signal: opts.signal } : {}),
      log: opts.log,
      ...(opts.failpoint ? { failpoint: opts.failpoint } : {}),
    });
  } finally {
    await t.close();
  }
};
