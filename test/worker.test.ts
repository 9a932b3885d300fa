import { describe, expect, it } from 'vitest';
import { allEvents, waitForEvent, waitForEvents } from './helpers/events.js';
import { makeTown } from './helpers/town.js';
import { runInProcess, testWorkerConfig } from './helpers/worker.js';

const spawn = async (town: Awaited<ReturnType<typeof makeTown>>, name: string, ...flags: string[]) =>
  (await town.ok('spawn', name, '--cli', 'sim', '--no-start', ...flags, '--json')).json() as {
    id: string;
    name: string;
  };

describe('worker loop (sim agent, in-process)', () => {
  it('takes an assigned task, completes it once, and goes back to idle', async () => {
    const town = await makeTown();
    const a = await spawn(town, 'ada');
    await runInProcess(town, a.id);
    const task = (await town.ok('assign', 'ada', 'write the parser', '--json')).json();
    const done = await waitForEvent(town, (e) => e.type === 'task.completed' && e.task === task.id);
    expect(done.agent).toBe(a.id);
    await waitForEvent(
      town,
      (e) => e.type === 'agent.state' && e.agent === a.id && e.state === 'idle' && e.prev === 'working',
    );
    const shown = (await town.ok('task', 'show', task.id, '--json')).json();
    expect(shown).toMatchObject({ state: 'completed', attempts: 1, result: 'sim: done "write the parser"' });
    expect(shown.claimToken).toBeUndefined();
    const agent = (await town.ok('list', '--json')).json().agents[0];
    expect(agent).toMatchObject({ state: 'idle', tasksCompleted: 1, roundsCompleted: 1 });
    expect(await town.redis.hlen(`${town.prefix}held:${a.id}`)).toBe(0);
    expect(await town.redis.scard(`${town.prefix}running:${a.id}`)).toBe(0);
    const started = (await allEvents(town)).filter((e) => e.type === 'task.started' && e.task === task.id);
    expect(started).toHaveLength(1);
  });

  it('takes backlog work when idle: critical first, only tags that fit its role or capabilities', async () => {
    const town = await makeTown();
    const tester = await spawn(town, 'tess', '--role', 'tester');
    const normal = (await town.ok('backlog', 'add', 'normal chore', '--json')).json();
    const crit = (await town.ok('backlog', 'add', 'critical fix', '--priority', 'critical', '--json')).json();
    const backend = (await town.ok('backlog', 'add', 'backend only', '--tags', 'backend', '--json')).json();
    const tests = (
      await town.ok('backlog', 'add', 'flaky test', '--tags', 'tester', '--priority', 'low', '--json')
    ).json();
    await runInProcess(town, tester.id);
    const done = await waitForEvents(town, (e) => e.type === 'task.completed', 3);
    expect(done.map((e) => e.task)).toEqual([crit.id, normal.id, tests.id]);
    expect(
      (await town.ok('backlog', 'list', '--json')).json().tasks.map((t: { id: string }) => t.id),
    ).toEqual([backend.id]);
    const generalist = await spawn(town, 'gen');
    await runInProcess(town, generalist.id);
    await waitForEvent(town, (e) => e.type === 'task.completed' && e.task === backend.id);
  });

  it('retries a failed attempt after its backoff and completes it on a later attempt', async () => {
    const town = await makeTown();
    const a = await spawn(town, 'ada');
    await runInProcess(town, a.id, { sim: { failFirst: 1 } });
    const task = (await town.ok('backlog', 'add', 'shaky', '--json')).json();
    const retry = await waitForEvent(town, (e) => e.type === 'task.retry' && e.task === task.id);
    expect(retry.text).toMatch(/attempt 1 of 3 failed: sim: simulated failure on attempt 1; retry in 0s/);
    await waitForEvent(town, (e) => e.type === 'task.completed' && e.task === task.id);
    const shown = (await town.ok('task', 'show', task.id, '--json')).json();
    expect(shown).toMatchObject({
      state: 'completed',
      attempts: 2,
      lastError: 'sim: simulated failure on attempt 1',
    });
  });

  it('dead-letters a task whose every attempt fails', async () => {
    const town = await makeTown();
    const a = await spawn(town, 'ada');
    await runInProcess(town, a.id, { sim: { failRate: 1 } });
    const task = (await town.ok('backlog', 'add', 'doomed', '--json')).json();
    const dead = await waitForEvent(town, (e) => e.type === 'task.dead' && e.task === task.id);
    expect(dead.text).toMatch(/dead letter after 3 attempts/);
    expect(
      (await town.ok('task', 'list', '--dead', '--json')).json().tasks.map((t: { id: string }) => t.id),
    ).toEqual([task.id]);
    const events = (await allEvents(town)).filter((e) => e.task === task.id).map((e) => e.type);
    expect(events.filter((t) => t === 'task.started')).toHaveLength(3);
    expect(events.filter((t) => t === 'task.retry')).toHaveLength(2);
  });

  it('a paused agent takes no new work until resumed', async () => {
    const town = await makeTown();
    const a = await spawn(town, 'ada');
    await runInProcess(town, a.id);
    await waitForEvent(town, (e) => e.type === 'agent.state' && e.agent === a.id && e.state === 'idle');
    await town.ok('interrupt', 'ada');
    const task = (await town.ok('assign', 'ada', 'wait for me', '--json')).json();
    // While paused the worker blocks on its wake list; give it a round trip to (not) act.
    await town.ok('status');
    expect((await town.ok('task', 'show', task.id, '--json')).json().state).toBe('assigned');
    await town.ok('resume', 'ada');
    await waitForEvent(town, (e) => e.type === 'task.completed' && e.task === task.id);
  });

  it('stops when killed, when closed, after its max rounds, and after its idle timeout', async () => {
    const town = await makeTown();
    const killed = await spawn(town, 'k');
    const w1 = await runInProcess(town, killed.id);
    await waitForEvent(town, (e) => e.type === 'agent.state' && e.agent === killed.id && e.state === 'idle');
    await town.ok('kill', 'k');
    expect(await w1.done).toBe('stopped');

    const closed = await spawn(town, 'c');
    const w2 = await runInProcess(town, closed.id);
    await waitForEvent(town, (e) => e.type === 'agent.state' && e.agent === closed.id && e.state === 'idle');
    await town.ok('close', 'c');
    expect(await w2.done).toBe('stopped');

    const rounds = await spawn(town, 'r');
    const w3 = await runInProcess(town, rounds.id, { config: testWorkerConfig({ maxRounds: 1 }) });
    await town.ok('assign', 'r', 'one');
    expect(await w3.done).toBe('max-rounds');

    const idle = await spawn(town, 'i');
    const w4 = await runInProcess(town, idle.id, { config: testWorkerConfig({ idleTimeoutMs: 300 }) });
    expect(await w4.done).toBe('idle-timeout');
    const states = (await allEvents(town))
      .filter((e) => e.agent === idle.id && e.type === 'agent.state')
      .map((e) => e.state);
    expect(states.slice(-2)).toEqual(['draining', 'stopped']);
    const list = Object.fromEntries(
      (await town.ok('list', '--json'))
        .json()
        .agents.map((x: { name: string; state: string }) => [x.name, x.state]),
    );
    expect(list).toEqual({ k: 'stopped', c: 'stopped', r: 'stopped', i: 'stopped' });
  });

  it('hands out again a round whose reply was lost (a re-sent begin finds the work already held)', async () => {
    const town = await makeTown();
    const a = await spawn(town, 'ada');
    const task = (await town.ok('assign', 'ada', 'claimed, reply lost', '--json')).json();
    await town.ok('send', 'ada', '--query', 'and this question?');
    const { beginRound } = await import('../source/store/worker.js');
    const { makeDb } = await import('../source/store/db.js');
    const db = makeDb(town.redis, town.name, { now: () => Date.now() });
    const policy = { ...testWorkerConfig().policy, skills: [], generalist: true };
    const lost = await beginRound(db, a.id, 'r0', policy);
    const again = await beginRound(db, a.id, 'r0', policy);
    for (const r of [lost, again]) {
      if (r.status !== 'ok') throw new Error(r.status);
      expect(r.tasks.map((x) => [x.task.id, x.token])).toEqual([[task.id, 'r0:0']]);
      expect(r.messages.map((m) => m.message.type).sort()).toEqual(['query', 'task_assign']);
    }
    const events = await allEvents(town);
    expect(events.filter((e) => e.type === 'task.started' && e.task === task.id)).toHaveLength(1);
  });

  it('skips a malformed inbox entry and keeps working', async () => {
    const town = await makeTown();
    const a = await spawn(town, 'ada');
    await town.redis.zadd(`${town.prefix}inbox:${a.id}`, 0, '{garbage');
    const w = await runInProcess(town, a.id);
    const task = (await town.ok('assign', 'ada', 'after the junk', '--json')).json();
    await waitForEvent(town, (e) => e.type === 'task.completed' && e.task === task.id);
    expect(w.lines.some((l) => /skipped a malformed message/.test(l))).toBe(true);
  });

  it('answers a query and sends its own when asked to', async () => {
    const town = await makeTown();
    const a = await spawn(town, 'ada');
    await runInProcess(town, a.id, { sim: { queryRate: 1 } });
    await town.ok('send', 'ada', '--query', 'status?');
    await town.ok('assign', 'ada', 'something');
    await waitForEvents(town, (e) => e.type === 'message.sent' && e.from === a.id, 2);
    const box = (await town.ok('inbox', 'supervisor', '--json')).json();
    expect(box.messages.map((m: { type: string }) => m.type).sort()).toEqual(['informational', 'query']);
  });
});
