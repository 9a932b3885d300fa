import { describe, expect, it } from 'vitest';
import { complaint, gitEnv } from '../../source/git/exec.js';
import {
  agentOfPath,
  agentWorktreePath,
  branchPlan,
  branchShortId,
  commitIdentity,
  committedSecret,
  configCandidates,
  isSafeBranchName,
  isWithin,
  leftoverMessage,
  parseStatusPaths,
  parseWorktreeList,
  placementProblem,
  pruneVerdict,
  refComponent,
  rescueBranchName,
  slugify,
  sparsePatterns,
  taskBranchName,
  townWorktreesDir,
} from '../../source/git/names.js';

const ID = '3f2a1b2c-9d8e-4f00-a111-222233334444';
const task = (description: string, extra: object = {}) => ({ id: ID, description, ...extra });

describe('task branch names', () => {
  it.each([
    ['Fix the flaky login test', 'tt/ada/3f2a1b2c-fix-the-flaky-login-test'],
    ['Crème brûlée: handle ü and ß', 'tt/ada/3f2a1b2c-creme-brulee-handle-u-and-ss'],
    ['  feat: add [x] ~^:?*\\ @{u} ..lock  ', 'tt/ada/3f2a1b2c-feat-add-x-u-lock'],
    ['first line\nsecond line is ignored', 'tt/ada/3f2a1b2c-first-line'],
    ['', 'tt/ada/3f2a1b2c-task'],
    ['🚀🔥', 'tt/ada/3f2a1b2c-task'],
    ['日本語のタイトル', 'tt/ada/3f2a1b2c-task'],
    ['.hidden/..dots...', 'tt/ada/3f2a1b2c-hidden-dots'],
  ])('%j -> %s', (title, branch) => {
    expect(taskBranchName('ada', task(title))).toBe(branch);
    expect(isSafeBranchName(branch)).toBe(true);
  });

  it('cuts a long title at a word boundary, at most 40 characters', () => {
    const slug = slugify('Implement the payments API with retries and idempotency keys for every call');
    expect(slug).toBe('implement-the-payments-api-with-retries');
    expect(slug.length).toBeLessThanOrEqual(40);
    expect(slugify('a'.repeat(100))).toBe('a'.repeat(40));
  });

  it('keeps the agent name, made safe for git', () => {
    expect(taskBranchName('Ada', task('x'))).toBe('tt/Ada/3f2a1b2c-x');
    expect(refComponent('a..b', 'agent')).toBe('a.b');
    expect(refComponent('bob.lock', 'agent')).toBe('bob');
    expect(refComponent('bob.lock.lock.', 'agent')).toBe('bob');
    expect(refComponent('cy.', 'agent')).toBe('cy');
    expect(refComponent('-.x y', 'agent')).toBe('x-y');
    expect(refComponent('...', 'agent')).toBe('agent');
    for (const name of ['a..b', 'bob.lock', 'x@{y}', 'é', 'a b', 'a/b']) {
      expect(isSafeBranchName(taskBranchName(name, task('t')))).toBe(true);
    }
  });

  it('uses 8 hex digits of the task id', () => {
    expect(branchShortId(ID)).toBe('3f2a1b2c');
    expect(branchShortId('ABC')).toBe('abc');
    expect(branchShortId('--')).toBe('task');
  });

  it('names a rescue branch after the commit', () => {
    expect(rescueBranchName('ada', 'abcdef0123456789')).toBe('tt/ada/rescue-abcdef0123');
  });
});

describe('isSafeBranchName (git check-ref-format --branch)', () => {
  it.each(['tt/ada/1234-x', 'feature/x.y', 'main', 'a-b_c'])('accepts %s', (n) =>
    expect(isSafeBranchName(n)).toBe(true),
  );
  it.each([
    '',
    '@',
    'a..b',
    'a.lock',
    'a.lock/b',
    'a/.b',
    '.a',
    '-a',
    '/a',
    'a/',
    'a//b',
    'a b',
    'a~b',
    'a^b',
    'a:b',
    'a?b',
    'a*b',
    'a[b',
    'a\\b',
    'a@{b',
    'a.',
    'a\tb',
    'ünï',
  ])('refuses %j', (n) => expect(isSafeBranchName(n)).toBe(false));
});

