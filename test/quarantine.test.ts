import { describe, expect, it } from 'vitest';
import { SUPERVISOR_ID } from '../source/model/ids.js';
import { quarantineQuestion } from '../source/model/quarantine.js';
import type { Executor } from '../source/runtime/executor.js';
import { allEvents, waitForEvent } from './helpers/events.js';
import { makeTown } from './helpers/town.js';
import { runInProcess, testWorkerConfig } from './helpers/worker.js';

type Town = Awaited<ReturnType<typeof makeTown>>;

const spawn = async (town: Town, name: string) =>
  (await town.ok('spawn', name, '--cli', 'sim', '--no-start', '--json')).json() as { id: string };

/** An executor whose attempts fail (with an API-like error) while `broken.on`, and succeed after. */
const flaky = (broken: { on: boolean; calls: number }): Executor => {
  return async (work) => {
    broken.calls++;
    const results = new Map(
      work.tasks.map(({ task }) => [
        task.id,
        broken.on ? { ok: false, text: 'api: API server error' } : { ok: true, text: 'done' },
      ]),
    );
    return { results, summary: broken.on ? 'failed' : 'ok' };
  };
};

const agentRecord = async (town: Town, id: string) => town.redis.hgetall(`${town.prefix}agent:${id}`);

describe('no burn-outs', () => {
  it('quarantines an agent whose attempts fail fast, asks the supervisor, and resumes it on tt resume', async () => {
    const town = await makeTown();
    const a = await spawn(town, 'ada');
    const broken = { on: true, calls: 0 };
    const config = testWorkerConfig({ quarantine: { after: 3, fastFailMs: 30_000 } });
    await runInProcess(town, a.id, { executor: flaky(broken), config });
    await town.ok('backlog', 'add', 'one', '--json');
    await town.ok('backlog', 'add', 'two', '--json');
    const q = await waitForEvent(
      town,
      (e) => e.type === 'agent.state' && e.agent === a.id && e.state === 'quarantined',
    );
    const why = 'quarantined: 3 attempts failed within 30 s each (last: api: API server error)';
    expect(q.text).toBe(why);
    expect(await agentRecord(town, a.id)).toMatchObject({ state: 'quarantined', fastFails: '3' });
    const help = (await town.redis.zrange(`${town.prefix}inbox:${SUPERVISOR_ID}`, '0', '-1')).map((m) =>
      JSON.parse(m),
    );
    expect(help).toEqual([
      expect.objectContaining({ type: 'query', from: a.id, question: quarantineQuestion('ada', why) }),
    ]);
    // It claims nothing while quarantined.
    await new Promise((r) => setTimeout(r, 800));
    expect(broken.calls).toBe(3);
    expect((await agentRecord(town, a.id)).state).toBe('quarantined');
    expect((await town.ok('list', '--json')).json().agents[0]).toMatchObject({ state: 'quarantined' });
    // Resumed (the cause fixed), it works again and a success keeps the streak at 0.
    broken.on = false;
    await town.ok('resume', 'ada');
    expect((await agentRecord(town, a.id)).fastFails).toBe('0');
    await waitForEvent(town, (e) => e.type === 'task.completed' && e.agent === a.id);
    expect((await agentRecord(town, a.id)).fastFails).toBe('0');
  });

  it('a success resets the streak: failures that are not in a row never quarantine', async () => {
    const town = await makeTown();
    const a = await spawn(town, 'ada');
    const config = testWorkerConfig({ quarantine: { after: 2, fastFailMs: 30_000 } });
    // Every task fails its first attempt and succeeds on its second: fail, success, fail, ...
    await runInProcess(town, a.id, { sim: { failFirst: 1 }, config });
    for (const d of ['one', 'two', 'three']) {
      const task = (await town.ok('backlog', 'add', d, '--json')).json();
      await waitForEvent(town, (e) => e.type === 'task.completed' && e.task === task.id);
    }
    const states = (await allEvents(town)).filter((e) => e.type === 'agent.state' && e.agent === a.id);
    expect(states.map((e) => e.state)).not.toContain('quarantined');
  });

  it('a retry goes to another idle agent first', async () => {
    const town = await makeTown();
    const a = await spawn(town, 'ada');
    const b = await spawn(town, 'bob');
    const broken = { on: true, calls: 0 };
    // ada's retries are due after 1.5 s: time enough for bob to come up and idle.
    const slowRetry = testWorkerConfig({}, { delaysMs: [1500, 1500] });
    await runInProcess(town, a.id, { executor: flaky(broken), config: slowRetry });
    const task = (await town.ok('backlog', 'add', 'shaky', '--json')).json();
    await waitForEvent(town, (e) => e.type === 'task.retry' && e.task === task.id);
    expect((await town.ok('task', 'show', task.id, '--json')).json()).toMatchObject({ lastAgent: a.id });
    await runInProcess(town, b.id);
    const done = await waitForEvent(town, (e) => e.type === 'task.completed' && e.task === task.id);
    expect(done.agent).toBe(b.id);
    expect(broken.calls).toBe(1);
  });

  it('a one-agent town retries on the same agent at once', async () => {
    const town = await makeTown();
    const a = await spawn(town, 'ada');
    // The grace is long: were it waited out, the test would time out.
    const config = testWorkerConfig({}, { retryGraceMs: 60_000 });
    await runInProcess(town, a.id, { sim: { failFirst: 1 }, config });
    const task = (await town.ok('backlog', 'add', 'shaky', '--json')).json();
    const done = await waitForEvent(town, (e) => e.type === 'task.completed' && e.task === task.id);
    expect(done.agent).toBe(a.id);
    expect((await town.ok('task', 'show', task.id, '--json')).json()).toMatchObject({ attempts: 2 });
  });
});
