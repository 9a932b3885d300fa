import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI_PRESETS } from '../source/runtime/clis/index.js';
import { cliStartProblem } from '../source/services/doctor.js';
import { baseEnv, makeTown, runTt, tempDir } from './helpers/town.js';

/**
 * A PATH holding a stub `claude` that prints a version, and no `codex`: the system directories of
 * this PATH stay (sh, redis-server), except any that holds a real codex.
 */
const fakePath = (dir: string): string => {
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  const claude = join(bin, 'claude');
  writeFileSync(claude, '#!/bin/sh\necho "2.1.197 (Claude Code)"\n');
  chmodSync(claude, 0o755);
  const system = (process.env.PATH ?? '/usr/bin:/bin')
    .split(delimiter)
    .filter((d) => d && !existsSync(join(d, 'codex')) && !existsSync(join(d, 'claude')));
  return [bin, ...system].join(delimiter);
};

const root = process.getuid?.() === 0;

describe('tt doctor', () => {
  it('says per CLI preset whether it is found, its version, and the fix when it is not', async () => {
    const dir = tempDir();
    const env = { ...baseEnv(join(dir, 'home')), PATH: fakePath(dir) };
    const r = await runTt(['doctor'], dir, env);
    expect(r.code, r.err).toBe(0);
    const lines = r.out.split('\n');
    expect(lines[0]).toMatch(/^CLI\s+STATUS\s+VERSION\s+WHERE$/);
    expect(lines.find((l) => l.startsWith('claude '))).toMatch(
      new RegExp(`^claude\\s+ok\\s+2\\.1\\.197\\s+${join(dir, 'bin', 'claude')}$`),
    );
    expect(lines.find((l) => l.startsWith('codex '))).toMatch(/^codex\s+missing\s+-\s+codex is not on PATH$/);
    expect(lines.find((l) => l.startsWith('sim '))).toMatch(/^sim\s+built in/);
    expect(r.out).toContain('codex: fix: npm i -g @openai/codex@0.171.0');
    if (root) expect(r.out).toContain('claude: running as root: tt sets IS_SANDBOX=1 for it');
    expect(r.out).toMatch(/\ndefault CLI claude: usable\n$/);
  });

  it('--json gives every preset with the same facts', async () => {
    const dir = tempDir();
    const env = { ...baseEnv(join(dir, 'home')), PATH: fakePath(dir) };
    const r = await runTt(['doctor', '--json'], dir, env);
    expect(r.code, r.err).toBe(0);
    const report = r.json();
    expect(report).toMatchObject({ root, defaultCli: 'claude' });
    expect(report.town).toBeUndefined();
    expect(report.clis.map((c: { name: string }) => c.name)).toEqual(Object.keys(CLI_PRESETS));
    const byName = Object.fromEntries(report.clis.map((c: { name: string }) => [c.name, c]));
    expect(byName.claude).toEqual({
      name: 'claude',
      command: CLI_PRESETS.claude,
      kind: 'agent',
      program: 'claude',
      found: true,
      path: join(dir, 'bin', 'claude'),
      version: '2.1.197',
      release: '2.1.197',
      usable: true,
      notes: expect.any(Array),
      setup: expect.stringContaining('ANTHROPIC_API_KEY'),
      judge: 'report',
      verify: 'e2e',
      env: {
        DISABLE_AUTOUPDATER: '1',
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
        ...(root ? { IS_SANDBOX: '1' } : {}),
      },
      credentials: expect.any(Array),
    });
    expect(byName.codex).toMatchObject({
      kind: 'agent',
      program: 'codex',
      found: false,
      usable: false,
      problem: 'codex is not on PATH',
      fix: 'npm i -g @openai/codex@0.171.0',
    });
    expect(byName.sim).toMatchObject({ kind: 'sim', usable: true });
  });

  it('exits 1 when the default CLI is not usable, and reports a broken one', async () => {
    const dir = tempDir();
    const env = { ...baseEnv(join(dir, 'home')), PATH: fakePath(dir) };
    writeFileSync(join(dir, 'bin', 'claude'), '#!/bin/sh\necho "Error: Cannot find module" >&2\nexit 1\n');
    const r = await runTt(['doctor', '--json'], dir, env);
    expect(r.code).toBe(1);
    expect(r.json().clis.find((c: { name: string }) => c.name === 'claude')).toMatchObject({
      found: true,
      usable: false,
      problem: '`claude --version` exited 1: Error: Cannot find module',
      fix: 'reinstall it: npm i -g @anthropic-ai/claude-code@2.1.197',
    });
  });

  it("checks a town's own presets by their program", async () => {
    const town = await makeTown();
    town.env.PATH = fakePath(town.dir);
    town.configure({ clis: { mine: 'my-agent-not-here --fast', shelly: 'FOO=1 exec x' } });
    const report = (await town.ok('doctor', '--json')).json();
    expect(report.town).toBe(town.dir);
    const byName = Object.fromEntries(report.clis.map((c: { name: string }) => [c.name, c]));
    expect(byName.mine).toMatchObject({
      kind: 'command',
      found: false,
      usable: false,
      problem: 'my-agent-not-here is not on PATH',
    });
    expect(byName.shelly).toMatchObject({
      kind: 'command',
      usable: true,
      notes: ['a shell command line: not checked'],
    });
  });
});

describe('tt spawn of a CLI that is not installed', () => {
  it('is refused in one line with the fix, exit 2, storing nothing', async () => {
    const town = await makeTown();
    town.env.PATH = fakePath(town.dir);
    const r = await town.tt('spawn', 'cody', '--cli', 'codex');
    expect(r.code).toBe(2);
    const lines = r.err.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toBe(
      'tt spawn: codex is not on PATH; install it: npm i -g @openai/codex@0.171.0 (tt doctor checks every CLI)',
    );
    const plain = await town.tt('spawn', 'p1', '--cli', 'my-agent-not-here --fast');
    expect(plain.code).toBe(2);
    expect(plain.err.trim()).toBe(
      'tt spawn: --cli my-agent-not-here --fast: my-agent-not-here is not on PATH; install it, or give its full path (tt doctor checks every CLI)',
    );
    expect((await town.ok('list', '--json')).json().agents).toEqual([]);
    // Registering only starts nothing, so nothing is checked.
    expect((await town.ok('spawn', 'cody', '--cli', 'codex', '--no-start', '--json')).json().cli).toBe(
      'codex',
    );
  });

  it('checks only what can be told: not sim, not a shell construct', () => {
    const dir = tempDir();
    const t = { env: { PATH: fakePath(dir) }, presets: { ...CLI_PRESETS }, root: dir };
    expect(cliStartProblem(t, 'sim')).toBeUndefined();
    expect(cliStartProblem(t, 'claude')).toBeUndefined();
    expect(cliStartProblem(t, 'echo hi; exit 3')).toBeUndefined();
    expect(cliStartProblem(t, 'FOO=1 codex exec')).toBeUndefined();
    expect(cliStartProblem(t, 'codex-mini')).toMatch(
      /^--cli codex-mini: codex is not on PATH; install it: npm i -g @openai\/codex@0\.171\.0/,
    );
    expect(cliStartProblem(t, './agent.sh')).toMatch(/^\.\/agent\.sh does not exist or is not executable/);
  });
});