describe('branchPlan', () => {
  it('a task of its own: its own branch, made when missing', () => {
    expect(branchPlan('ada', task('Fix it'))).toEqual({
      mode: 'branch',
      branch: 'tt/ada/3f2a1b2c-fix-it',
      mustExist: false,
    });
  });
  it('a retry that recorded its branch: that branch', () => {
    expect(branchPlan('bob', task('Fix it', { branch: 'tt/ada/3f2a1b2c-fix-it' }))).toEqual({
      mode: 'branch',
      branch: 'tt/ada/3f2a1b2c-fix-it',
      mustExist: false,
    });
  });
  it("a mission fix: its work item's branch, which must exist", () => {
    expect(branchPlan('bob', task('Fix CI', { branch: 'tt/ada/1-x', missionRole: 'fix' }))).toEqual({
      mode: 'branch',
      branch: 'tt/ada/1-x',
      mustExist: true,
    });
  });
  it("a mission review: its work item's branch, detached", () => {
    expect(branchPlan('cy', task('Review', { branch: 'tt/ada/1-x', missionRole: 'review' }))).toEqual({
      mode: 'detach',
      branch: 'tt/ada/1-x',
    });
  });
  it('a review with no branch to look at works like any task', () => {
    expect(branchPlan('cy', task('Review', { missionRole: 'review' })).mode).toBe('branch');
  });
});

describe('commits', () => {
  it('says whose leftovers, on which task', () => {
    const m = leftoverMessage('ada', ID);
    expect(m.split('\n')[0]).toBe('tt: uncommitted work of ada on task 3f2a1b2c');
    expect(m).toContain(`Tt-Task: ${ID}`);
  });
  it("takes git's identity where set, else tt's", () => {
    expect(commitIdentity({})).toEqual({ name: 'tt', email: 'tt@localhost' });
    expect(commitIdentity({ name: 'Ann', email: 'ann@x' })).toEqual({ name: 'Ann', email: 'ann@x' });
    expect(commitIdentity({ email: 'ann@x' })).toEqual({ name: 'tt', email: 'ann@x' });
  });
});

