import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmdirSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, isAbsolute, join, relative } from 'node:path';
import { GitError, git, gitOut, withoutRedirects, type Env } from './exec.js';
import {
  agentOfPath,
  agentWorktreePath,
  branchPlan,
  branchShortId,
  commitIdentity,
  committedSecret,
  configCandidates,
  CONFIG_FILE,
  isSafeBranchName,
  leftoverMessage,
  parseStatusPaths,
  parseWorktreeList,
  placementProblem,
  pruneVerdict,
  REPORT_DIR,
  REPORT_EXCLUDE,
  rescueBranchName,
  sparsePatterns,
  strayMessage,
  taskBranchName,
  townWorktreesDir,
  type WorktreeEntry,
} from './names.js';
import { runSetup } from './setup.js';

/**
 * One git worktree per agent and one branch per task (DESIGN.md section 7, Workspaces). In a
 * git town each agent works in a worktree of its own (its own index and HEAD), kept outside the
 * town's checkout; each task runs on its own branch from the town's base branch; what an agent
 * leaves uncommitted is committed by tt when the attempt ends. Outside a git work tree, or when
 * turned off, an agent works in the town's directory as before.
 */

/** The `worktrees` settings of tt.config.json (config/schema.ts `WorktreeSettings`). */
export interface WorktreeSettings {
  enabled: boolean;
  root?: string | undefined;
  baseBranch?: string | undefined;
  setup: readonly string[];
  setupTimeoutSecs: number;
}

/** What the git layer needs of a town. */
export interface GitTown {
  root: string;
  name: string;
  worktrees: WorktreeSettings;
}

/** What the git layer needs of an agent. */
export interface GitAgent {
  name: string;
  /** Spawned with --no-worktree: works in the town's directory. */
  noWorktree?: boolean | undefined;
}

/** What the git layer needs of a task. */
export interface GitTask {
  id: string;
  description: string;
  /** The branch the task works on when it is not its own (a mission fix or review: its work item's). */
  branch?: string | undefined;
  missionRole?: string | undefined;
}

export interface GitOptions {
  /** The environment git and the setup commands start from (default: this process's). */
  env?: Env;
  /** Per git command (default 60 s). */
  timeoutMs?: number;
}

/** An agent that works in the town's directory, and why. */
export interface TownWorkspace {
  kind: 'town';
  cwd: string;
  why: string;
}

/** An agent's own worktree. */
export interface Worktree {
  kind: 'worktree';
  agent: string;
  /** The worktree's top folder. */
  path: string;
  /** Where the agent works: the town's folder inside the worktree. */
  cwd: string;
  townRoot: string;
  /** The town's checkout: the work tree the town's directory is in. */
  checkout: string;
  /** `worktrees.baseBranch`, when set; otherwise the branch checked out in the town. */
  baseBranch?: string | undefined;
  /** Made by this call (else it already existed). */
  created: boolean;
  /** The setup commands ran in this call. */
  setupRan: boolean;
  /** Things the operator should know (a tracked tt.config.json, ...), one line each. */
  warnings: string[];
}

export type Workspace = TownWorkspace | Worktree;

const at = (cwd: string, o: GitOptions) => ({
  cwd,
  ...(o.env ? { env: o.env } : {}),
  ...(o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}),
});

/** A path with its existing part resolved through symlinks, as git records worktree paths. */
const canonical = (p: string): string => {
  try {
    return realpathSync(p);
  } catch {
    const up = dirname(p);
    return up === p ? p : join(canonical(up), basename(p));
  }
};

interface Repo {
  /** The top of the work tree the town is in. */
  checkout: string;
  /** The town's folder inside it: "" or "sub/dir/". */
  prefix: string;
}

/** The work tree a town is in, or why it is in none. */
const repoOf = async (townRoot: string, o: GitOptions): Promise<Repo | { why: string }> => {
  let inside: string;
  try {
    inside = (await git(['rev-parse', '--is-inside-work-tree'], { ...at(townRoot, o), ok: [128] })).stdout;
  } catch (e) {
    if (e instanceof GitError && /not installed/.test(e.message)) return { why: 'git is not installed' };
    throw e;
  }
  if (inside.trim() !== 'true') return { why: `${townRoot} is not in a git work tree` };
  const [checkout, prefix] = (
    await gitOut(['rev-parse', '--show-toplevel', '--show-prefix'], at(townRoot, o))
  ).split('\n');
  return { checkout: canonical(checkout!), prefix: prefix ?? '' };
};

