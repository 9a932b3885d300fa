import { execFileSync } from 'node:child_process';
import { realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, type TestTown } from './town.js';

/**
 * Makes a test town a git town: a repository in its directory on branch main with one commit
 * (`files`, and a .gitignore keeping tt's own files out), the agents' worktrees under a temporary
 * folder of their own, and the machine's git configuration kept out of every git the town runs
 * (its workers' included: they inherit the town's environment).
 */
export const makeGitTown = (town: TestTown, files: Record<string, string> = { 'README.md': 'hello\n' }) => {
  const home = tempDir('tt-git-home-');
  writeFileSync(join(home, 'gitconfig'), '');
  Object.assign(town.env, { GIT_CONFIG_GLOBAL: join(home, 'gitconfig'), GIT_CONFIG_NOSYSTEM: '1' });
  const env = { ...town.env } as NodeJS.ProcessEnv;
  const git = (...args: string[]) =>
    execFileSync('git', args, { cwd: town.dir, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  git('init', '-q', '-b', 'main');
  writeFileSync(join(town.dir, '.gitignore'), '.tt/\ntt.config.json\n');
  for (const [name, text] of Object.entries(files)) writeFileSync(join(town.dir, name), text);
  git('add', '-A');
  git('-c', 'user.name=t', '-c', 'user.email=t@localhost', 'commit', '-q', '-m', 'start');
  const worktrees = realpathSync(tempDir('tt-worktrees-'));
  town.configure({ worktrees: { root: worktrees } });
  return { git, worktrees };
};
