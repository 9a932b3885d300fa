/**
 * Pure decisions of the git layer: branch names, commit messages, where worktrees go and what
 * to hide in them, what `pruneWorktrees` may remove, and the parsers of git's porcelain output.
 * No I/O here: `worktrees.ts` runs git and applies these.
 */
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';

/** Characters git refuses in a ref name (check-ref-format rules 3-5 and 8-10), plus anything not ASCII. */
const REF_BAD = /[\u0000-\u0020\u007f~^:?*[\\]|\.\.|@\{|\/\/|^[/.-]|\/\.|\.lock(\/|$)|[./]$/;

/**
 * Whether a branch name passes `git check-ref-format --branch`: no component starts with "." or
 * ends with ".lock", no "..", "@{", "//", control character, space, "~^:?*[\\", no leading "-"
 * or "/", no trailing "/" or ".", and not "@". Non-ASCII is refused here although git allows it:
 * tt's names never need it, and it keeps the names safe on every filesystem.
 */
export const isSafeBranchName = (name: string): boolean =>
  name.length > 0 && name.length <= 200 && name !== '@' && !REF_BAD.test(name) && /^[\x21-\x7e]+$/.test(name);

/**
 * One safe path component of a branch name from anything: characters other than letters, digits,
 * ".", "_" and "-" become "-", runs of "." and "-" collapse, no leading "." or "-", no trailing
 * "." or ".lock". Case is kept (agent names are case-sensitive).
 */
export const refComponent = (s: string, fallback: string, max = 64): string => {
  let out = s
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/\.{2,}/g, '.')
    .replace(/-{2,}/g, '-')
    .replace(/^[.-]+/, '')
    .slice(0, max);
  for (let prev = ''; prev !== out;) {
    prev = out;
    out = out.replace(/\.lock$/i, '').replace(/[.-]+$/, '');
  }
  return out || fallback;
};

/** Latin letters that Unicode does not decompose into a base letter and a mark. */
const FOLD: Record<string, string> = { ß: 'ss', æ: 'ae', ø: 'o', œ: 'oe', ł: 'l', đ: 'd', ð: 'd', þ: 'th' };

/** The title of a task as a branch slug: lower case ASCII words joined by "-", at most `max` characters. */
export const slugify = (title: string, max = 40): string => {
  const words = title
    .split('\n', 1)[0]!
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/[ßæøœłđðþ]/g, (c) => FOLD[c]!)
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  const cut = words.length > max ? words.slice(0, max) : words;
  // Cut at a word boundary when one is near, so a slug does not end in half a word.
  const edge = words.length > max && words[max] !== '-' ? cut.lastIndexOf('-') : -1;
  const slug = (edge >= max / 2 ? cut.slice(0, edge) : cut).replace(/-+$/, '');
  return slug || 'task';
};

/**
 * The short id of a task in branch names and commit subjects: its first 8 hex digits. tt's
 * displayed short ids are 4 digits, but a branch is found again by its name (a retry reuses it),
 * and 4 digits collide once a town has a few hundred tasks: 8 make that a non-event.
 */
export const branchShortId = (id: string): string =>
  id
    .toLowerCase()
    .replace(/[^0-9a-z]/g, '')
    .slice(0, 8) || 'task';

/** The branch a task runs on: `tt/<agent>/<short id>-<slug of its title>`. */
export const taskBranchName = (agent: string, task: { id: string; description: string }): string =>
  `tt/${refComponent(agent, 'agent')}/${branchShortId(task.id)}-${slugify(task.description)}`;

/** Where an agent's work goes when it left its worktree on a detached HEAD. */
export const rescueBranchName = (agent: string, sha: string): string =>
  `tt/${refComponent(agent, 'agent')}/rescue-${sha.slice(0, 10)}`;

/** What a task's branch is for in one attempt. */
export type BranchPlan =
  /** Check out `branch` (made from the base when missing, unless `mustExist`). */
  | { mode: 'branch'; branch: string; mustExist: boolean }
  /** A review: the work item's branch, detached, so the reviewer's own changes never land on it. */
  | { mode: 'detach'; branch: string };

/**
 * Which branch an attempt works on. A task that carries a branch (a mission's fix or review task
 * gets its work item's; a retried task keeps the one its first attempt recorded) uses it; any
 * other task gets its own name, so a retry on the same agent finds the same branch again.
 */