/** Whether a town's directory is in a git work tree (so its agents may get worktrees). Never throws. */
export const isGitTown = async (townRoot: string, o: GitOptions = {}): Promise<boolean> => {
  try {
    return !('why' in (await repoOf(townRoot, o)));
  } catch {
    return false;
  }
};

/** The branch (or commit) task branches start from; one clear line when there is none. */
const baseOf = async (
  townRoot: string,
  configured: string | undefined,
  checkout: string,
  o: GitOptions,
): Promise<string> => {
  const base =
    configured ??
    (await git(['symbolic-ref', '-q', '--short', 'HEAD'], { ...at(townRoot, o), ok: [1] })).stdout.trim();
  if (!base)
    throw new GitError(
      `the town's checkout ${checkout} is on a detached HEAD: set worktrees.baseBranch in tt.config.json`,
    );
  const found = await git(['rev-parse', '--verify', '-q', `${base}^{commit}`], {
    ...at(townRoot, o),
    ok: [1],
  });
  if (found.code !== 0)
    throw new GitError(
      configured
        ? `worktrees.baseBranch "${base}" is not a branch or commit of ${checkout}`
        : `branch ${base} of ${checkout} has no commit yet: commit once before agents get worktrees`,
    );
  return base;
};

const listWorktrees = async (checkout: string, o: GitOptions): Promise<WorktreeEntry[]> =>
  parseWorktreeList((await git(['worktree', 'list', '--porcelain', '-z'], at(checkout, o))).stdout);

/** The config files of the town (and above it) a commit has: hidden from agents' trees. */
const trackedConfigs = async (repo: Repo, commit: string, o: GitOptions): Promise<string[]> => {
  const paths = configCandidates(repo.prefix);
  const out = await gitOut(['ls-tree', '-z', '--name-only', commit, '--', ...paths], at(repo.checkout, o));
  return out.split('\0').filter(Boolean);
};

const hideConfigs = async (path: string, hidden: string[], o: GitOptions): Promise<void> => {
  // Non-cone sparse checkout in this worktree only (git keeps the setting in the worktree's own
  // config): the files are not in the tree, `git status` stays clean, `git add -A` leaves them be.
  await git(['sparse-checkout', 'set', '--no-cone', ...sparsePatterns(hidden)], at(path, o));
};

/**
 * Hides the config files the worktree's HEAD tracks if one shows (a worktree made before the
 * file was committed, or a branch that brought one in).
 */
const keepConfigsHidden = async (path: string, repo: Repo, head: string, o: GitOptions): Promise<void> => {
  const tracked = await trackedConfigs(repo, head, o);
  if (tracked.some((f) => existsSync(join(path, f)))) await hideConfigs(path, tracked, o);
};

/** One line per thing the operator should know about where agents' trees live. */
const placementWarnings = async (
  repo: Repo,
  dir: string,
  hidden: string[],
  base: string,
  o: GitOptions,
): Promise<string[]> => {
  const warnings: string[] = [];
  for (const file of hidden) {
    const blob = await git(['cat-file', '-p', `${base}:${file}`], { ...at(repo.checkout, o), ok: [128] });
    const secret = blob.code === 0 ? committedSecret(blob.stdout) : undefined;
    warnings.push(
      secret
        ? `${file} is tracked in git and its committed copy holds ${secret}: every agent can read it ` +
            `with git show; take it out of the repository's history and set TT_REDIS_PASSWORD instead`
        : `${file} is tracked in git: tt hides it from agent worktrees, but its committed copy stays ` +
            `readable through git, so keep secrets out of it (TT_REDIS_PASSWORD, REDIS_URL)`,
    );
  }
  for (let d = dir; ; d = dirname(d)) {
    if (existsSync(join(d, CONFIG_FILE)))
      warnings.push(
        `${d} holds a ${CONFIG_FILE} above the agent worktrees in ${dir}: an agent's tt would take it ` +
          `for its town; set worktrees.root elsewhere`,
      );
    if (dirname(d) === d) break;
  }
  return warnings;
};

/** Environment variables tt's own credentials travel in: never handed to setup commands. */
const TT_SECRETS = ['TT_REDIS_PASSWORD', 'REDIS_URL'];

const setupEnv = (env: Env | undefined, vars: Record<string, string>): Record<string, string> => {
  const out = withoutRedirects(env);
  for (const k of TT_SECRETS) delete out[k];
  return { ...out, GIT_TERMINAL_PROMPT: '0', ...vars };
};

