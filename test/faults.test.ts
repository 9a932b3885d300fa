import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TownEvent } from '../source/model/event.js';
import { ttEntry } from '../source/runtime/entry.js';
import { allEvents, waitForEvent, waitForEvents } from './helpers/events.js';
import { FAST, spawnWorker, waitPidGone } from './helpers/processes.js';
import { killPid, makeTown, onCleanup, type TestTown } from './helpers/town.js';

/** Per task: how many attempts started, how many completions were recorded. */
const tally = (events: TownEvent[], taskId: string) => ({
  started: events.filter((e) => e.type === 'task.started' && e.task === taskId).length,
  completed: events.filter((e) => e.type === 'task.completed' && e.task === taskId),
});

/** Polls a condition with a deadline (for facts no event announces, like a line in a log file). */
const until = async (what: string, ok: () => boolean | Promise<boolean>, timeoutMs = 10_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

const clients = async (town: TestTown): Promise<string[]> =>
  String(await town.redis.client('LIST')).split('\n');
const blockedWorkers = async (town: TestTown) =>
  (await clients(town)).filter((l) => l.includes('name=tt-blocking') && l.includes('cmd=blpop')).length;

describe('faults: no task is lost', () => {
  it('a worker SIGKILLed before it claims: its queued task completes once, on a live worker', async () => {
    const town = await makeTown();
    town.configure(FAST);
    const a = await spawnWorker(town, 'a', '--cli', 'sim');
    await waitForEvent(town, (e) => e.type === 'agent.state' && e.agent === a.id && e.state === 'idle');
    killPid(a.pid, 'SIGKILL');
    await waitPidGone(a.pid);
    const task = (await town.ok('assign', 'a', 'orphaned before it started', '--json')).json();
    const b = await spawnWorker(town, 'b', '--cli', 'sim');
    const done = await waitForEvent(town, (e) => e.type === 'task.completed' && e.task === task.id);
    expect(done.agent).toBe(b.id);
    const t = tally(await allEvents(town), task.id);
    expect(t.started).toBe(1);
    expect(t.completed).toHaveLength(1);
    expect(
      (await town.ok('list', '--json')).json().agents.find((x: { id: string }) => x.id === a.id).state,
    ).toBe('stopped');
  });

  it('a worker SIGKILLed while its CLI runs: the attempt is counted, retried, and completes once elsewhere', async () => {
    const town = await makeTown();
    town.configure(FAST);
    const a = await spawnWorker(town, 'a', '--cli', 'sim', '--sim-duration', '30000');
    const task = (await town.ok('assign', 'a', 'killed mid-flight', '--json')).json();
    await waitForEvent(town, (e) => e.type === 'task.started' && e.task === task.id && e.agent === a.id);
    killPid(a.pid, 'SIGKILL');
    const b = await spawnWorker(town, 'b', '--cli', 'sim');
    const done = await waitForEvent(town, (e) => e.type === 'task.completed' && e.task === task.id);
    expect(done.agent).toBe(b.id);
    const t = tally(await allEvents(town), task.id);
    expect(t.started).toBe(2); // one duplicate execution, explained by the attempt count
    expect(t.completed).toHaveLength(1);
    expect((await town.ok('task', 'show', task.id, '--json')).json()).toMatchObject({
      state: 'completed',
      attempts: 2,
    });
  });

  it('a worker SIGKILLed after its CLI finished but before recording it: completes once', async () => {
    const town = await makeTown();
    town.configure(FAST);
    const a = (await town.ok('spawn', 'a', '--cli', 'sim', '--no-start', '--json')).json();
    const log = join(town.dir, '.tt', 'logs', 'a-failpoint.log');
    const { openSync, closeSync } = await import('node:fs');
    const fd = openSync(log, 'a');
    const child = spawn(process.execPath, [ttEntry(), 'agent-loop', a.id, '--failpoint', 'before-finish'], {
      cwd: town.dir,
      env: town.env as NodeJS.ProcessEnv,
      stdio: ['ignore', fd, fd],
      detached: true,
    });
    closeSync(fd);
    onCleanup(() => killPid(child.pid));
    const task = (await town.ok('assign', 'a', 'done but not recorded', '--json')).json();
    await until('the failpoint', () => readFileSync(log, 'utf8').includes('failpoint before-finish'));
    killPid(child.pid, 'SIGKILL');
    const b = await spawnWorker(town, 'b', '--cli', 'sim');
    const done = await waitForEvent(town, (e) => e.type === 'task.completed' && e.task === task.id);
    expect(done.agent).toBe(b.id);
    const t = tally(await allEvents(town), task.id);
    expect(t.started).toBe(2);
    expect(t.completed).toHaveLength(1);
  });

  it('Redis SIGKILLed mid-run (AOF on) and restarted: every acknowledged task completes; workers reconnect by themselves', async () => {
    const town = await makeTown();
    town.configure({ ...FAST, agent: { ...FAST.agent, heartbeatTtlSecs: 5 } });
    const workers = await Promise.all(
      ['w1', 'w2', 'w3'].map((n) => spawnWorker(town, n, '--cli', 'sim', '--sim-duration', '20')),
    );
    const ids: string[] = [];
    for (let i = 0; i < 60; i++) ids.push((await town.ok('backlog', 'add', `job ${i}`, '--json')).json().id);
    await waitForEvents(town, (e) => e.type === 'task.completed', 10);
    const pid = town.pid()!;
    town.redis.disconnect();
    killPid(pid, 'SIGKILL');
    await waitPidGone(pid);
    await town.ok('up');
    await town.redis.connect();
    // Workers retry with a backoff capped at 1 s, so they are back about a second after Redis is;
    // the deadline is generous because a loaded 2-core machine stretches every step (a timed bound
    // here failed about one full-suite run in three).
    await until(
      'three workers reconnected',
      async () => (await clients(town)).filter((l) => l.includes('name=tt-blocking')).length >= 3,
      15_000,
    );
    await until(
      'all 60 tasks completed',
      async () => (await town.redis.scard(`${town.prefix}tasks:completed`)) === 60,
      20_000,
    );
    const events = await allEvents(town);
    for (const id of ids) expect(tally(events, id).completed.length, id).toBe(1);
    await until(
      'all three workers blocking on their inboxes again',
      async () => (await blockedWorkers(town)) === 3,
      5000,
    );
    for (const w of workers)
      expect(
        readFileSync(join(town.dir, '.tt', 'logs', `${['w1', 'w2', 'w3'][workers.indexOf(w)]}.log`), 'utf8'),
      ).toMatch(/worker up/);
  });

  it('a worker whose connections are cut (CLIENT KILL) resumes and finishes its task', async () => {
    const town = await makeTown();
    town.configure(FAST);
    const a = await spawnWorker(town, 'a', '--cli', 'sim', '--sim-duration', '400');
    const t1 = (await town.ok('assign', 'a', 'in flight during the cut', '--json')).json();
    await waitForEvent(town, (e) => e.type === 'task.started' && e.task === t1.id);
    const list = await clients(town);
    const mine = list
      .filter((l) => /name=tt-(blocking|dispatcher)/.test(l))
      .map((l) => /id=(\d+)/.exec(l)![1]!);
    expect(mine.length).toBeGreaterThanOrEqual(2);
    for (const id of mine) await town.redis.client('KILL', 'ID', id);
    await waitForEvent(town, (e) => e.type === 'task.completed' && e.task === t1.id).catch((e) => {
      throw new Error(
        `${e.message}\nworker log:\n${readFileSync(join(town.dir, '.tt', 'logs', 'a.log'), 'utf8')}`,
      );
    });
    const t2 = (await town.ok('assign', 'a', 'after the cut', '--json')).json();
    const done = await waitForEvent(town, (e) => e.type === 'task.completed' && e.task === t2.id);
    expect(done.agent).toBe(a.id);
    const t = tally(await allEvents(town), t1.id);
    expect(t.completed).toHaveLength(1);
    expect(t.started).toBe(1);
  });
});