export const branchPlan = (
  agent: string,
  task: { id: string; description: string; branch?: string | undefined; missionRole?: string | undefined },
): BranchPlan => {
  if (!task.branch) return { mode: 'branch', branch: taskBranchName(agent, task), mustExist: false };
  if (task.missionRole === 'review') return { mode: 'detach', branch: task.branch };
  return { mode: 'branch', branch: task.branch, mustExist: task.missionRole === 'fix' };
};

/** The commit tt makes of what an agent left uncommitted at the end of an attempt. */
export const leftoverMessage = (agent: string, taskId: string): string =>
  `tt: uncommitted work of ${agent} on task ${branchShortId(taskId)}\n\n` +
  `The agent left these changes uncommitted when its attempt ended; tt\n` +
  `committed them so nothing is lost.\n\nTt-Task: ${taskId}\n`;

/** The commit tt makes of changes found in a worktree before an attempt starts (a crashed attempt's). */
export const strayMessage = (agent: string, taskId: string): string =>
  `tt: uncommitted work of ${agent} found before task ${branchShortId(taskId)}\n\n` +
  `The worktree held changes nobody committed (an attempt that ended\n` +
  `without tt committing them); tt kept them here before switching branch.\n\nTt-Task: ${taskId}\n`;

/** The author tt commits as: git's configured identity where set, else tt's own. */
export const commitIdentity = (configured: {
  name?: string;
  email?: string;
}): { name: string; email: string } => ({
  name: configured.name || 'tt',
  email: configured.email || 'tt@localhost',
});

/** Whether `inner` is `outer` or below it (both absolute and resolved). */
export const isWithin = (inner: string, outer: string): boolean => {
  const r = relative(outer, inner);
  return r === '' || (r !== '..' && !r.startsWith(`..${sep}`) && !isAbsolute(r));
};

/**
 * The folder that holds a town's agent worktrees: `worktrees.root` (relative to the town) when
 * set, else `.tt-worktrees` beside the repository's checkout; then the town's name under it. A
 * sibling of the checkout rather than a folder inside it: the town's `git status`, its tools'
 * globs (tsc, eslint, test runners) and its file watchers never see N copies of the sources, and
 * walking up from an agent's tree never reaches the town's directory (`tt.config.json`, `.tt/`).
 */
export const townWorktreesDir = (
  town: { root: string; name: string; worktreesRoot?: string | undefined },
  toplevel: string,
): string =>
  join(
    town.worktreesRoot ? resolve(town.root, town.worktreesRoot) : join(dirname(toplevel), '.tt-worktrees'),
    refComponent(town.name, 'town'),
  );

/** An agent's worktree: `<town worktrees dir>/<agent name>`. */
export const agentWorktreePath = (townDir: string, agent: string): string =>
  join(townDir, refComponent(agent, 'agent'));

/** Why a worktree may not live at `path`, or undefined when it may. */
export const placementProblem = (
  path: string,
  at: { toplevel: string; townRoot: string },
): string | undefined => {
  if (isWithin(path, at.townRoot)) return `${path} is inside the town directory ${at.townRoot}`;
  if (isWithin(path, at.toplevel)) return `${path} is inside the town's checkout ${at.toplevel}`;
  if (isWithin(at.townRoot, path)) return `${path} contains the town directory ${at.townRoot}`;
  return undefined;
};

export const CONFIG_FILE = 'tt.config.json';

/**
 * The folder in an agent's worktree (at the town's folder) where the agent writes its report
 * files: git ignores it through the repository's `info/exclude`, so tt's leftover commit and
 * `git status` never see the reports.
 */
export const REPORT_DIR = '.tt-reports';
/** The `info/exclude` line that hides REPORT_DIR at any depth. */
export const REPORT_EXCLUDE = `${REPORT_DIR}/`;

/**
 * The repository paths of the config files an agent's tree must not show: the town's own and any
 * in a folder above it (an agent's `tt` walks up from its working directory to find a town, and
 * must never take a checked-out copy for the real one). `prefix` is the town's folder inside the
 * repository ("" at its top, else ending in "/").
 */
export const configCandidates = (prefix: string): string[] => {
  const parts = prefix.split('/').filter(Boolean);
  const out: string[] = [];
  for (let n = parts.length; n >= 0; n--) out.push([...parts.slice(0, n), CONFIG_FILE].join('/'));
  return out;
};