/**
 * The setup commands of the town, once per worktree: a marker in the worktree's git admin folder
 * (outside the agent's tree, gone with the worktree) records that they ran. A failed setup leaves
 * no marker, so the next call runs it again.
 */
const setUp = async (town: GitTown, agent: string, path: string, cwd: string, o: SetupOptions) => {
  const commands = town.worktrees.setup;
  if (commands.length === 0) return false;
  const admin = await gitOut(['rev-parse', '--absolute-git-dir'], at(path, o));
  const marker = join(admin, 'tt-setup-done');
  if (existsSync(marker)) return false;
  const logFile = o.setupLog ?? join(town.root, '.tt', 'logs', `${agent}_setup.log`);
  try {
    await runSetup({
      commands,
      cwd,
      env: setupEnv(o.env, { TT_TOWN: town.root, TT_AGENT_NAME: agent, TT_WORKTREE: path }),
      logFile,
      timeoutMs: Math.round(town.worktrees.setupTimeoutSecs * 1000),
    });
  } catch (e) {
    throw new GitError(`setup of ${agent}'s worktree failed: ${(e as Error).message}`);
  }
  writeFileSync(marker, `${commands.join('\n')}\n`);
  return true;
};

export interface SetupOptions extends GitOptions {
  /** Where the setup commands' output goes (default `<town>/.tt/logs/<agent>_setup.log`). */
  setupLog?: string;
}

/**
 * The agent's workspace: in a git town, its own worktree (made with `git worktree add`, detached
 * at the base branch, the town's tracked tt.config.json hidden, setup run once); otherwise, or
 * when turned off for the town or the agent, the town's directory. Idempotent.
 */
export const ensureAgentWorktree = async (
  town: GitTown,
  agent: GitAgent,
  o: SetupOptions = {},
): Promise<Workspace> => {
  const plain = (why: string): TownWorkspace => ({ kind: 'town', cwd: town.root, why });
  if (!town.worktrees.enabled) return plain('worktrees.enabled is false in tt.config.json');
  if (agent.noWorktree) return plain(`${agent.name} was spawned with --no-worktree`);
  const repo = await repoOf(town.root, o);
  if ('why' in repo) return plain(repo.why);

  const dir = canonical(townWorktreesDir({ ...town, worktreesRoot: town.worktrees.root }, repo.checkout));
  const path = agentWorktreePath(dir, agent.name);
  const townRoot = canonical(town.root);
  const bad = placementProblem(path, { toplevel: repo.checkout, townRoot });
  if (bad) throw new GitError(`cannot place ${agent.name}'s worktree: ${bad}; set worktrees.root outside it`);

  let known = (await listWorktrees(repo.checkout, o)).find((e) => canonical(e.path) === path);
  if (known && (known.prunable !== undefined || !existsSync(path))) {
    await git(['worktree', 'prune'], at(repo.checkout, o));
    known = undefined;
  }
  let warnings: string[] = [];
  if (!known) {
    if (existsSync(path) && readdirSync(path).length > 0)
      throw new GitError(
        `${path} exists and is not a worktree of ${repo.checkout}: move it away, or set worktrees.root`,
      );
    const base = await baseOf(town.root, town.worktrees.baseBranch, repo.checkout, o);
    const hidden = await trackedConfigs(repo, base, o);
    mkdirSync(dirname(path), { recursive: true });
    if (hidden.length === 0) await git(['worktree', 'add', '--detach', path, base], at(repo.checkout, o));
    else {
      await git(['worktree', 'add', '--no-checkout', '--detach', path, base], at(repo.checkout, o));
      await hideConfigs(path, hidden, o);
      await git(['reset', '-q', '--hard', 'HEAD'], at(path, o));
    }
    warnings = await placementWarnings(repo, dir, hidden, base, o);
  } else await keepConfigsHidden(path, repo, known.head ?? (await headOf(path, o)), o);

  const cwd = repo.prefix ? join(path, repo.prefix.replace(/\/$/, '')) : path;
  mkdirSync(cwd, { recursive: true });
  const setupRan = await setUp(town, agent.name, path, cwd, o);
  return {
    kind: 'worktree',
    agent: agent.name,
    path,
    cwd,
    townRoot,
    checkout: repo.checkout,
    baseBranch: town.worktrees.baseBranch,
    created: !known,
    setupRan,
    warnings,
  };
};

const branchExists = async (cwd: string, branch: string, o: GitOptions): Promise<boolean> =>
  (await git(['show-ref', '--verify', '-q', `refs/heads/${branch}`], { ...at(cwd, o), ok: [1] })).code === 0;

