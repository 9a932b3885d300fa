/**
 * The git layer against the real git binary, in temporary repositories. The machine's git
 * configuration is kept out: HOME and GIT_CONFIG_GLOBAL point at an empty temporary home, and
 * the system file is not read.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { git, GitError } from '../source/git/exec.js';
import { branchShortId, taskBranchName } from '../source/git/names.js';
import {
  commitLeftovers,
  ensureAgentWorktree,
  prepareTaskBranch,
  pruneWorktrees,
  worktreeStatus,
  type GitTown,
  type Workspace,
  type Worktree,
  type WorktreeSettings,
} from '../source/git/worktrees.js';

// Dozens of git processes per test: on a loaded 2-core machine that can take a while.
vi.setConfig({ testTimeout: 90_000 });

const home = realpathSync(mkdtempSync(join(tmpdir(), 'tt-git-home-')));
const saved = { ...process.env };

beforeAll(() => {
  writeFileSync(join(home, 'gitconfig'), '');
  process.env.HOME = home;
  process.env.GIT_CONFIG_GLOBAL = join(home, 'gitconfig');
  process.env.GIT_CONFIG_NOSYSTEM = '1';
  for (const k of Object.keys(process.env))
    if (/^GIT_(AUTHOR|COMMITTER)_|^GIT_(DIR|WORK_TREE|INDEX_FILE)$/.test(k)) delete process.env[k];
});

afterAll(() => {
  process.env = saved;
  rmSync(home, { recursive: true, force: true });
});

const cleanups: string[] = [];
afterEach(() => {
  while (cleanups.length) rmSync(cleanups.pop()!, { recursive: true, force: true });
});

/** A fresh temporary folder (removed after the test), symlinks resolved as git records them. */
const temp = (): string => {
  const d = realpathSync(mkdtempSync(join(tmpdir(), 'tt-git-')));
  cleanups.push(d);
  return d;
};

/** git as the operator runs it, with an identity of its own for the setup commits. */
const g = (cwd: string, ...args: string[]): string =>
  execFileSync('git', ['-c', 'user.name=Operator', '-c', 'user.email=op@example.com', ...args], {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  }).trim();

const settings = (s: Partial<WorktreeSettings> = {}): WorktreeSettings => ({
  enabled: true,
  setup: [],
  setupTimeoutSecs: 60,
  ...s,
});

interface Repo {
  checkout: string;
  town: GitTown;
}

/**
 * A repository with one commit (app.txt, a .gitignore for .tt/ and node_modules/), its town at
 * `sub` inside it. The town's tt.config.json is untracked unless `tracked` (then committed, with
 * `config` as its content).
 */
const makeRepo = (
  o: { sub?: string; tracked?: boolean; config?: object; worktrees?: Partial<WorktreeSettings> } = {},
) => {
  const parent = temp();
  const checkout = join(parent, 'app');
  mkdirSync(checkout);
  g(checkout, 'init', '-q', '-b', 'main');
  const root = o.sub ? join(checkout, o.sub) : checkout;
  mkdirSync(root, { recursive: true });
  writeFileSync(join(checkout, 'app.txt'), 'base\n');
  writeFileSync(join(checkout, '.gitignore'), '.tt/\nnode_modules/\n');
  writeFileSync(join(root, 'tt.config.json'), JSON.stringify(o.config ?? { name: 'app-main' }));
  g(checkout, 'add', 'app.txt', '.gitignore', ...(o.tracked ? [join(root, 'tt.config.json')] : []));
  g(checkout, 'commit', '-q', '-m', 'initial');
  return { checkout, town: { root, name: 'app-main', worktrees: settings(o.worktrees) } } satisfies Repo;
};

const worktree = (w: Workspace): Worktree => {
  if (w.kind !== 'worktree') throw new Error(`expected a worktree, got the town directory (${w.why})`);
  return w;
};

const newTask = (description: string, extra: object = {}) => ({ id: randomUUID(), description, ...extra });

