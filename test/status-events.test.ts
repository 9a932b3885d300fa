import { describe, expect, it } from 'vitest';
import { makeTown, runTt } from './helpers/town.js';

describe('status', () => {
  it('--json gives the town, the redacted endpoint, agents with state and inbox length, and task counts by state', async () => {
    const town = await makeTown();
    const a = (await town.ok('spawn', 'ada', '--no-start', '--role', 'backend', '--json')).json();
    await town.ok('spawn', 'bob', '--no-start');
    await town.ok('assign', 'ada', 'one');
    const t2 = (await town.ok('assign', 'ada', 'two', '--json')).json();
    await town.ok('task', 'complete', t2.id);
    await town.ok('backlog', 'add', 'later');
    await town.ok('send', 'supervisor', '--query', 'help');
    await town.ok('interrupt', 'bob');
    const s = (await town.ok('status', '--json')).json();
    expect(s).toMatchObject({
      town: town.name,
      root: town.dir,
      endpoint: `unix:${town.dir}/.tt/redis.sock`,
      tasks: { pending: 1, assigned: 1, running: 0, completed: 1, failed: 0, cancelled: 0, total: 3 },
      backlog: 1,
      supervisorInbox: 1,
    });
    expect(
      s.agents.map((x: { name: string; state: string; inbox: number }) => [x.name, x.state, x.inbox]),
    ).toEqual([
      ['ada', 'starting', 2],
      ['bob', 'paused', 0],
    ]);
    expect(s.agents[0]).toMatchObject({
      id: a.id,
      label: `${a.nickname} [backend]`,
      rounds: 0,
      tasksCompleted: 1,
    });
  });

  it('--deep adds heartbeat age, current task, attempts and activity; --tasks groups tasks by agent', async () => {
    const town = await makeTown();
    const a = (await town.ok('spawn', 'ada', '--no-start', '--json')).json();
    const t = (await town.ok('assign', 'ada', 'work', '--json')).json();
    await town.ok('backlog', 'add', 'loose');
    await town.redis.hset(
      `${town.prefix}agent:${a.id}`,
      'currentTask',
      t.id,
      'lastHeartbeat',
      String(Date.now() - 3000),
    );
    await town.redis.hset(`${town.prefix}task:${t.id}`, 'attempts', '2');
    await town.redis.lpush(`${town.prefix}activity:${a.id}`, 'Round 1: completed');
    const deep = (await town.ok('status', '--deep', '--json')).json().agents[0];
    expect(deep).toMatchObject({ currentTask: t.id, attempts: 2, activity: ['Round 1: completed'] });
    expect(deep.heartbeatAgeMs).toBeGreaterThanOrEqual(3000);
    const text = await town.ok('status', '--deep');
    expect(text.out).toMatch(/STATE\s+AGENT\s+INBOX\s+TASK\s+HB\s+ROUNDS\s+TRY/);
    expect(text.out).toMatch(/Round 1: completed/);
    const grouped = (await town.ok('status', '--tasks', '--json')).json().groups;
    expect(grouped.map((g: { agent: string; tasks: unknown[] }) => [g.agent, g.tasks.length])).toEqual([
      [`${a.nickname} [ada]`, 1],
      ['unassigned', 1],
    ]);
  });
});

describe('events', () => {
  it('history shows the newest events oldest first, and filters by agent', async () => {
    const town = await makeTown();
    await town.ok('spawn', 'ada', '--no-start');
    await town.ok('spawn', 'bob', '--no-start');
    await town.ok('interrupt', 'ada');
    const all = (await town.ok('history', '-n', '2', '--json')).json().events;
    expect(all.map((e: { type: string }) => e.type)).toEqual(['agent.spawned', 'agent.interrupted']);
    const ada = (await town.ok('history', '--agent', 'ada', '--json')).json().events;
    expect(ada.map((e: { type: string }) => e.type)).toEqual(['agent.spawned', 'agent.interrupted']);
    const text = (await town.ok('history')).out.trim().split('\n');
    expect(text).toHaveLength(3);
    expect(text[2]).toMatch(/^\d\d:\d\d:\d\d agent\.interrupted\s+\S+ \[ada\]\s+starting -> paused/);
  });

  it('events --follow prints new events as they happen and stops when asked', async () => {
    const town = await makeTown();
    await town.ok('spawn', 'ada', '--no-start');
    const stop = new AbortController();
    const { run } = await import('../source/commands/run.js');
    const lines: string[] = [];
    const waiters: [RegExp, () => void][] = [];
    const seenLine = (re: RegExp) =>
      new Promise<void>((r) => (lines.some((l) => re.test(l)) ? r() : waiters.push([re, r])));
    const following = run(['events', '--follow', '--count', '1'], {
      out: (s) => {
        lines.push(s);
        for (const [re, r] of waiters) if (re.test(s)) r();
      },
      err: () => {},
      cwd: town.dir,
      env: town.env,
      signal: stop.signal,
    });
    // The backlog of one past event is printed before the follower blocks on the stream.
    await seenLine(/agent\.spawned/);
    await town.ok('send', 'ada', 'hello there');
    await seenLine(/message\.sent/);
    stop.abort();
    expect(await following).toBe(0);
    expect(lines[0]).toMatch(/agent\.spawned/);
    expect(lines.at(-1)).toMatch(/message\.sent .* task: hello there/);
  });

  it('events --json prints the event records', async () => {
    const town = await makeTown();
    const a = (await town.ok('spawn', 'ada', '--no-start', '--json')).json();
    const e = (await runTt(['events', '--json'], town.dir, town.env)).json().events[0];
    expect(e).toMatchObject({ type: 'agent.spawned', agent: a.id, state: 'starting' });
    expect(e.id).toMatch(/^\d+-\d+$/);
    expect(typeof e.ts).toBe('number');
  });
});