/** The head commit, and the branch checked out (none when detached), in one call. */
const whereIs = async (cwd: string, o: GitOptions): Promise<{ head: string; branch?: string }> => {
  const [head, ref] = (await gitOut(['rev-parse', 'HEAD', '--symbolic-full-name', 'HEAD'], at(cwd, o))).split(
    '\n',
  );
  return ref?.startsWith('refs/heads/') ? { head: head!, branch: ref.slice(11) } : { head: head! };
};

const headOf = (cwd: string, o: GitOptions): Promise<string> => gitOut(['rev-parse', 'HEAD'], at(cwd, o));

/** Whether some local branch has this commit (else a switch away from it would lose it). */
const onABranch = async (cwd: string, sha: string, o: GitOptions): Promise<boolean> =>
  (
    await gitOut(
      ['for-each-ref', '--count=1', '--contains', sha, '--format=%(refname)', 'refs/heads'],
      at(cwd, o),
    )
  ).length > 0;

/** The first of the names that is not a branch yet (numbered after the last when all are). */
const freeBranch = async (cwd: string, names: string[], o: GitOptions): Promise<string> => {
  for (const n of names) if (!(await branchExists(cwd, n, o))) return n;
  const last = names.at(-1)!;
  for (let i = 2; ; i++) if (!(await branchExists(cwd, `${last}-${i}`, o))) return `${last}-${i}`;
};

/** user.name and user.email as git's configuration has them here, where set. */
const configuredIdentity = async (cwd: string, o: GitOptions): Promise<{ name?: string; email?: string }> => {
  const out = await git(['config', '-z', '--get-regexp', '^user\\.(name|email)$'], {
    ...at(cwd, o),
    ok: [1],
  });
  const found: { name?: string; email?: string } = {};
  for (const entry of out.stdout.split('\0')) {
    const [key, value] = [entry.slice(0, entry.indexOf('\n')), entry.slice(entry.indexOf('\n') + 1)];
    if (key === 'user.name' && value) found.name = value;
    if (key === 'user.email' && value) found.email = value;
  }
  return found;
};

/** What `commitLeftovers` did. */
export interface Leftovers {
  /** The branch the work is on (none only when the worktree was left detached on a commit a branch has). */
  branch?: string | undefined;
  /** The head commit after tt's commit, if it made one. */
  head: string;
  /** tt made a commit. */
  committed: boolean;
  /** Files in tt's commit. */
  files: number;
}

/**
 * Commits everything uncommitted in the worktree (untracked files too, ignored ones not) with tt
 * as the fallback author, hooks and signing off (the point is to keep the work, whatever the
 * repository's checks say). A detached HEAD with work on it gets a branch first, so a later switch
 * loses nothing.
 */
const commitAll = async (
  wt: Worktree,
  message: string,
  branchNames: string[],
  o: GitOptions,
): Promise<Leftovers> => {
  const cwd = wt.path;
  await git(['add', '-A'], at(cwd, o));
  const staged = (await gitOut(['diff', '--cached', '--name-only', '-z'], at(cwd, o)))
    .split('\0')
    .filter(Boolean);
  const now = await whereIs(cwd, o);
  const before = now.head;
  let branch = now.branch;
  if (!branch && (staged.length > 0 || !(await onABranch(cwd, before, o)))) {
    branch = await freeBranch(cwd, [...branchNames, rescueBranchName(wt.agent, before)], o);
    await git(['switch', '-q', '-c', branch], at(cwd, o));
  }
  if (staged.length === 0) return { branch, head: before, committed: false, files: 0 };
  const who = commitIdentity(await configuredIdentity(cwd, o));
  await git(
    [
      ...['-c', `user.name=${who.name}`, '-c', `user.email=${who.email}`, '-c', 'commit.gpgsign=false'],
      ...['commit', '-q', '--no-verify', '--no-edit', '-m', message],
    ],
    at(cwd, o),
  );
  return { branch, head: await headOf(cwd, o), committed: true, files: staged.length };
};

/** What `prepareTaskBranch` did. */
export interface TaskBranch {
  branch: string;
  head: string;
  /** The branch existed (a retry, or a mission's fix or review on its work item's branch). */
  reused: boolean;
  /** A review: the work item's branch is checked out detached. */
  detached: boolean;
  /** The base a new branch started from. */
  base?: string;
  /** Uncommitted work found in the worktree before the switch, committed where it was. */
  stray?: Leftovers;
}

