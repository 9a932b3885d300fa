/**
 * `tt worktrees` and `tt prune --worktrees` on a real git town: the town's directory is a git
 * checkout, the agents' worktrees are made by git/ (as the worker makes them) under a
 * worktrees.root of the test's own. The machine's git configuration is kept out.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { ensureAgentWorktree, type Worktree } from '../source/git/worktrees.js';
import { makeTown, tempDir, type TestTown } from './helpers/town.js';

// Dozens of git processes per test: on a loaded 2-core machine that can take a while.
vi.setConfig({ testTimeout: 90_000 });

const gitEnv = (town: TestTown): Record<string, string> => {
  const home = tempDir('tt-wt-home-');
  writeFileSync(join(home, 'gitconfig'), '');
  Object.assign(town.env, {
    HOME: home,
    GIT_CONFIG_GLOBAL: join(home, 'gitconfig'),
    GIT_CONFIG_NOSYSTEM: '1',
  });
  for (const k of Object.keys(town.env))
    if (/^GIT_(AUTHOR|COMMITTER)_|^GIT_(DIR|WORK_TREE|INDEX_FILE)$/.test(k)) delete town.env[k];
  return Object.fromEntries(
    Object.entries(town.env).filter((e): e is [string, string] => e[1] !== undefined),
  );
};

/** A town whose directory is a git checkout (one commit on main), worktrees under a folder of the test's. */
const gitTown = async () => {
  const town = await makeTown();
  const env = gitEnv(town);
  const root = realpathSync(tempDir('tt-wt-root-'));
  town.configure({ worktrees: { root } });
  const g = (cwd: string, ...args: string[]): string =>
    execFileSync('git', ['-c', 'user.name=Operator', '-c', 'user.email=op@example.com', ...args], {
      cwd,
      env,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    }).trim();
  g(town.dir, 'init', '-q', '-b', 'main');
  writeFileSync(join(town.dir, 'app.txt'), 'base\n');
  writeFileSync(join(town.dir, '.gitignore'), '.tt/\nhome/\n');
  g(town.dir, 'add', 'app.txt', '.gitignore');
  g(town.dir, 'commit', '-q', '-m', 'initial');
  const tree = async (agent: string): Promise<Worktree> => {
    const w = await ensureAgentWorktree(
      {
        root: town.dir,
        name: town.name,
        worktrees: { enabled: true, root, setup: [], setupTimeoutSecs: 60 },
      },
      { name: agent },
      { env },
    );
    if (w.kind !== 'worktree') throw new Error(`no worktree for ${agent}: ${w.why}`);
    return w;
  };
  return { town, g, tree, root };
};