describe('where worktrees go', () => {
  it('beside the checkout by default, under the town name', () => {
    const dir = townWorktreesDir({ root: '/src/app', name: 'app-main' }, '/src/app');
    expect(dir).toBe('/src/.tt-worktrees/app-main');
    expect(agentWorktreePath(dir, 'ada')).toBe('/src/.tt-worktrees/app-main/ada');
    // A town in a folder of the repository: still beside the checkout.
    expect(townWorktreesDir({ root: '/src/app/tools/town', name: 't' }, '/src/app')).toBe(
      '/src/.tt-worktrees/t',
    );
  });
  it('under worktrees.root when set, relative to the town', () => {
    expect(townWorktreesDir({ root: '/src/app', name: 't', worktreesRoot: '../wt' }, '/src/app')).toBe(
      '/src/wt/t',
    );
    expect(townWorktreesDir({ root: '/src/app', name: 't', worktreesRoot: '/var/wt' }, '/src/app')).toBe(
      '/var/wt/t',
    );
  });
  it('never inside the checkout or the town, nor above the town', () => {
    const at = { toplevel: '/src/app', townRoot: '/src/app/town' };
    expect(placementProblem('/src/.tt-worktrees/t/ada', at)).toBeUndefined();
    expect(placementProblem('/src/app/town/.tt/wt/ada', at)).toMatch(/inside the town directory/);
    expect(placementProblem('/src/app/wt/ada', at)).toMatch(/inside the town's checkout/);
    expect(placementProblem('/src', { toplevel: '/x', townRoot: '/src/app' })).toMatch(/contains the town/);
  });
  it('isWithin is about path components, not prefixes', () => {
    expect(isWithin('/a/b', '/a')).toBe(true);
    expect(isWithin('/a', '/a')).toBe(true);
    expect(isWithin('/ab', '/a')).toBe(false);
    expect(isWithin('/a/..b', '/a')).toBe(true);
    expect(isWithin('/b', '/a')).toBe(false);
  });
  it('maps a worktree path back to its agent', () => {
    expect(agentOfPath('/w/t/ada', '/w/t')).toBe('ada');
    expect(agentOfPath('/w/t/ada/x', '/w/t')).toBeUndefined();
    expect(agentOfPath('/w/other/ada', '/w/t')).toBeUndefined();
  });
});

describe('the hidden config', () => {
  it("is the town's tt.config.json and any above it in the repository", () => {
    expect(configCandidates('')).toEqual(['tt.config.json']);
    expect(configCandidates('tools/town/')).toEqual([
      'tools/town/tt.config.json',
      'tools/tt.config.json',
      'tt.config.json',
    ]);
  });
  it('is left out of the sparse checkout, special characters escaped', () => {
    expect(sparsePatterns(['tt.config.json', 'a[1]/#x/tt.config.json'])).toEqual([
      '/*',
      '!/tt.config.json',
      '!/a\\[1\\]/\\#x/tt.config.json',
    ]);
  });
  it('is checked for a committed Redis password', () => {
    expect(committedSecret('{"name":"x","redis":{"password":"s3"}}')).toMatch(/redis\.password/);
    expect(committedSecret('{"name":"x","redis":{"url":"redis://u:pw@h:1"}}')).toMatch(/redis\.url/);
    expect(committedSecret('{"name":"x","redis":{"url":"redis://h:1"}}')).toBeUndefined();
    expect(committedSecret('{"name":"x"}')).toBeUndefined();
    expect(committedSecret('null')).toBeUndefined();
    expect(committedSecret('not json')).toBeUndefined();
  });
});

describe('porcelain parsers', () => {
  it('reads git worktree list --porcelain -z', () => {
    const out =
      'worktree /r\0HEAD aaa\0branch refs/heads/main\0\0' +
      'worktree /w/t/ada\0HEAD bbb\0detached\0\0' +
      'worktree /w/t/bob\0HEAD ccc\0branch refs/heads/tt/bob/1-x\0locked moving\0\0' +
      'worktree /w/t/cy\0HEAD ddd\0detached\0prunable gitdir file points to non-existent location\0\0';
    expect(parseWorktreeList(out)).toEqual([
      { path: '/r', head: 'aaa', branch: 'main', detached: false, bare: false },
      { path: '/w/t/ada', head: 'bbb', detached: true, bare: false },
      { path: '/w/t/bob', head: 'ccc', branch: 'tt/bob/1-x', detached: false, bare: false, locked: 'moving' },
      {
        path: '/w/t/cy',
        head: 'ddd',
        detached: true,
        bare: false,
        prunable: 'gitdir file points to non-existent location',
      },
    ]);
  });
  it('reads git status --porcelain=v1 -z, a rename counted once', () => {
    expect(parseStatusPaths(' M a.txt\0R  new name\0old name\0?? dir/\0')).toEqual([
      'a.txt',
      'new name',
      'dir/',
    ]);
    expect(parseStatusPaths('')).toEqual([]);
  });
});

describe('pruneVerdict', () => {
  const facts = { exists: true, busy: false, changes: 0, ahead: 0, base: 'main', branch: 'tt/ada/1-x' };
  it('removes a clean merged worktree', () => {
    expect(pruneVerdict(facts)).toEqual({
      remove: true,
      why: 'clean, branch tt/ada/1-x is merged into main',
    });
    expect(pruneVerdict({ ...facts, branch: undefined })).toEqual({
      remove: true,
      why: 'clean, its detached HEAD is merged into main',
    });
  });
  it('removes one whose directory is gone', () => {
    expect(pruneVerdict({ ...facts, exists: false, changes: 0 }).remove).toBe(true);
  });
  it.each([
    [{ busy: true }, 'its agent is working'],
    [{ locked: 'on a USB disk' }, 'locked (on a USB disk)'],
    [{ locked: '' }, 'locked'],
    [{ changes: 1 }, '1 uncommitted change'],
    [{ changes: 3, ahead: 2 }, '3 uncommitted changes'],
    [{ ahead: 2 }, 'branch tt/ada/1-x has 2 commits not in main'],
  ])('keeps %j: %s', (f, why) => {
    expect(pruneVerdict({ ...facts, ...f })).toEqual({ remove: false, why });
  });
});

describe('running git', () => {
  it('never prompts, and ignores variables that point git at another repository', () => {
    const env = gitEnv({
      PATH: '/bin',
      GIT_DIR: '/x/.git',
      GIT_WORK_TREE: '/x',
      GIT_INDEX_FILE: 'i',
      HOME: '/h',
      U: undefined,
    });
    expect(env).toEqual({
      PATH: '/bin',
      HOME: '/h',
      GIT_TERMINAL_PROMPT: '0',
      LC_ALL: 'C',
      GIT_OPTIONAL_LOCKS: '0',
    });
  });
  it("says git's complaint in one line", () => {
    expect(complaint('hint: a\nfatal: not a git repository\nmore\n')).toBe('fatal: not a git repository');
    expect(complaint('warning: x\nsomething broke\n')).toBe('something broke');
    expect(complaint('', 'out line\n')).toBe('out line');
    expect(complaint('')).toBeUndefined();
  });
});
