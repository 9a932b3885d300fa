import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Env } from '../git/exec.js';
import {
  commitLeftovers,
  ensureAgentWorktree,
  ensureReportDir,
  prepareTaskBranch,
  taskBase,
  type GitAgent,
  type GitTown,
  type TaskBranch,
  type Worktree,
} from '../git/worktrees.js';
import type { Db } from '../store/db.js';
import { recordTaskBranch } from '../store/tasks.js';
import type { ClaimedTask } from '../store/worker.js';
import type { RoundWork } from './executor.js';
import type { PromptSetting } from './prompt.js';

/**
 * Where a CLI round runs. In a git town (unless `worktrees.enabled` is false or the agent was
 * spawned with --no-worktree) the agent's own worktree, on the branch of the round's task; else
 * the town's directory. After the CLI's process group is dead, `finish` commits what the agent
 * left in its worktree and records the task's branch and head on the task, so a retry (on any
 * agent) goes on from there. The branch is recorded when the round starts too. A worktree round carries one task (the worker takes one a round).
 */

export interface WorkspaceOptions {
  town: GitTown;
  agent: GitAgent;
  /** The environment git and the setup commands start from. */
  env: Env;
  /** Where the task's branch is recorded; without it, nothing is. */
  db?: Db;
  /** The tt the agent runs (the worker's shim), named in the prompt. */
  ttBin?: string;
}

/** A prepared round's working directory and what the prompt says about it. */
export interface RoundSpace {
  cwd: string;
  setting: PromptSetting;
  /** The worktree's top folder, when the round runs in one. */
  worktree?: string;
  /** The branch the round's task works on (in a worktree). */
  branch?: string;
  /**
   * Call once the CLI's process group is dead, whatever the outcome: commits the agent's
   * leftovers and records the branch. Never throws (a failure is logged; the work stays in the
   * tree, and the next round's branch switch commits it).
   */
  finish(): Promise<void>;
}

const errText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** The town's directory as the workspace: reports go to `.tt/reports/<agent>` (tt's own, git-ignored). */
const townSpace = (o: WorkspaceOptions, cwd: string): RoundSpace => {
  const reportDir = join(o.town.root, '.tt', 'reports', o.agent.name);
  mkdirSync(reportDir, { recursive: true });
  return {
    cwd,
    setting: { ...(o.ttBin ? { tt: o.ttBin } : {}), workspace: { dir: cwd }, reportDir },
    finish: async () => {},
  };
};

/** Warnings about a worktree are said once per worker. */
const warned = new WeakSet<WorkspaceOptions>();

/**
 * Prepares a round's workspace: the agent's worktree (made on first use, its setup run once) on
 * the branch of the round's task. Throws when git fails: the round cannot run where it should.
 */
export const prepareWorkspace = async (
  o: WorkspaceOptions,
  work: Pick<RoundWork, 'tasks'>,
  say: (line: string) => void,
): Promise<RoundSpace> => {
  const git = { env: o.env };
  const ws = await ensureAgentWorktree(o.town, o.agent, git);
  if (ws.kind === 'town') return townSpace(o, ws.cwd);
  if (ws.created) say(`made worktree ${ws.path}`);
  if (ws.setupRan) say(`ran the worktree setup (${o.town.worktrees.setup.length} command(s))`);
  if (!warned.has(o)) {
    warned.add(o);
    for (const w of ws.warnings) say(`warning: ${w}`);
  }
  const reportDir = await ensureReportDir(ws, git);
  const claimed = work.tasks[0];
  const tt = o.ttBin ? { tt: o.ttBin } : {};
  if (!claimed) {
    // A round of messages only: the tree stays where the last task left it (detached).
    return {
      cwd: ws.cwd,
      worktree: ws.path,
      setting: { ...tt, workspace: { dir: ws.cwd }, reportDir },
      finish: async () => {},
    };
  }
  const tb = await prepareTaskBranch(ws, claimed.task, git);
  if (tb.stray) say(`committed stray work found in the worktree (${tb.stray.files} file(s))`);
  // The branch is the task's from the start of its attempt (a mission item takes it from a work
  // task that ends before finish runs); a review's detached branch stays its work item's.
  if (!tb.detached && o.db)
    await recordTaskBranch(o.db, claimed.task.id, tb.branch).catch((e: unknown) =>
      say(`could not record the branch of task ${claimed.task.id.slice(0, 8)}: ${errText(e)}`),
    );
  const base = tb.base ?? (await taskBase(ws, git));
  return {
    cwd: ws.cwd,
    worktree: ws.path,
    branch: tb.branch,
    setting: { ...tt, workspace: { dir: ws.cwd, git: { branch: tb.branch, base } }, reportDir },
    finish: () => keepWork(o, ws, claimed, tb, say),
  };
};

/** Commits the agent's leftovers on the task's branch and records branch and head on the task. */
const keepWork = async (
  o: WorkspaceOptions,
  ws: Worktree,
  claimed: ClaimedTask,
  tb: TaskBranch,
  say: (line: string) => void,
): Promise<void> => {
  const { task } = claimed;
  try {
    const left = await commitLeftovers(ws, task, { env: o.env });
    if (left.committed) say(`committed ${left.files} file(s) the agent left on ${left.branch ?? left.head}`);
    // A review looks at its work item's branch detached: that branch stays the task's.
    if (left.branch && !tb.detached && o.db) await recordTaskBranch(o.db, task.id, left.branch, left.head);
  } catch (e) {
    say(`could not keep the work of task ${task.id.slice(0, 8)}: ${errText(e)}`);
  }
};