/** The town's checkout as the operator sees it: HEAD, branch, status, a file, whether it is sparse. */
const townState = (checkout: string) => {
  let sparse = '';
  try {
    sparse = g(checkout, 'config', '--get', 'core.sparseCheckout');
  } catch {
    // unset (git config exits 1): not sparse
  }
  return {
    head: g(checkout, 'rev-parse', 'HEAD'),
    branch: g(checkout, 'symbolic-ref', '--short', 'HEAD'),
    status: g(checkout, 'status', '--porcelain', '--untracked-files=all'),
    app: readFileSync(join(checkout, 'app.txt'), 'utf8'),
    sparse,
  };
};

describe('one worktree per agent', () => {
  it("three agents edit the same file in parallel: each one's work is on its own branch, the town untouched", async () => {
    const { checkout, town } = makeRepo();
    const before = townState(checkout);
    const agents = ['ada', 'bob', 'cy'];

    const trees = (await Promise.all(agents.map((name) => ensureAgentWorktree(town, { name })))).map(
      worktree,
    );
    const dir = join(dirname(checkout), '.tt-worktrees', 'app-main');
    trees.forEach((w, i) => {
      expect(w.path).toBe(join(dir, agents[i]!));
      expect(w.cwd).toBe(w.path);
      expect(w.created).toBe(true);
      expect(readFileSync(join(w.path, 'app.txt'), 'utf8')).toBe('base\n');
      // The operator's config is not in the tree, nor in any folder above it.
      expect(existsSync(join(w.path, 'tt.config.json'))).toBe(false);
      for (let d = w.path; d !== dirname(d); d = dirname(d))
        expect(existsSync(join(d, 'tt.config.json'))).toBe(false);
    });

    const tasks = agents.map((a) => newTask(`Change app.txt as ${a}`));
    const branches = await Promise.all(trees.map((w, i) => prepareTaskBranch(w, tasks[i]!)));
    await Promise.all(
      trees.map(async (w, i) => {
        writeFileSync(join(w.cwd, 'app.txt'), `by ${w.agent}\n`);
        writeFileSync(join(w.cwd, `notes-${w.agent}.md`), 'new file\n');
        mkdirSync(join(w.cwd, 'node_modules'));
        writeFileSync(join(w.cwd, 'node_modules', 'big.js'), 'ignored\n');
        expect(branches[i]!.reused).toBe(false);
      }),
    );
    const left = await Promise.all(trees.map((w, i) => commitLeftovers(w, tasks[i]!)));

    for (const [i, a] of agents.entries()) {
      const branch = taskBranchName(a, tasks[i]!);
      expect(branch).toBe(`tt/${a}/${branchShortId(tasks[i]!.id)}-change-app-txt-as-${a}`);
      expect(g(checkout, 'check-ref-format', '--branch', branch)).toBe(branch);
      expect(left[i]).toMatchObject({ branch, committed: true, files: 2 });
      expect(left[i]!.head).toBe(g(checkout, 'rev-parse', branch));
      expect(g(checkout, 'show', `${branch}:app.txt`)).toBe(`by ${a}`);
      expect(g(checkout, 'ls-tree', '--name-only', branch).split('\n').sort()).toEqual([
        '.gitignore',
        'app.txt',
        `notes-${a}.md`,
      ]);
      expect(g(checkout, 'log', '-1', '--format=%s|%an <%ae>', branch)).toBe(
        `tt: uncommitted work of ${a} on task ${branchShortId(tasks[i]!.id)}|tt <tt@localhost>`,
      );
      expect(g(checkout, 'rev-list', '--count', `main..${branch}`)).toBe('1');
      // The branch is released: the worktree sits detached on its head.
      expect(g(trees[i]!.path, 'rev-parse', '--abbrev-ref', 'HEAD')).toBe('HEAD');
    }
    expect(townState(checkout)).toEqual(before);
  });

  it('reuses an existing worktree, and a town in a folder of the repository works in that folder', async () => {
    const { checkout, town } = makeRepo({ sub: 'tools/town' });
    const first = worktree(await ensureAgentWorktree(town, { name: 'ada' }));
    expect(first.cwd).toBe(join(first.path, 'tools', 'town'));
    expect(existsSync(first.cwd)).toBe(true);
    const again = worktree(await ensureAgentWorktree(town, { name: 'ada' }));
    expect(again).toMatchObject({ path: first.path, created: false, setupRan: false });
    expect(g(checkout, 'worktree', 'list').split('\n')).toHaveLength(2);
  });

  it('commits leftovers only when there are some, as the configured author, keeping the agent commits', async () => {
    const { checkout, town } = makeRepo();
    g(checkout, 'config', 'user.name', 'Repo Owner');
    g(checkout, 'config', 'user.email', 'owner@example.com');
    const w = worktree(await ensureAgentWorktree(town, { name: 'ada' }));
    const task = newTask('Add a feature');
    const { branch } = await prepareTaskBranch(w, task);

    // The agent commits part of its work itself and leaves the rest.
    writeFileSync(join(w.cwd, 'a.txt'), 'committed by the agent\n');
    g(w.cwd, 'add', 'a.txt');
    g(w.cwd, 'commit', '-q', '-m', 'agent: a.txt');
    writeFileSync(join(w.cwd, 'b.txt'), 'left behind\n');
    rmSync(join(w.cwd, 'app.txt'));
    const r = await commitLeftovers(w, task);
    expect(r).toMatchObject({ branch, committed: true, files: 2 });
    expect(g(checkout, 'log', '--format=%s|%an', `main..${branch}`).split('\n')).toEqual([
      `tt: uncommitted work of ada on task ${branchShortId(task.id)}|Repo Owner`,
      'agent: a.txt|Operator',
    ]);
    expect(g(checkout, 'ls-tree', '--name-only', branch).split('\n').sort()).toEqual([
      '.gitignore',
      'a.txt',
      'b.txt',
    ]);

    // Nothing left: no commit, same head.
    const task2 = newTask('Nothing to do');
    await prepareTaskBranch(w, task2);
    const none = await commitLeftovers(w, task2);
    expect(none).toMatchObject({ committed: false, files: 0, branch: taskBranchName('ada', task2) });
    expect(none.head).toBe(g(checkout, 'rev-parse', 'main'));
  });

  it('a retry of a task on the same agent reuses its branch; another task starts fresh from the base', async () => {
    const { checkout, town } = makeRepo();
    const w = worktree(await ensureAgentWorktree(town, { name: 'ada' }));
    const task = newTask('Write the parser');
    const first = await prepareTaskBranch(w, task);
    expect(first).toMatchObject({ reused: false, detached: false, base: 'main' });
    writeFileSync(join(w.cwd, 'parser.ts'), 'attempt 1\n');
    const end1 = await commitLeftovers(w, task);

    // The base moves on meanwhile: a retry stays on its branch; a new task starts from the new base.
    writeFileSync(join(checkout, 'app.txt'), 'base 2\n');
    g(checkout, 'commit', '-q', '-am', 'base moves');

    const retry = await prepareTaskBranch(w, task);
    expect(retry).toMatchObject({ branch: first.branch, reused: true, head: end1.head });
    expect(readFileSync(join(w.cwd, 'parser.ts'), 'utf8')).toBe('attempt 1\n');
    writeFileSync(join(w.cwd, 'parser.ts'), 'attempt 2\n');
    const end2 = await commitLeftovers(w, task);
    expect(end2.branch).toBe(first.branch);
    expect(g(checkout, 'rev-list', '--count', `${end1.head}..${first.branch}`)).toBe('1');

    const other = await prepareTaskBranch(w, newTask('Something else'));
    expect(other).toMatchObject({ reused: false, head: g(checkout, 'rev-parse', 'main') });
    expect(existsSync(join(w.cwd, 'parser.ts'))).toBe(false);
    expect(readFileSync(join(w.cwd, 'app.txt'), 'utf8')).toBe('base 2\n');
  });

  it("a mission's fix works on its work item's branch, a review looks at it detached", async () => {
    const { checkout, town } = makeRepo();
    const [ada, bob, cy] = (
      await Promise.all(['ada', 'bob', 'cy'].map((name) => ensureAgentWorktree(town, { name })))
    ).map(worktree);
    const work = newTask('Implement the handler', { missionRole: 'work' });
    await prepareTaskBranch(ada!, work);
    writeFileSync(join(ada!.cwd, 'handler.ts'), 'v1\n');
    const done = await commitLeftovers(ada!, work);

    // Released by ada, the branch can be checked out by bob for the fix.
    const fix = newTask('Fix CI on the handler', { missionRole: 'fix', branch: done.branch });
    expect(await prepareTaskBranch(bob!, fix)).toMatchObject({
      branch: done.branch,
      reused: true,
      head: done.head,
    });
    writeFileSync(join(bob!.cwd, 'handler.ts'), 'v2\n');
    const fixed = await commitLeftovers(bob!, fix);
    expect(fixed.branch).toBe(done.branch);
    expect(g(checkout, 'show', `${done.branch}:handler.ts`)).toBe('v2');

    // A review: the branch detached; what the reviewer leaves goes to its own branch, not the item's.
    const review = newTask('Review the handler', { missionRole: 'review', branch: done.branch });
    expect(await prepareTaskBranch(cy!, review)).toMatchObject({ detached: true, head: fixed.head });
    writeFileSync(join(cy!.cwd, 'review-notes.md'), 'looks fine\n');
    const reviewed = await commitLeftovers(cy!, review);
    expect(reviewed.branch).toBe(taskBranchName('cy', review));
    expect(g(checkout, 'rev-parse', done.branch!)).toBe(fixed.head);

    // A branch checked out in another worktree, or one that does not exist: one clear line.
    await prepareTaskBranch(ada!, fix);
    const busy = await prepareTaskBranch(bob!, fix).catch((e: unknown) => e);
    expect(busy).toBeInstanceOf(GitError);
    expect((busy as Error).message).toMatch(
      /^git switch failed in .*bob: fatal: '.*' is already checked out at/,
    );
    expect((busy as Error).message).not.toContain('\n');
    const missing = newTask('Fix a ghost', { missionRole: 'fix', branch: 'tt/nobody/ghost' });
    await expect(prepareTaskBranch(cy!, missing)).rejects.toThrow(
      /its work item's branch tt\/nobody\/ghost does not exist/,
    );
  });

  it('commits work found uncommitted before an attempt where it was', async () => {
    const { checkout, town } = makeRepo();
    const w = worktree(await ensureAgentWorktree(town, { name: 'ada' }));
    const crashed = newTask('An attempt whose worker died');
    const { branch } = await prepareTaskBranch(w, crashed);
    writeFileSync(join(w.cwd, 'half-done.txt'), 'x\n');
    // No commitLeftovers: the worker was killed. The next attempt keeps the work on its branch.
    const next = await prepareTaskBranch(w, newTask('The next task'));
    expect(next.stray).toMatchObject({ branch, committed: true, files: 1 });
    expect(g(checkout, 'log', '-1', '--format=%s', branch)).toMatch(
      /^tt: uncommitted work of ada found before task/,
    );
    expect(existsSync(join(w.cwd, 'half-done.txt'))).toBe(false);

    // Work on a detached HEAD (between tasks) gets a branch of its own.
    await commitLeftovers(w, newTask('x'));
    writeFileSync(join(w.cwd, 'stray.txt'), 'x\n');
    const after = await prepareTaskBranch(w, newTask('Another task'));
    expect(after.stray?.branch).toMatch(/^tt\/ada\/rescue-[0-9a-f]{10}$/);
    expect(g(checkout, 'show', `${after.stray!.branch}:stray.txt`)).toBe('x');
  });
});

