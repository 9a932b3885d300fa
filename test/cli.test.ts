import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../source/commands/registry.js';
import { baseEnv, killPidFile, onCleanup, runTt, tempDir } from './helpers/town.js';

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

/** Runs the built binary as a user would. */
const tt = (args: string[], cwd: string, env: Record<string, string | undefined>) =>
  new Promise<{ code: number; out: string; err: string }>((resolve) => {
    execFile(process.execPath, [CLI, ...args], { cwd, env: env as NodeJS.ProcessEnv }, (error, out, err) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, out, err });
    });
  });

describe('the tt binary', () => {
  it('is built', () => expect(existsSync(CLI), 'run npm run build first').toBe(true));

  it('prints help listing every verb, and exits 0', async () => {
    const dir = tempDir();
    const r = await tt(['--help'], dir, baseEnv(dir));
    expect(r.code).toBe(0);
    for (const c of COMMANDS.filter((x) => !x.hidden)) expect(r.out).toContain(`  ${c.name} `);
    expect(r.out).not.toContain('agent-loop');
  });

  it('gives every verb a --help with its options', async () => {
    const dir = tempDir();
    const env = baseEnv(dir);
    // In-process: the parsing is the same code the binary runs, without 30 Node start-ups.
    const results = await Promise.all(COMMANDS.map((c) => runTt([...c.name.split(' '), '--help'], dir, env)));
    results.forEach((r, i) => {
      const c = COMMANDS[i]!;
      expect(r.code, c.name).toBe(0);
      expect(r.out, c.name).toContain(`Usage: tt ${c.name}`);
      expect(r.out, c.name).toContain('--town');
      if (c.json) expect(r.out, c.name).toContain('--json');
      // Flags are typed in kebab case (--sim-duration), and help shows them so.
      expect(r.out, c.name).not.toMatch(/--[a-z]+[A-Z]/);
    });
  });

  it.each([
    [['frobnicate'], /^tt: unknown command "frobnicate" \(see tt --help\)$/],
    [['status', '--frob'], /^tt status: unknown option --frob/],
    [['spawn'], /^tt spawn: missing arguments; usage: tt spawn <name>$/],
    [['list', 'extra'], /^tt list: too many arguments/],
    [['wait', 'x', '--timeout', 'soon'], /^tt wait: --timeout needs a number$/],
    [['task', 'list', '--state', 'sleeping'], /^tt task list: --state must be one of pending, assigned/],
    [['task', 'frob'], /^tt task: unknown subcommand "frob"/],
  ])('bad usage %j is one line on stderr and exit 2', async (args, message) => {
    const dir = tempDir();
    const r = await runTt(args, dir, baseEnv(dir));
    expect(r.code).toBe(2);
    expect(r.err.split('\n')[0]).toMatch(message);
    expect(r.out).toBe('');
  });

  it('exits 2 with one line on stderr for bad usage', async () => {
    const dir = tempDir();
    const r = await tt(['status', '--frob'], dir, baseEnv(dir));
    expect(r.code).toBe(2);
    expect(r.err).toBe('tt status: unknown option --frob (see tt status --help)\n');
  });

  it('runs a session end to end in a fresh directory', async () => {
    const dir = tempDir();
    const env = baseEnv(join(dir, 'home'));
    onCleanup(() => killPidFile(join(dir, '.tt', 'redis.pid')));
    expect((await tt(['init', '--name', 'e2e'], dir, env)).code).toBe(0);
    expect((await tt(['spawn', 'ada', '--cli', 'sim', '--no-start'], dir, env)).code).toBe(0);
    const assigned = await tt(['assign', 'ada', 'do', 'it', '--json'], dir, env);
    expect(assigned.code).toBe(0);
    const task = JSON.parse(assigned.out);
    const status = JSON.parse((await tt(['status', '--json'], dir, env)).out);
    expect(status.agents[0]).toMatchObject({ name: 'ada', inbox: 1 });
    expect(status.tasks.assigned).toBe(1);
    expect((await tt(['task', 'complete', task.id], dir, env)).code).toBe(0);
    const down = await tt(['down'], dir, env);
    expect(down.code).toBe(0);
  });

  it('takes a report through the quoted heredoc the prompt shows, unexpanded', async () => {
    const dir = tempDir();
    const env = baseEnv(join(dir, 'home'));
    onCleanup(() => killPidFile(join(dir, '.tt', 'redis.pid')));
    expect((await tt(['init', '--name', 'heredoc'], dir, env)).code).toBe(0);
    const task = JSON.parse((await tt(['backlog', 'add', 'work', '--json'], dir, env)).out);
    const report = 'Ran `id` and $(id) for $HOME.\n```sh\necho "$(date)"\n```';
    const script = `'${process.execPath}' '${CLI}' task complete ${task.id} --result - <<'TT_REPORT_END'\n${report}\nTT_REPORT_END\n`;
    const r = await new Promise<{ code: number; err: string }>((resolve) =>
      execFile('/bin/sh', ['-c', script], { cwd: dir, env: env as NodeJS.ProcessEnv }, (error, _out, err) =>
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, err }),
      ),
    );
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse((await tt(['task', 'show', task.id, '--json'], dir, env)).out).result).toBe(
      `${report}\n`,
    );
    expect((await tt(['down'], dir, env)).code).toBe(0);
  });
});
