import { describe, expect, it } from 'vitest';
import { makeTown } from './helpers/town.js';

describe('agents', () => {
  it('spawn registers an agent with a nickname, role, cli and caps', async () => {
    const town = await makeTown();
    const a = (
      await town.ok(
        'spawn',
        'ada',
        '--no-start',
        '--role',
        'backend',
        '--cli',
        'sim',
        '--cap',
        'ts,Redis',
        '--json',
      )
    ).json();
    expect(a).toMatchObject({
      name: 'ada',
      role: 'backend',
      cli: 'sim',
      state: 'starting',
      caps: ['ts', 'redis'],
    });
    expect(a.nickname).toMatch(/^[A-Z][a-z]+$/);
    const stored = await town.redis.hgetall(`${town.prefix}agent:${a.id}`);
    expect(stored).toMatchObject({ id: a.id, name: 'ada', state: 'starting', cli: 'sim' });
    expect(await town.redis.sismember(`${town.prefix}agents`, a.id)).toBe(1);
    const events = await town.ok('history', '--json');
    expect(events.json().events.map((e: { type: string }) => e.type)).toEqual(['agent.spawned']);
  });

  it('spawn --no-worktree is stored on the agent; without it the field is absent', async () => {
    const town = await makeTown();
    const a = (await town.ok('spawn', 'ada', '--no-start', '--no-worktree', '--json')).json();
    expect(a.noWorktree).toBe(true);
    expect(await town.redis.hget(`${town.prefix}agent:${a.id}`, 'noWorktree')).toBe('true');
    const b = (await town.ok('spawn', 'bob', '--no-start', '--json')).json();
    expect(b.noWorktree).toBeUndefined();
    expect(await town.redis.hexists(`${town.prefix}agent:${b.id}`, 'noWorktree')).toBe(0);
    const listed = (await town.ok('list', '--json')).json().agents;
    expect(listed.map((x: { name: string; noWorktree?: boolean }) => [x.name, x.noWorktree])).toEqual([
      ['ada', true],
      ['bob', undefined],
    ]);
    expect((await town.ok('spawn', '--help')).out).toMatch(/--worktree\s+in a git town, .*--no-worktree/);
  });

  it('normalises a preset given as its full command line, and keeps other commands verbatim', async () => {
    const town = await makeTown();
    const a = (
      await town.ok(
        'spawn',
        'a1',
        '--no-start',
        '--cli',
        'claude --print --output-format stream-json --verbose --dangerously-skip-permissions',
        '--json',
      )
    ).json();
    expect(a.cli).toBe('claude');
    const b = (await town.ok('spawn', 'b1', '--no-start', '--cli', './my-agent.sh --fast', '--json')).json();
    expect(b.cli).toBe('./my-agent.sh --fast');
    const c = (await town.ok('spawn', 'c1', '--no-start', '--json')).json();
    expect(c.cli).toBe('claude');
  });

  it('refuses reserved names, bad names and duplicates with exit 2, storing nothing', async () => {
    const town = await makeTown();
    for (const name of ['supervisor', 'Conductor', 'has space', '.dot', 'x'.repeat(65)]) {
      const r = await town.tt('spawn', name, '--no-start');
      expect(r.code, name).toBe(2);
      expect(r.err.trim().split('\n')).toHaveLength(1);
    }
    await town.ok('spawn', 'conductor-helper', '--no-start');
    const dup = await town.tt('spawn', 'CONDUCTOR-HELPER', '--no-start');
    expect(dup.code).toBe(2);
    expect(dup.err).toMatch(/already exists \(starting\)/);
    expect(await town.redis.scard(`${town.prefix}agents`)).toBe(1);
  });

  it('resolves agents by name, nickname, label and short id, and lists candidates when ambiguous', async () => {
    const town = await makeTown();
    const a = (
      await town.ok('spawn', 'backend-1', '--no-start', '--nickname', 'Ada', '--role', 'backend', '--json')
    ).json();
    const b = (await town.ok('spawn', 'backend-2', '--no-start', '--nickname', 'Ada', '--json')).json();
    for (const ref of ['backend-1', 'Ada [backend]', a.id.slice(0, 6), a.id]) {
      const r = (await town.ok('interrupt', ref, '--json')).json();
      expect(r.id, ref).toBe(a.id);
      await town.ok('resume', a.id);
    }
    const amb = await town.tt('kill', 'ada');
    expect(amb.code).toBe(2);
    expect(amb.err).toMatch(
      /"ada" is ambiguous: it matches Ada \[backend\] \([0-9a-f]{8}\), Ada \[backend-2\]/,
    );
    const none = await town.tt('kill', 'nobody');
    expect(none.code).toBe(2);
    expect(none.err).toMatch(/no agent matches "nobody"/);
    expect(b.id).not.toBe(a.id);
  });

  it('interrupt, resume, close and kill move the state machine and refuse illegal moves naming both states', async () => {
    const town = await makeTown();
    await town.ok('spawn', 'w', '--no-start');
    const state = async () => (await town.ok('list', '--json')).json().agents[0].state;
    await town.ok('interrupt', 'w');
    expect(await state()).toBe('paused');
    await town.ok('resume', 'w');
    expect(await state()).toBe('idle');
    const again = await town.tt('resume', 'w');
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/agent w is idle, not paused/);
    await town.ok('close', 'w');
    expect(await state()).toBe('draining');
    expect(
      await town.redis.exists(`${town.prefix}stop:${(await town.ok('list', '--json')).json().agents[0].id}`),
    ).toBe(1);
    const bad = await town.tt('interrupt', 'w');
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/is draining; it cannot become paused/);
    await town.ok('kill', 'w');
    expect(await state()).toBe('stopped');
    const ttl = await town.redis.ttl(
      `${town.prefix}stop:${(await town.ok('list', '--json')).json().agents[0].id}`,
    );
    expect(ttl).toBeGreaterThan(3500);
    const types = (await town.ok('history', '--agent', 'w', '--json'))
      .json()
      .events.map((e: { type: string }) => e.type);
    expect(types).toEqual([
      'agent.spawned',
      'agent.interrupted',
      'agent.resumed',
      'agent.closing',
      'agent.killed',
    ]);
  });

  it('restart brings a stopped agent back, only from a terminal state', async () => {
    const town = await makeTown();
    await town.ok('spawn', 'w', '--no-start');
    const live = await town.tt('restart', 'w');
    expect(live.code).toBe(1);
    expect(live.err).toMatch(/is starting; it cannot become starting/);
    await town.ok('kill', 'w');
    const r = (await town.ok('restart', 'w', '--json')).json();
    expect(r.previous).toBe('stopped');
    const a = (await town.ok('list', '--json')).json().agents[0];
    expect(a).toMatchObject({ state: 'starting', roundsCompleted: 0 });
    expect(await town.redis.exists(`${town.prefix}stop:${a.id}`)).toBe(0);
  });

  it('wait returns as soon as the agent stops, and exits 1 on timeout', async () => {
    const town = await makeTown();
    await town.ok('spawn', 'w', '--no-start');
    const timedOut = await town.tt('wait', 'w', '--timeout', '0');
    expect(timedOut.code).toBe(1);
    expect(timedOut.out).toMatch(/timed out after 0s: .* is starting/);
    const waiting = town.tt('wait', 'w', '--timeout', '30', '--json');
    // Let the waiter block on the agent's event stream before the kill lands.
    await new Promise((r) => setImmediate(r));
    const t0 = Date.now();
    await town.ok('kill', 'w');
    const done = await waiting;
    expect(done.code).toBe(0);
    expect(done.json()).toMatchObject({ state: 'stopped', done: true });
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('prune removes stopped agents and every key of theirs; --all removes live ones too', async () => {
    const town = await makeTown();
    const dead = (await town.ok('spawn', 'dead', '--no-start', '--json')).json();
    await town.ok('spawn', 'live', '--no-start');
    await town.ok('send', 'dead', 'queued work');
    await town.ok('kill', 'dead');
    const r = (await town.ok('prune', '--json')).json();
    expect(r.removed.map((a: { name: string }) => a.name)).toEqual(['dead']);
    const left = await town.redis.keys(`${town.prefix}*${dead.id}*`);
    expect(left).toEqual([]);
    expect(await town.redis.hexists(`${town.prefix}agents:names`, 'dead')).toBe(0);
    await town.ok('spawn', 'dead', '--no-start'); // the name is free again
    expect((await town.ok('prune', '--all', '--json')).json().removed).toHaveLength(2);
    expect((await town.ok('list', '--json')).json().agents).toEqual([]);
  });

  it('recover reaps agents whose heartbeat expired: started work is retried, queued work goes back to the backlog', async () => {
    const town = await makeTown();
    const old = (await town.ok('spawn', 'old', '--no-start', '--json')).json();
    await town.ok('spawn', 'paused', '--no-start');
    await town.ok('spawn', 'fresh', '--no-start');
    await town.ok('interrupt', 'paused');
    const queued = (await town.ok('assign', 'old', 'queued work', '--json')).json();
    // The worker is gone: its heartbeat key has expired.
    await town.redis.del(`${town.prefix}hb:${old.id}`);
    const r = (await town.ok('recover', '--json')).json();
    expect(r.recovered.map((a: { name: string }) => a.name)).toEqual(['old']);
    expect(r.moved).toBe(1);
    const states = Object.fromEntries(
      (await town.ok('list', '--json'))
        .json()
        .agents.map((a: { name: string; state: string }) => [a.name, a.state]),
    );
    expect(states).toEqual({ old: 'stopped', paused: 'paused', fresh: 'starting' });
    expect((await town.ok('history', '--agent', 'old', '--json')).json().events.at(-1).type).toBe(
      'agent.reaped',
    );
    expect((await town.ok('task', 'show', queued.id, '--json')).json()).toMatchObject({
      state: 'pending',
      attempts: 0,
    });
    expect(
      (await town.ok('backlog', 'list', '--json')).json().tasks.map((t: { id: string }) => t.id),
    ).toEqual([queued.id]);
    expect(await town.redis.zcard(`${town.prefix}inbox:${old.id}`)).toBe(0);
    expect((await town.ok('recover')).out).toMatch(/no dead agents, no due retries/);
  });

  it("reclaim lists, then moves a stopped agent's queued work to the backlog or to another agent", async () => {
    const town = await makeTown();
    await town.ok('spawn', 'gone', '--no-start');
    await town.ok('spawn', 'heir', '--no-start');
    const t1 = (await town.ok('assign', 'gone', 'assigned work', '--json')).json();
    await town.ok('send', 'gone', 'free text work');
    await town.ok('send', 'gone', '--info', 'just fyi');
    await town.ok('kill', 'gone');

    const listed = (await town.ok('reclaim', '--json')).json().messages;
    expect(listed.map((m: { outcome: string }) => m.outcome)).toEqual(['listed', 'listed', 'listed']);

    const moved = (await town.ok('reclaim', '--to-backlog', '--json')).json().messages;
    expect(moved.map((m: { outcome: string }) => m.outcome).sort()).toEqual(['created', 'kept', 'requeued']);
    const backlog = (await town.ok('backlog', 'list', '--json'))
      .json()
      .tasks.map((t: { description: string }) => t.description);
    expect(backlog).toEqual(['assigned work', 'free text work']);
    expect((await town.ok('task', 'show', t1.id, '--json')).json()).toMatchObject({ state: 'pending' });
    expect((await town.ok('task', 'show', t1.id, '--json')).json().assignedTo).toBeUndefined();

    const rest = (await town.ok('reclaim', '--to', 'heir', '--json')).json().messages;
    expect(rest.map((m: { outcome: string }) => m.outcome)).toEqual(['moved']);
    const inbox = (await town.ok('inbox', 'heir', '--json')).json();
    expect(inbox.messages.map((m: { type: string }) => m.type)).toEqual(['informational']);
  });

  it('reclaim leaves a task where it is once it was given to another agent', async () => {
    const town = await makeTown();
    await town.ok('spawn', 'gone', '--no-start');
    const heir = (await town.ok('spawn', 'heir', '--no-start', '--json')).json();
    const t1 = (await town.ok('assign', 'gone', 'assigned work', '--json')).json();
    await town.ok('kill', 'gone');
    // Since then the task went to heir; gone's inbox still holds the old assignment.
    await town.redis.hset(`${town.prefix}task:${t1.id}`, 'assignedTo', heir.id);
    const toBacklog = (await town.ok('reclaim', '--to-backlog', '--json')).json().messages;
    expect(toBacklog.map((m: { outcome: string }) => m.outcome)).toEqual(['stale']);
    expect((await town.ok('task', 'show', t1.id, '--json')).json()).toMatchObject({
      state: 'assigned',
      assignedTo: heir.id,
    });
  });

  it('reclaim --orphan-tasks finds live tasks of missing or stopped agents and requeues, cancels or deletes them', async () => {
    const town = await makeTown();
    await town.ok('spawn', 'a', '--no-start');
    await town.ok('spawn', 'b', '--no-start');
    await town.ok('spawn', 'ok', '--no-start');
    const ta = (await town.ok('assign', 'a', 'task of a', '--json')).json();
    const tb = (await town.ok('assign', 'b', 'task of b', '--json')).json();
    await town.ok('assign', 'ok', 'task of a live agent');
    await town.ok('kill', 'a');
    await town.ok('kill', 'b');
    await town.ok('prune'); // b's and a's records go; their tasks stay assigned to missing agents
    await town.ok('spawn', 'c', '--no-start');
    const tc = (await town.ok('assign', 'c', 'task of c', '--json')).json();
    await town.ok('kill', 'c');

    const list = (await town.ok('reclaim', '--orphan-tasks', '--json')).json().tasks;
    expect(list.map((r: { id: string; reason: string }) => [r.id, r.reason]).sort()).toEqual(
      [
        [ta.id, 'agent_missing'],
        [tb.id, 'agent_missing'],
        [tc.id, 'agent_terminal'],
      ].sort(),
    );
    expect(list.every((r: { done: boolean }) => !r.done)).toBe(true);
    const bad = await town.tt('reclaim', '--orphan-tasks', '--cancel', '--delete');
    expect(bad.code).toBe(2);

    await town.ok('reclaim', '--orphan-tasks', '--to-backlog');
    expect((await town.ok('backlog', 'list', '--json')).json().tasks).toHaveLength(3);
    expect((await town.ok('reclaim', '--orphan-tasks', '--json')).json().tasks).toEqual([]);
  });
});