describe('setup commands', () => {
  it('run once when a worktree is made, output to a log', async () => {
    const { town } = makeRepo({
      worktrees: {
        setup: [
          'echo "setting up $TT_AGENT_NAME"',
          'echo "$TT_AGENT_NAME" >> "$TT_TOWN/../setup-runs"',
          'touch .ready',
        ],
      },
    });
    const log = join(town.root, '.tt', 'logs', 'ada_setup.log');
    const w = worktree(await ensureAgentWorktree(town, { name: 'ada' }));
    expect(w.setupRan).toBe(true);
    expect(existsSync(join(w.cwd, '.ready'))).toBe(true);
    const again = worktree(await ensureAgentWorktree(town, { name: 'ada' }));
    expect(again.setupRan).toBe(false);
    expect(readFileSync(join(dirname(town.root), 'setup-runs'), 'utf8')).toBe('ada\n');
    expect(readFileSync(log, 'utf8')).toBe(
      '$ echo "setting up $TT_AGENT_NAME"\nsetting up ada\n' +
        '$ echo "$TT_AGENT_NAME" >> "$TT_TOWN/../setup-runs"\n$ touch .ready\n',
    );
  });

  it('a failing setup is an error with its last line; the next call runs it again', async () => {
    const { town } = makeRepo({
      worktrees: {
        setup: ['echo preparing', 'echo "npm ERR! missing script: ci" >&2; exit 3', 'touch .never'],
      },
    });
    const e = await ensureAgentWorktree(town, { name: 'bob' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(GitError);
    expect((e as Error).message).toMatch(
      /^setup of bob's worktree failed: "echo .*; exit 3" exited with code 3: npm ERR! missing script: ci \(output in .*bob_setup\.log\)$/,
    );
    const w = join(dirname(town.root), '.tt-worktrees', 'app-main', 'bob');
    expect(existsSync(join(w, '.never'))).toBe(false);

    const fixed = { ...town, worktrees: settings({ setup: ['touch .ok'] }) };
    const ok = worktree(await ensureAgentWorktree(fixed, { name: 'bob' }));
    expect(ok).toMatchObject({ created: false, setupRan: true });
    expect(existsSync(join(w, '.ok'))).toBe(true);
  });

  it('a setup past its time limit is stopped and reported', async () => {
    const { town } = makeRepo({ worktrees: { setup: ['echo slow; sleep 30'], setupTimeoutSecs: 0.3 } });
    await expect(ensureAgentWorktree(town, { name: 'cy' })).rejects.toThrow(
      /^setup of cy's worktree failed: "echo slow; sleep 30" timed out after 0.3s: slow \(output in/,
    );
  });
});

describe('pruneWorktrees', () => {
  it('removes only clean worktrees merged into the base branch, and says why the others stay', async () => {
    const { checkout, town } = makeRepo();
    const names = ['ada', 'bob', 'cy', 'dee', 'eve', 'fay'];
    const [ada, bob, cy, , eve, fay] = (
      await Promise.all(names.map((name) => ensureAgentWorktree(town, { name })))
    ).map(worktree);
    // ada: work merged into main. bob: uncommitted work. cy: commits not in main. dee: never worked.
    // eve: merged, but busy. fay: its directory deleted by hand.
    for (const w of [ada!, cy!, eve!]) {
      const t = newTask(`Work of ${w.agent}`);
      await prepareTaskBranch(w, t);
      writeFileSync(join(w.cwd, `${w.agent}.txt`), 'x\n');
      const r = await commitLeftovers(w, t);
      if (w !== cy) g(checkout, 'merge', '-q', '--no-edit', r.branch!);
    }
    writeFileSync(join(bob!.cwd, 'wip.txt'), 'x\n');
    rmSync(fay!.path, { recursive: true });

    const status = await worktreeStatus(town);
    expect(status.git && status.worktrees.map((w) => [w.agent, w.exists, w.changes, w.ahead])).toEqual([
      ['ada', true, 0, 0],
      ['bob', true, 1, 0],
      ['cy', true, 0, 1],
      ['dee', true, 0, 0],
      ['eve', true, 0, 0],
      ['fay', false, 0, 0],
    ]);

    const dry = await pruneWorktrees(town, { busy: ['eve'], dryRun: true });
    expect(dry.removed.map((r) => r.agent)).toEqual(['ada', 'dee', 'fay']);
    expect(existsSync(ada!.path)).toBe(true);

    const r = await pruneWorktrees(town, { busy: ['eve'] });
    expect(r.removed.map((x) => [x.agent, x.why])).toEqual([
      ['ada', 'clean, its detached HEAD is merged into main'],
      ['dee', 'clean, its detached HEAD is merged into main'],
      ['fay', 'its directory is gone'],
    ]);
    expect(r.kept.map((x) => [x.agent, x.why])).toEqual([
      ['bob', '1 uncommitted change'],
      ['cy', 'its detached HEAD has 1 commit not in main'],
      ['eve', 'its agent is working'],
    ]);
    expect(names.map((n) => existsSync(join(dirname(ada!.path), n)))).toEqual([
      false,
      true,
      true,
      false,
      true,
      false,
    ]);
    expect(g(checkout, 'worktree', 'list', '--porcelain').match(/^worktree /gm)).toHaveLength(4);
    // Branches stay; the town is as it was.
    expect(g(checkout, 'branch', '--list', 'tt/ada/*')).not.toBe('');
    expect(g(checkout, 'status', '--porcelain')).toBe('?? tt.config.json');

    // A pruned agent gets a fresh worktree next time.
    const back = worktree(await ensureAgentWorktree(town, { name: 'ada' }));
    expect(back.created).toBe(true);
  });
});

describe('where worktrees are not made', () => {
  it('worktrees.enabled false: the agent works in the town directory', async () => {
    const { checkout, town } = makeRepo({ worktrees: { enabled: false } });
    const w = await ensureAgentWorktree(town, { name: 'ada' });
    expect(w).toEqual({ kind: 'town', cwd: town.root, why: 'worktrees.enabled is false in tt.config.json' });
    expect(existsSync(join(dirname(checkout), '.tt-worktrees'))).toBe(false);
  });

  it('an agent spawned with --no-worktree works in the town directory', async () => {
    const { checkout, town } = makeRepo();
    const w = await ensureAgentWorktree(town, { name: 'ada', noWorktree: true });
    expect(w).toEqual({ kind: 'town', cwd: town.root, why: 'ada was spawned with --no-worktree' });
    expect(existsSync(join(dirname(checkout), '.tt-worktrees'))).toBe(false);
    expect(worktree(await ensureAgentWorktree(town, { name: 'bob' })).agent).toBe('bob');
  });

  it('a town outside any git work tree: the town directory, and nothing to prune', async () => {
    const root = temp();
    writeFileSync(join(root, 'tt.config.json'), '{"name":"plain"}');
    const town: GitTown = { root, name: 'plain', worktrees: settings() };
    const w = await ensureAgentWorktree(town, { name: 'ada' });
    expect(w).toMatchObject({ kind: 'town', cwd: root, why: `${root} is not in a git work tree` });
    expect(await worktreeStatus(town)).toEqual({ git: false, why: `${root} is not in a git work tree` });
    expect(await pruneWorktrees(town)).toEqual({
      why: `${root} is not in a git work tree`,
      removed: [],
      kept: [],
    });
  });
});

describe("the operator's config", () => {
  it('a tracked tt.config.json is hidden from agent trees, with a warning naming a committed password', async () => {
    const { checkout, town } = makeRepo({
      sub: 'tools/town',
      tracked: true,
      config: { name: 'app-main', redis: { url: 'redis://h:1', password: 'hunter2' } },
    });
    const before = townState(checkout);
    const w = worktree(await ensureAgentWorktree(town, { name: 'ada' }));
    expect(w.warnings).toHaveLength(1);
    expect(w.warnings[0]).toMatch(
      /^tools\/town\/tt\.config\.json is tracked in git and its committed copy holds a Redis password \(redis\.password\)/,
    );
    expect(existsSync(join(w.cwd, 'tt.config.json'))).toBe(false);
    expect(readFileSync(join(w.path, 'app.txt'), 'utf8')).toBe('base\n');
    expect(g(w.path, 'status', '--porcelain')).toBe('');

    // The agent's work never deletes it: tt's commit leaves it as committed.
    const t = newTask('Edit the app');
    await prepareTaskBranch(w, t);
    writeFileSync(join(w.cwd, 'x.txt'), 'x\n');
    const r = await commitLeftovers(w, t);
    expect(r.files).toBe(1);
    expect(g(checkout, 'show', `${r.branch}:tools/town/tt.config.json`)).toContain('hunter2');
    expect(existsSync(join(w.cwd, 'tt.config.json'))).toBe(false);
    // The town's own checkout is not made sparse.
    expect(townState(checkout)).toEqual(before);
  });

  it('a tracked config without secrets still gets a plain warning', async () => {
    const { town } = makeRepo({ tracked: true });
    const w = worktree(await ensureAgentWorktree(town, { name: 'ada' }));
    expect(w.warnings).toEqual([
      'tt.config.json is tracked in git: tt hides it from agent worktrees, but its committed copy stays ' +
        'readable through git, so keep secrets out of it (TT_REDIS_PASSWORD, REDIS_URL)',
    ]);
    expect(existsSync(join(w.path, 'tt.config.json'))).toBe(false);
  });
  it('a config committed after the worktree was made is hidden once a task branch brings it in', async () => {
    const { checkout, town } = makeRepo();
    const w = worktree(await ensureAgentWorktree(town, { name: 'ada' }));
    g(checkout, 'add', 'tt.config.json');
    g(checkout, 'commit', '-q', '-m', 'track the config');
    const b = await prepareTaskBranch(w, newTask('After the config was committed'));
    expect(b.head).toBe(g(checkout, 'rev-parse', 'main'));
    expect(existsSync(join(w.path, 'tt.config.json'))).toBe(false);
    expect(g(w.path, 'status', '--porcelain')).toBe('');
  });
});

describe('errors are one clear line', () => {
  it('git past its time limit is killed, even when something it started holds its output', async () => {
    const { checkout } = makeRepo();
    const started = Date.now();
    await expect(
      git(['-c', 'alias.hang=!sleep 12', 'hang'], { cwd: checkout, timeoutMs: 300 }),
    ).rejects.toThrow(new RegExp(`^git hang timed out after 0\\.3s in ${checkout}$`));
    expect(Date.now() - started).toBeLessThan(6_000);
  });

  it("git's own complaint, never a prompt", async () => {
    const { checkout } = makeRepo();
    const e = await git(['fetch', 'https://127.0.0.1:1/nothing.git'], { cwd: checkout }).catch(
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(GitError);
    expect((e as Error).message).toMatch(/^git fetch failed in .*: fatal: unable to access/);
    await expect(git(['status'], { cwd: join(checkout, 'nope') })).rejects.toThrow(
      `git status: the folder ${join(checkout, 'nope')} does not exist`,
    );
  });

  it('a worktrees.root inside the checkout', async () => {
    const { town } = makeRepo({ worktrees: { root: 'wt' } });
    await expect(ensureAgentWorktree(town, { name: 'ada' })).rejects.toThrow(
      /^cannot place ada's worktree: .*\/app\/wt\/app-main\/ada is inside the town directory .*; set worktrees.root outside it$/,
    );
  });

  it('a worktrees.root outside the checkout is used', async () => {
    const { checkout, town } = makeRepo({ worktrees: { root: '../elsewhere' } });
    const w = worktree(await ensureAgentWorktree(town, { name: 'ada' }));
    expect(w.path).toBe(join(dirname(checkout), 'elsewhere', 'app-main', 'ada'));
  });

  it('an unknown base branch, a detached town, a folder in the way', async () => {
    const { checkout, town } = makeRepo({ worktrees: { baseBranch: 'develop' } });
    await expect(ensureAgentWorktree(town, { name: 'ada' })).rejects.toThrow(
      /^worktrees\.baseBranch "develop" is not a branch or commit of /,
    );
    g(checkout, 'switch', '-q', '--detach');
    const detached = { ...town, worktrees: settings() };
    await expect(ensureAgentWorktree(detached, { name: 'ada' })).rejects.toThrow(
      /is on a detached HEAD: set worktrees\.baseBranch in tt\.config\.json$/,
    );
    const inTheWay = join(dirname(checkout), '.tt-worktrees', 'app-main', 'bob');
    mkdirSync(inTheWay, { recursive: true });
    writeFileSync(join(inTheWay, 'something'), 'x');
    const based = { ...town, worktrees: settings({ baseBranch: 'main' }) };
    await expect(ensureAgentWorktree(based, { name: 'bob' })).rejects.toThrow(
      /bob exists and is not a worktree of .*: move it away, or set worktrees\.root$/,
    );
  });
});