/**
 * Puts the worktree on the task's branch at the start of an attempt. A new branch starts from the
 * base branch as it is now; an existing one (a retry of the task on this agent, or a work item's
 * branch a mission's fix task carries) is checked out as it is; a review gets its work item's
 * branch detached. Uncommitted work already in the tree (an attempt that ended without
 * `commitLeftovers`) is committed where it is first.
 */
export const prepareTaskBranch = async (
  wt: Worktree,
  task: GitTask,
  o: GitOptions = {},
): Promise<TaskBranch> => {
  const plan = branchPlan(wt.agent, task);
  if (!isSafeBranchName(plan.branch))
    throw new GitError(`task ${branchShortId(task.id)}: "${plan.branch}" is not a usable branch name`);
  const found = await git(['status', '--porcelain=v1', '-z'], at(wt.path, o));
  const stray =
    parseStatusPaths(found.stdout).length > 0
      ? await commitAll(wt, strayMessage(wt.agent, task.id), [], o)
      : undefined;
  const exists = await branchExists(wt.path, plan.branch, o);
  const done = async (r: Omit<TaskBranch, 'head' | 'stray'>): Promise<TaskBranch> => {
    const head = await headOf(wt.path, o);
    const prefix = relative(wt.path, wt.cwd);
    await keepConfigsHidden(wt.path, { checkout: wt.checkout, prefix: prefix ? `${prefix}/` : '' }, head, o);
    return { ...r, head, ...(stray ? { stray } : {}) };
  };
  if (plan.mode === 'detach') {
    if (!exists)
      throw new GitError(
        `task ${branchShortId(task.id)}: the branch to review, ${plan.branch}, does not exist`,
      );
    await git(['switch', '-q', '--detach', plan.branch], at(wt.path, o));
    return done({ branch: plan.branch, reused: true, detached: true });
  }
  if (exists) {
    await git(['switch', '-q', plan.branch], at(wt.path, o));
    return done({ branch: plan.branch, reused: true, detached: false });
  }
  if (plan.mustExist)
    throw new GitError(
      `task ${branchShortId(task.id)}: its work item's branch ${plan.branch} does not exist`,
    );
  const base = await baseOf(wt.townRoot, wt.baseBranch, wt.checkout, o);
  await git(['switch', '-q', '--no-track', '-c', plan.branch, base], at(wt.path, o));
  return done({ branch: plan.branch, reused: false, detached: false, base });
};

/**
 * At the end of an attempt: commits what the agent left uncommitted ("tt: uncommitted work of
 * <agent> on task <id>"), then (unless `release: false`) detaches HEAD at that commit, so the
 * branch is checked out nowhere and a mission's review or fix task may take it up in another
 * agent's worktree. Returns the branch and head commit for the task to record.
 */
export const commitLeftovers = async (
  wt: Worktree,
  task: Pick<GitTask, 'id' | 'description'>,
  o: GitOptions & { release?: boolean } = {},
): Promise<Leftovers> => {
  const r = await commitAll(wt, leftoverMessage(wt.agent, task.id), [taskBranchName(wt.agent, task)], o);
  if (o.release !== false && r.branch) await git(['switch', '-q', '--detach'], at(wt.path, o));
  return r;
};

/** The branch (or commit) a worktree's new task branches start from: `worktrees.baseBranch`, else the town's. */
export const taskBase = (wt: Worktree, o: GitOptions = {}): Promise<string> =>
  baseOf(wt.townRoot, wt.baseBranch, wt.checkout, o);

/**
 * The folder the agent writes its report files to, `<cwd>/.tt-reports`: made if missing, and
 * ignored by git through the repository's `info/exclude` (shared by all its worktrees, so the
 * line is written once), so neither the agent's `git add -A` nor tt's leftover commit takes it.
 */
export const ensureReportDir = async (wt: Worktree, o: GitOptions = {}): Promise<string> => {
  const rel = await gitOut(['rev-parse', '--git-path', 'info/exclude'], at(wt.path, o));
  const exclude = isAbsolute(rel) ? rel : join(wt.path, rel);
  let text = '';
  try {
    text = readFileSync(exclude, 'utf8');
  } catch {
    // no exclude file yet
  }
  if (!text.split('\n').some((l) => l.trim() === REPORT_EXCLUDE)) {
    mkdirSync(dirname(exclude), { recursive: true });
    const sep = text && !text.endsWith('\n') ? '\n' : '';
    appendFileSync(exclude, `${sep}# tt: agents' report files\n${REPORT_EXCLUDE}\n`);
  }
  const dir = join(wt.cwd, REPORT_DIR);
  mkdirSync(dir, { recursive: true });
  return dir;
};

