import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isAlive } from '../source/redis/process.js';
import { ttEntry } from '../source/runtime/entry.js';
import { baseEnv, onCleanup, runTt, tempDir } from './helpers/town.js';

const hasTmux = spawnSync('tmux', ['-V']).status === 0;

/** Polls the screen until it matches (the console redraws at its own pace). */
const screenUntil = async (session: string, re: RegExp, timeoutMs = 15_000): Promise<string> => {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const r = spawnSync('tmux', ['capture-pane', '-p', '-t', session], { encoding: 'utf8' });
    last = r.stdout ?? '';
    if (re.test(last)) return last;
    await new Promise((r2) => setTimeout(r2, 100));
  }
  throw new Error(`the screen never matched ${re}; last screen:\n${last}`);
};

const until = async (what: string, ok: () => Promise<boolean>, timeoutMs = 15_000, session?: string) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > deadline)
      throw new Error(
        `timed out waiting for ${what}${session ? `; screen:\n${spawnSync('tmux', ['capture-pane', '-p', '-t', session], { encoding: 'utf8' }).stdout}` : ''}`,
      );
    await new Promise((r) => setTimeout(r, 100));
  }
};

describe.skipIf(!hasTmux)('the console in a real terminal', () => {
  it('tt demo: focus, navigate, pause a mission, answer a help prompt, quit', async () => {
    const dir = tempDir();
    const town = join(dir, 'demo');
    const env = baseEnv(join(dir, 'home'));
    const session = `tt-e2e-${process.pid}`;
    onCleanup(async () => {
      spawnSync('tmux', ['kill-session', '-t', session]);
      await runTt(['down', '-t', town], dir, env);
    });
    const envArgs = Object.entries({
      TT_HOME: env.TT_HOME!,
      PATH: env.PATH!,
      TERM: 'xterm-256color',
    }).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
    execFileSync('tmux', [
      'new-session',
      '-d',
      '-s',
      session,
      '-x',
      '120',
      '-y',
      '40',
      ...envArgs,
      `${process.execPath} ${ttEntry()} demo --dir ${town}`,
    ]);
    const tt = async (...args: string[]) => (await runTt([...args, '-t', town], dir, env)).json();

    // The console comes up on the demo town, linked, with its panes.
    let screen = await screenUntil(session, /\(linked\).*dispatcher ok/);
    for (const title of ['1 Agents', '2 Task queue', '3 Missions', '4 Events', '5 Help prompts'])
      expect(screen).toContain(title);
    expect(screen).toMatch(/payments \(demo\)/);

    // Focus the missions pane and move along its rows.
    execFileSync('tmux', ['send-keys', '-t', session, '3']);
    await screenUntil(session, /\|> 3 Missions/);
    execFileSync('tmux', ['send-keys', '-t', session, 'j', 'k']);

    // Pause the mission (the first row): a control note, applied by the console's dispatcher.
    execFileSync('tmux', ['send-keys', '-t', session, 'p']);
    await screenUntil(session, /note "pause"/);
    const missionId: string = (await tt('mission', 'list', '--all', '--json')).missions.find(
      (m: { title: string }) => m.title === 'payments (demo)',
    ).id;
    await until(
      'the mission to be paused',
      async () => (await tt('mission', 'status', missionId, '--json')).mission.state === 'blocked',
    );
    screen = await screenUntil(session, /blocked/);
    expect(screen).toMatch(/applied at tick \d+: paused|blocked/);

    // A second mission whose work no agent can take: the dispatcher asks for help.
    writeFileSync(
      join(town, 'gpu.json'),
      JSON.stringify({ items: [{ title: 'train the model', caps: ['gpu'] }] }),
    );
    const gpu = (await tt('mission', 'start', '--manifest', 'gpu.json', '--no-reviewer', '--json')).mission
      .id as string;
    await screenUntil(session, /mission \w{4}: Mission \S+ has 1 ready work item/, 20_000);
    // Answer it from the help pane: the answer becomes a control note; the prompt is retired.
    execFileSync('tmux', ['send-keys', '-t', session, '5', 'a']);
    await screenUntil(session, /answer \(resume/);
    execFileSync('tmux', ['send-keys', '-t', session, '-l', 'pause until a gpu agent exists']);
    execFileSync('tmux', ['send-keys', '-t', session, 'Enter']);
    await until(
      'the gpu mission to be paused by the answer',
      async () => (await tt('mission', 'status', gpu, '--json')).mission.state === 'blocked',
    );
    const notes = (await tt('mission', 'status', gpu, '--json')).notes;
    expect(notes.map((n: { body: string; sender: string }) => [n.body, n.sender])).toEqual([
      ['pause until a gpu agent exists', 'console'],
    ]);
    expect(
      (await tt('inbox', 'supervisor', '--json')).messages.filter(
        (m: { mission?: string }) => m.mission === gpu,
      ),
    ).toEqual([]);
    await screenUntil(session, /no help prompts/);

    // Resume the demo mission from the missions pane, found with a filter.
    execFileSync('tmux', ['send-keys', '-t', session, '3', '/']);
    execFileSync('tmux', ['send-keys', '-t', session, '-l', 'payments']);
    execFileSync('tmux', ['send-keys', '-t', session, 'Enter', 'g', 'r']);
    await until(
      'the demo mission to run again',
      async () => (await tt('mission', 'status', missionId, '--json')).mission.state === 'running',
      15_000,
      session,
    );

    // Quit: the console asks (its dispatcher has a mission running), then leaves and restores the terminal.
    const pids: number[] = (await tt('list', '--json')).agents
      .map((a: { pid?: number }) => a.pid)
      .filter(Boolean);
    expect(pids).toHaveLength(3);
    execFileSync('tmux', ['send-keys', '-t', session, 'q']);
    await screenUntil(session, /quit\?/);
    execFileSync('tmux', ['send-keys', '-t', session, 'y']);
    await until(
      'the console to exit',
      async () => spawnSync('tmux', ['has-session', '-t', session]).status !== 0,
      10_000,
    );
    // The throwaway town stops with its console: no agent process, no Redis left behind.
    await until('the demo agents to exit', async () => !pids.some(isAlive), 10_000);
    expect(existsSync(join(town, '.tt', 'redis.sock'))).toBe(false);
    // A dozen steps, each waiting on the screen or on a tt process: the suite's 20 s per test is
    // too short for the whole story on a loaded machine, though each step has its own deadline.
  }, 90_000);
});