describe('agent worktrees', () => {
  it('tt worktrees lists each agent worktree; prune --worktrees removes only clean, merged, idle ones', async () => {
    const { town, g, tree, root } = await gitTown();
    for (const name of ['ada', 'bob', 'cy', 'eve']) await town.ok('spawn', name, '--no-start');
    await town.ok('spawn', 'dee', '--no-start', '--no-worktree');
    const ada = await tree('ada');
    const bob = await tree('bob');
    const cy = await tree('cy');
    const eve = await tree('eve');
    writeFileSync(join(bob.path, 'scratch.txt'), 'not committed\n');
    g(cy.path, 'switch', '-q', '-c', 'tt/cy/1a2b3c4d-add-notes');
    writeFileSync(join(cy.path, 'notes.txt'), 'work\n');
    g(cy.path, 'add', 'notes.txt');
    g(cy.path, 'commit', '-q', '-m', 'notes');
    // eve is working: her tree stays whatever it holds.
    const eveId = (await town.ok('list', '--json'))
      .json()
      .agents.find((a: { name: string }) => a.name === 'eve').id;
    await town.redis.hset(`${town.prefix}agent:${eveId}`, 'state', 'working');
    // ada and eve are on main, detached: merged and clean.

    const listed = (await town.ok('worktrees', '--json')).json();
    expect(listed).toMatchObject({ git: true, base: 'main', enabled: true, dir: join(root, town.name) });
    const rows = Object.fromEntries(listed.worktrees.map((w: { agent: string }) => [w.agent, w])) as Record<
      string,
      { state: string; branch?: string; changes: number; ahead: number; path: string }
    >;
    expect(Object.keys(rows).sort()).toEqual(['ada', 'bob', 'cy', 'eve']);
    expect(rows.ada).toMatchObject({ state: 'starting', changes: 0, ahead: 0, path: ada.path });
    expect(rows.ada!.branch).toBeUndefined();
    expect(rows.bob).toMatchObject({ changes: 1, ahead: 0 });
    expect(rows.cy).toMatchObject({ branch: 'tt/cy/1a2b3c4d-add-notes', changes: 0, ahead: 1 });
    expect(rows.eve).toMatchObject({ state: 'working', changes: 0, ahead: 0 });
    expect(listed.without).toEqual([{ name: 'dee', noWorktree: true }]);

    const text = (await town.ok('worktrees')).out;
    expect(text).toContain(`base main; agent worktrees in ${join(root, town.name)}`);
    expect(text).toMatch(/^AGENT\s+STATE\s+BRANCH\s+TREE\s+AHEAD\s+PATH$/m);
    expect(text).toMatch(/^bob\s+starting\s+detached [0-9a-f]{8}\s+1 change\s+0\s+\S+\/bob$/m);
    expect(text).toMatch(/^cy\s+starting\s+tt\/cy\/1a2b3c4d-add-notes\s+clean\s+1\s+/m);
    expect(text).toContain('without a worktree: dee (--no-worktree)');

    // Registered with --no-start, the agents are "starting", which counts as busy; ada goes idle.
    const adaId = listed.worktrees.find((w: { agent: string }) => w.agent === 'ada').agentId;
    await town.redis.hset(`${town.prefix}agent:${adaId}`, 'state', 'idle');

    const dry = (await town.ok('prune', '--worktrees', '--dry-run', '--json')).json();
    expect(dry.dryRun).toBe(true);
    expect(dry.removed).toEqual([
      { agent: 'ada', path: ada.path, why: 'clean, its detached HEAD is merged into main' },
    ]);
    const kept = Object.fromEntries(dry.kept.map((k: { agent: string; why: string }) => [k.agent, k.why]));
    expect(kept).toEqual({
      bob: 'its agent is starting',
      cy: 'its agent is starting',
      eve: 'its agent is working',
    });
    expect(existsSync(ada.path)).toBe(true);

    // Stopped agents' trees are judged by what they hold.
    await town.ok('kill', 'bob');
    await town.ok('kill', 'cy');
    const real = await town.ok('prune', '--worktrees');
    expect(real.out).toMatch(
      new RegExp(`^removed\\s+ada\\s+${ada.path}\\s+clean, its detached HEAD is merged into main$`, 'm'),
    );
    expect(real.out).toMatch(/^kept\s+bob\s+\S+\s+1 uncommitted change$/m);
    expect(real.out).toMatch(
      /^kept\s+cy\s+\S+\s+branch tt\/cy\/1a2b3c4d-add-notes has 1 commit not in main$/m,
    );
    expect(real.out).toMatch(/^kept\s+eve\s+\S+\s+its agent is working$/m);
    expect(existsSync(ada.path)).toBe(false);
    expect(existsSync(bob.path) && existsSync(cy.path) && existsSync(eve.path)).toBe(true);
    // Branches are never deleted.
    expect(g(town.dir, 'for-each-ref', '--format=%(refname:short)', 'refs/heads/tt')).toBe(
      'tt/cy/1a2b3c4d-add-notes',
    );
    const after = (await town.ok('worktrees', '--json')).json();
    expect(after.worktrees.map((w: { agent: string }) => w.agent).sort()).toEqual(['bob', 'cy', 'eve']);
    expect(after.without.map((a: { name: string }) => a.name).sort()).toEqual(['ada', 'dee']);
  });

  it('outside a git checkout there is nothing to list or prune; bad flag mixes are usage errors', async () => {
    const town = await makeTown();
    gitEnv(town);
    expect((await town.ok('worktrees')).out).toMatch(
      /^no worktrees: .* is not in a git work tree; agents work/,
    );
    expect((await town.ok('worktrees', '--json')).json()).toMatchObject({ git: false });
    expect((await town.ok('prune', '--worktrees')).out).toMatch(
      /^no worktrees to prune: .* is not in a git work tree/,
    );
    const both = await town.tt('prune', '--worktrees', '--all');
    expect(both.code).toBe(2);
    expect(both.err).toBe('tt prune: --all prunes agents, --worktrees their worktrees: give one\n');
    const dry = await town.tt('prune', '--dry-run');
    expect(dry.code).toBe(2);
    expect(dry.err).toBe('tt prune: --dry-run goes with --worktrees\n');
  });
});