/** One agent worktree of a town, as `worktreeStatus` sees it. */
export interface WorktreeInfo {
  agent: string;
  path: string;
  /** Its directory is there (git may still list a worktree whose folder was deleted). */
  exists: boolean;
  branch?: string | undefined;
  head?: string | undefined;
  locked?: string | undefined;
  /** Uncommitted changes (untracked files included, ignored ones not). */
  changes: number;
  /** Commits on its HEAD that the base branch does not have. */
  ahead: number;
}

export type WorktreesStatus =
  | { git: false; why: string }
  | { git: true; base: string; checkout: string; dir: string; worktrees: WorktreeInfo[] };

/**
 * A town's agent worktrees (those under its worktrees folder), with their branch, uncommitted
 * changes and commits not in the base branch. Works whether or not worktrees are enabled now,
 * so worktrees made earlier can still be seen and pruned.
 */
export const worktreeStatus = async (
  town: GitTown,
  o: GitOptions & { agent?: string } = {},
): Promise<WorktreesStatus> => {
  const repo = await repoOf(town.root, o);
  if ('why' in repo) return { git: false, why: repo.why };
  const dir = canonical(townWorktreesDir({ ...town, worktreesRoot: town.worktrees.root }, repo.checkout));
  const base = await baseOf(town.root, town.worktrees.baseBranch, repo.checkout, o);
  const only = o.agent === undefined ? undefined : basename(agentWorktreePath(dir, o.agent));
  const worktrees: WorktreeInfo[] = [];
  for (const e of await listWorktrees(repo.checkout, o)) {
    const path = canonical(e.path);
    const agent = agentOfPath(path, dir);
    if (!agent || (only !== undefined && agent !== only)) continue;
    const exists = e.prunable === undefined && existsSync(path);
    const changes = exists
      ? parseStatusPaths((await git(['status', '--porcelain=v1', '-z'], at(path, o))).stdout).length
      : 0;
    const ahead = e.head
      ? Number(await gitOut(['rev-list', '--count', `${base}..${e.head}`], at(repo.checkout, o)))
      : 0;
    worktrees.push({ agent, path, exists, branch: e.branch, head: e.head, locked: e.locked, changes, ahead });
  }
  return { git: true, base, checkout: repo.checkout, dir, worktrees };
};

export interface PruneResult {
  /** Not a git town: nothing to prune. */
  why?: string;
  removed: { agent: string; path: string; why: string }[];
  kept: { agent: string; path: string; why: string }[];
}

/**
 * Removes a town's agent worktrees that are clean and whose HEAD the base branch already has;
 * reports the others and why they stay. `busy` names agents whose trees must stay whatever they
 * hold (the caller knows which agents work). Branches are never deleted. `tt down` and stopping
 * an agent leave worktrees alone: this is the only thing that removes one.
 */
export const pruneWorktrees = async (
  town: GitTown,
  o: GitOptions & { busy?: readonly string[]; dryRun?: boolean } = {},
): Promise<PruneResult> => {
  const status = await worktreeStatus(town, o);
  if (!status.git) return { why: status.why, removed: [], kept: [] };
  const result: PruneResult = { removed: [], kept: [] };
  let gone = false;
  for (const w of status.worktrees) {
    const verdict = pruneVerdict({ ...w, busy: o.busy?.includes(w.agent) ?? false, base: status.base });
    const row = { agent: w.agent, path: w.path, why: verdict.why };
    if (!verdict.remove) {
      result.kept.push(row);
      continue;
    }
    if (!o.dryRun) {
      if (w.exists) {
        // No --force: git itself refuses a tree with changes, should one appear meanwhile.
        const r = await git(['worktree', 'remove', w.path], at(status.checkout, o))
          .then(() => undefined)
          .catch((e: unknown) => (e instanceof GitError ? e.message : String(e)));
        if (r) {
          result.kept.push({ ...row, why: `removing it failed: ${r}` });
          continue;
        }
      } else gone = true;
    }
    result.removed.push(row);
  }
  if (!o.dryRun) {
    if (gone) await git(['worktree', 'prune'], at(status.checkout, o));
    try {
      if (readdirSync(status.dir).length === 0) rmdirSync(status.dir);
    } catch {
      // already gone, or not empty
    }
  }
  return result;
};