const escapePattern = (p: string): string => p.replace(/[\\*?[\]!#]/g, (c) => `\\${c}`);

/** Non-cone sparse-checkout patterns: everything but the given repository paths. */
export const sparsePatterns = (hidden: readonly string[]): string[] => [
  '/*',
  ...hidden.map((p) => `!/${escapePattern(p)}`),
];

/**
 * What secret a committed tt.config.json holds, if any: a Redis password in `redis.password` or
 * in the userinfo of `redis.url`. Anything unreadable counts as none (it is not a valid config).
 */
export const committedSecret = (text: string): string | undefined => {
  let config: unknown;
  try {
    config = JSON.parse(text);
  } catch {
    return undefined;
  }
  const redis = (config as { redis?: { password?: unknown; url?: unknown } } | null)?.redis;
  if (typeof redis?.password === 'string' && redis.password) return 'a Redis password (redis.password)';
  if (typeof redis?.url === 'string') {
    try {
      if (new URL(redis.url).password) return 'a Redis password (in redis.url)';
    } catch {
      // not a URL: no password in it
    }
  }
  return undefined;
};

/** One entry of `git worktree list --porcelain -z`. */
export interface WorktreeEntry {
  path: string;
  head?: string;
  /** Short name ("main"), when a branch is checked out. */
  branch?: string;
  detached: boolean;
  bare: boolean;
  locked?: string;
  prunable?: string;
}

/** Parses `git worktree list --porcelain -z`: NUL-terminated lines, an empty one between entries. */
export const parseWorktreeList = (out: string): WorktreeEntry[] => {
  const entries: WorktreeEntry[] = [];
  let cur: WorktreeEntry | undefined;
  for (const line of out.split('\0')) {
    if (line === '') {
      if (cur) entries.push(cur);
      cur = undefined;
      continue;
    }
    const space = line.indexOf(' ');
    const key = space < 0 ? line : line.slice(0, space);
    const value = space < 0 ? '' : line.slice(space + 1);
    if (key === 'worktree') {
      if (cur) entries.push(cur);
      cur = { path: value, detached: false, bare: false };
    } else if (!cur) continue;
    else if (key === 'HEAD') cur.head = value;
    else if (key === 'branch') cur.branch = value.replace(/^refs\/heads\//, '');
    else if (key === 'detached') cur.detached = true;
    else if (key === 'bare') cur.bare = true;
    else if (key === 'locked') cur.locked = value;
    else if (key === 'prunable') cur.prunable = value;
  }
  if (cur) entries.push(cur);
  return entries;
};

/** The paths `git status --porcelain=v1 -z` reports (a rename's source is not counted twice). */
export const parseStatusPaths = (out: string): string[] => {
  const fields = out.split('\0');
  const paths: string[] = [];
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i]!;
    if (f.length < 4) continue;
    paths.push(f.slice(3));
    if (f[0] === 'R' || f[0] === 'C') i++;
  }
  return paths;
};

/** What `pruneWorktrees` knows of one agent worktree. */
export interface PruneFacts {
  exists: boolean;
  locked?: string | undefined;
  /** The caller says the agent is working (or may be): never remove its tree. */
  busy: boolean;
  /** Uncommitted changes, untracked files included, ignored ones not. */
  changes: number;
  /** Commits on its HEAD that the base branch does not have. */
  ahead: number;
  branch?: string | undefined;
  base: string;
}

export type PruneVerdict = { remove: true; why: string } | { remove: false; why: string };

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/**
 * Whether a worktree may go: only a clean one whose HEAD the base branch already has. Everything
 * else stays, with the reason.
 */
export const pruneVerdict = (f: PruneFacts): PruneVerdict => {
  if (f.busy) return { remove: false, why: 'its agent is working' };
  if (f.locked !== undefined) return { remove: false, why: `locked${f.locked ? ` (${f.locked})` : ''}` };
  if (!f.exists) return { remove: true, why: 'its directory is gone' };
  if (f.changes > 0) return { remove: false, why: `${plural(f.changes, 'uncommitted change')}` };
  const on = f.branch ? `branch ${f.branch}` : 'its detached HEAD';
  if (f.ahead > 0) return { remove: false, why: `${on} has ${plural(f.ahead, 'commit')} not in ${f.base}` };
  return { remove: true, why: `clean, ${on} is merged into ${f.base}` };
};

/** The agent of a worktree path, when it is one of a town's (`<town worktrees dir>/<agent>`). */
export const agentOfPath = (path: string, townDir: string): string | undefined =>
  dirname(path) === townDir ? basename(path) : undefined;
