import { describe, expect, it } from 'vitest';
import { makeTown } from './helpers/town.js';

describe('malformed records in Redis', () => {
  it('are reported once and skipped; everything else keeps working', async () => {
    const town = await makeTown();
    const a = (await town.ok('spawn', 'ada', '--no-start', '--json')).json();
    const t = (await town.ok('assign', 'ada', 'real work', '--json')).json();
    // A record another tool (or a bug) wrote badly.
    await town.redis.sadd(`${town.prefix}agents`, 'bad-agent');
    await town.redis.hset(
      `${town.prefix}agent:bad-agent`,
      'id',
      'bad-agent',
      'name',
      'zed',
      'state',
      'dancing',
    );
    await town.redis.zadd(`${town.prefix}tasks`, 1, 'bad-task');
    await town.redis.hset(
      `${town.prefix}task:bad-task`,
      'id',
      'bad-task',
      'state',
      'pending',
      'createdAt',
      'yesterday',
    );
    await town.redis.sadd(`${town.prefix}tasks:pending`, 'bad-task');
    await town.redis.zadd(`${town.prefix}inbox:${a.id}`, 0, '{not json');
    await town.redis.xadd(`${town.prefix}events`, '*', 'type', 'agent.spawned', 'data', '{broken');

    const list = await town.tt('list', '--json');
    expect(list.code).toBe(0);
    expect(list.json().agents.map((x: { name: string }) => x.name)).toEqual(['ada']);
    expect(list.err).toMatch(/^warning: skipped malformed record tt:\{[^}]+\}:agent:bad-agent: \w+: /m);

    const status = await town.tt('status', '--json');
    expect(status.code).toBe(0);
    expect(status.json().agents).toHaveLength(1);

    const tasks = await town.tt('task', 'list', '--json');
    expect(tasks.code).toBe(0);
    expect(tasks.json().tasks.map((x: { id: string }) => x.id)).toEqual([t.id]);
    expect(tasks.err).toMatch(/task:bad-task: \w+: /);

    const inbox = await town.tt('inbox', 'ada', '--json');
    expect(inbox.code).toBe(0);
    expect(inbox.json().messages).toHaveLength(1);
    expect(inbox.err).toMatch(/not JSON/);

    const history = await town.tt('history', '--json');
    expect(history.code).toBe(0);
    expect(history.err).toMatch(/data is not JSON/);

    // Writes still work and the bad records are left for the operator to inspect, not deleted.
    await town.ok('task', 'complete', t.id);
    expect(await town.redis.exists(`${town.prefix}agent:bad-agent`)).toBe(1);
    const direct = await town.tt('task', 'show', 'bad-task');
    expect(direct.code).toBe(2);
  });
});

describe('reset', () => {
  it('without --force only says what it would delete; --agents-only keeps tasks; --force deletes all', async () => {
    const town = await makeTown();
    await town.ok('spawn', 'ada', '--no-start');
    await town.ok('assign', 'ada', 'work');
    await town.ok('backlog', 'add', 'later');
    const before = await town.redis.dbsize();
    const dry = await town.ok('reset');
    expect(dry.out).toMatch(/would delete \d+ keys .*run again with --force/);
    expect(await town.redis.dbsize()).toBe(before);

    await town.ok('reset', '--agents-only', '--force');
    expect((await town.ok('list', '--json')).json().agents).toEqual([]);
    expect((await town.ok('task', 'list', '--json')).json().tasks).toHaveLength(2);

    const r = (await town.ok('reset', '--force', '--json')).json();
    expect(r.done).toBe(true);
    expect((await town.ok('task', 'list', '--json')).json().tasks).toEqual([]);
    const events = (await town.ok('history', '--json')).json().events;
    expect(events.map((e: { type: string }) => e.type)).toEqual(['town.reset']);
  });
});
