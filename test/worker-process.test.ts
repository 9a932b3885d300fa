import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commandLine, isAlive } from '../source/redis/process.js';
import { allEvents, waitForEvent } from './helpers/events.js';
import { FAST, spawnWorker, waitPidGone } from './helpers/processes.js';
import { makeTown } from './helpers/town.js';

describe('worker processes', () => {
  it('tt spawn starts a detached worker that does the work, logs, and stops on tt kill', async () => {
    const town = await makeTown();
    town.configure(FAST);
    const { id, pid } = await spawnWorker(town, 'ada', '--cli', 'sim');
    expect(commandLine(pid)).toContain(`agent-loop ${id}`);
    await waitForEvent(town, (e) => e.type === 'agent.state' && e.agent === id && e.state === 'idle');
    const task = (await town.ok('assign', 'ada', 'real process work', '--json')).json();
    await waitForEvent(town, (e) => e.type === 'task.completed' && e.task === task.id);
    await town.ok('kill', 'ada');
    await waitPidGone(pid);
    expect((await town.ok('list', '--json')).json().agents[0].state).toBe('stopped');
    const log = readFileSync(join(town.dir, '.tt', 'logs', 'ada.log'), 'utf8');
    expect(log).toMatch(/ada: worker up \(pid \d+/);
    expect(log).toMatch(/completed: completed/);
    const deep = (await town.ok('status', '--deep', '--json')).json().agents[0];
    expect(deep.activity[0]).toMatch(/^Round 1: sim round: 1 done/);
  });

  it('runs a shell-command CLI with the prompt on stdin; the CLI reports through the tt on its PATH', async () => {
    const town = await makeTown();
    town.configure(FAST);
    const script =
      'grep -q "tt task complete $TT_TASK_ID" && tt task complete "$TT_TASK_ID" --result "reported by the CLI as $TT_AGENT_NAME"';
    const { id } = await spawnWorker(town, 'sh1', '--cli', script);
    const task = (await town.ok('assign', 'sh1', 'use the shell', '--json')).json();
    await waitForEvent(town, (e) => e.type === 'task.completed' && e.task === task.id);
    // The round ends (and its log is flushed) after the CLI exits.
    await waitForEvent(
      town,
      (e) => e.type === 'agent.state' && e.agent === id && e.prev === 'working' && e.state === 'idle',
    );
    const shown = (await town.ok('task', 'show', task.id, '--json')).json();
    expect(shown).toMatchObject({ state: 'completed', result: 'reported by the CLI as sh1', attempts: 1 });
    const completions = (await allEvents(town)).filter(
      (e) => e.type === 'task.completed' && e.task === task.id,
    );
    expect(completions).toHaveLength(1);
    const round = readFileSync(join(town.dir, '.tt', 'logs', 'sh1_round_1.log'), 'utf8');
    expect(round).toMatch(/completed task/);
  });

  it.each([
    [
      'exits non-zero',
      'echo "compile error in main.rs" >&2; exit 3',
      /exited with code 3: compile error in main\.rs/,
    ],
    ['hangs past the task timeout', 'sleep 30', /timed out after 1(\.0)?s/],
    ['prints garbage', 'head -c 4000 /dev/urandom', /unreadable output/],
  ])(
    'a CLI that %s fails the attempt with a clear reason, is retried, and the worker survives',
    async (_label, cli, reason) => {
      const town = await makeTown();
      town.configure({
        ...FAST,
        agent: { ...FAST.agent, taskTimeoutSecs: 1 },
        tasks: { ...FAST.tasks, maxAttempts: 2 },
      });
      const { id, pid } = await spawnWorker(town, 'bad', '--cli', cli);
      const task = (await town.ok('assign', 'bad', 'doomed', '--json')).json();
      const retry = await waitForEvent(town, (e) => e.type === 'task.retry' && e.task === task.id);
      expect(retry.text).toMatch(reason);
      const dead = await waitForEvent(town, (e) => e.type === 'task.dead' && e.task === task.id);
      expect(dead.text).toMatch(reason);
      expect(isAlive(pid)).toBe(true);
      const a = (await town.ok('list', '--json')).json().agents.find((x: { id: string }) => x.id === id);
      expect(['idle', 'working']).toContain(a.state);
    },
  );
});
