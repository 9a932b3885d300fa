import { agentWorktreePath } from '../git/names.js';
import {
  pruneWorktrees,
  worktreeStatus,
  type GitTown,
  type PruneResult,
  type WorktreeInfo,
} from '../git/worktrees.js';
import type { Agent, AgentState } from '../model/agent.js';
import { agents } from './agents.js';
import type { Town } from './context.js';

/**
 * The agents' git worktrees as the operator sees them (`tt worktrees`, `tt prune --worktrees`):
 * the git layer's view joined with the agent records. Git runs only in git/.
 */

/** What the git layer needs of a town. */
export const gitTownOf = (t: Town): GitTown => ({
  root: t.root,
  name: t.config.name,
  worktrees: t.config.worktrees,
});

/** The folder name of an agent's worktree: its name as git/ spells it (the path under no folder). */
const folderOf = (name: string): string => agentWorktreePath('', name);

/** An agent worktree, with its agent when the record is still there. */
export interface AgentWorktree extends WorktreeInfo {
  /** The agent's id and state; absent when the worktree's agent was removed (tt prune). */
  agentId?: string;
  state?: AgentState;
}

export type TownWorktrees =
  | { git: false; why: string }
  | {
      git: true;
      base: string;
      /** Where the town's agent worktrees live. */
      dir: string;
      worktrees: AgentWorktree[];
      /** Agents that have no worktree: spawned with --no-worktree, or none made yet. */
      without: { name: string; noWorktree: boolean }[];
      /** worktrees.enabled in tt.config.json. */
      enabled: boolean;
    };

/** Each agent's worktree: branch, uncommitted changes, commits ahead of the base branch. */
export const townWorktrees = async (t: Town): Promise<TownWorktrees> => {
  const status = await worktreeStatus(gitTownOf(t), { env: t.env });
  if (!status.git) return status;
  const all = await agents(t);
  const byFolder = new Map(all.map((a) => [folderOf(a.name), a]));
  const worktrees = status.worktrees.map((w): AgentWorktree => {
    const a = byFolder.get(w.agent);
    return a ? { ...w, agent: a.name, agentId: a.id, state: a.state } : w;
  });
  const have = new Set(status.worktrees.map((w) => w.agent));
  const without = all
    .filter((a) => !have.has(folderOf(a.name)))
    .map((a) => ({ name: a.name, noWorktree: a.noWorktree === true }));
  return {
    git: true,
    base: status.base,
    dir: status.dir,
    worktrees,
    without,
    enabled: t.config.worktrees.enabled,
  };
};

/**
 * States in which an agent's worker may be inside a round, using its tree: never pruned. An idle
 * agent is between rounds (its next round makes the tree again); a stopped one has no worker.
 */
const BUSY: readonly AgentState[] = ['starting', 'working', 'paused', 'quarantined', 'draining'];

const isBusy = (a: Agent): boolean => BUSY.includes(a.state);

/**
 * Removes the agents' worktrees that are clean and merged into the base branch (git/
 * pruneWorktrees), never one whose agent may be working in it; says what was removed and what
 * was kept, and why. Branches stay. With `dryRun` nothing is removed.
 */
export const pruneAgentWorktrees = async (t: Town, o: { dryRun?: boolean } = {}): Promise<PruneResult> => {
  const busy = (await agents(t)).filter(isBusy);
  const r = await pruneWorktrees(gitTownOf(t), {
    env: t.env,
    busy: busy.map((a) => folderOf(a.name)),
    ...(o.dryRun ? { dryRun: true } : {}),
  });
  const state = new Map(busy.map((a) => [folderOf(a.name), a.state]));
  // git/ says "its agent is working" for every busy tree; say which state it is in.
  const kept = r.kept.map((k) =>
    state.has(k.agent) ? { ...k, why: `its agent is ${state.get(k.agent)}` } : k,
  );
  return { ...r, kept };
};
