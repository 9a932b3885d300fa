import { describe, expect, it } from 'vitest';
import { makeTown } from './helpers/town.js';

describe('tasks', () => {
  it('assign --json prints the created task, queues its task_assign message and writes both events', async () => {
    const town = await makeTown();
    const a = (await town.ok('spawn', 'ada', '--no-start', '--json')).json();
    const task = (
      await town.ok(
        'assign',
        'ada',
        'fix',
        'the',
        'login',
        'bug',
        '--priority',
        'high',
        '--tags',
        'auth,Bug',
        '--json',
      )
    ).json();
    expect(task).toMatchObject({
      description: 'fix the login bug',
      state: 'assigned',
      priority: 'high',
      tags: ['auth', 'bug'],
      assignedTo: a.id,
      attempts: 0,
      maxAttempts: 3,
    });
    const inbox = (await town.ok('inbox', 'ada', '--json')).json();
    expect(inbox.messages).toHaveLength(1);
    expect(inbox.messages[0]).toMatchObject({
      type: 'task_assign',
      taskId: task.id,
      priority: 'high',
      to: a.id,
    });
    const types = (await town.ok('history', '--json')).json().events.map((e: { type: string }) => e.type);
    expect(types).toEqual(['agent.spawned', 'task.created', 'task.assigned']);
    expect(await town.redis.sismember(`${town.prefix}tasks:assigned`, task.id)).toBe(1);
  });

  it('refuses to assign to a stopped agent, keeping nothing', async () => {
    const town = await makeTown();
    await town.ok('spawn', 'ada', '--no-start');
    await town.ok('kill', 'ada');
    const r = await town.tt('assign', 'ada', 'work');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/is stopped; restart it/);
    expect(await town.redis.zcard(`${town.prefix}tasks`)).toBe(0);
  });

  it('complete is idempotent, counts once, clears the current-task pointer, and failed tasks cannot complete', async () => {
    const town = await makeTown();
    const a = (await town.ok('spawn', 'ada', '--no-start', '--json')).json();
    const t1 = (await town.ok('assign', 'ada', 'one', '--json')).json();
    await town.redis.hset(`${town.prefix}agent:${a.id}`, 'currentTask', t1.id);
    const first = (
      await town.ok('task', 'complete', t1.id.slice(0, 6), '--result', 'PR #51', '--json')
    ).json();
    expect(first).toMatchObject({ state: 'completed', result: 'PR #51', changed: true });
    const second = await town.ok('task', 'complete', t1.id);
    expect(second.out).toMatch(/already completed/);
    const agent = (await town.ok('list', '--json')).json().agents[0];
    expect(agent.tasksCompleted).toBe(1);
    expect(agent.currentTask).toBeUndefined();

    const t2 = (await town.ok('assign', 'ada', 'two', '--json')).json();
    const ends = [];
    for (let i = 0; i < 3; i++)
      ends.push((await town.ok('task', 'fail', t2.id, '--reason', 'tests do not pass', '--json')).json());
    expect(ends.map((e) => [e.state, e.attempts, e.end])).toEqual([
      ['pending', 1, 'retry'],
      ['pending', 2, 'retry'],
      ['failed', 3, 'dead'],
    ]);
    expect(ends[2]).toMatchObject({
      lastError: 'tests do not pass',
      deadReason: 'failed 3 of 3 attempts; last: tests do not pass',
    });
    const late = await town.tt('task', 'complete', t2.id);
    expect(late.code).toBe(1);
    expect(late.err).toMatch(/is failed; it cannot become completed/);
    expect((await town.tt('task', 'fail', t2.id)).code).toBe(2);
    expect(
      (await town.ok('task', 'list', '--dead', '--json')).json().tasks.map((t: { id: string }) => t.id),
    ).toEqual([t2.id]);
    const redriven = (await town.ok('task', 'retry', t2.id, '--json')).json();
    expect(redriven).toMatchObject({ state: 'pending', attempts: 0 });
    expect(
      (await town.ok('backlog', 'list', '--json')).json().tasks.map((t: { id: string }) => t.id),
    ).toEqual([t2.id]);
    const types = (await town.ok('history', '-n', '4', '--json'))
      .json()
      .events.map((e: { type: string }) => e.type);
    expect(types).toEqual(['task.retry', 'task.retry', 'task.dead', 'task.requeued']);
  });

  it('a completion from an agent the task no longer belongs to is refused', async () => {
    const town = await makeTown();
    const a = (await town.ok('spawn', 'a', '--no-start', '--json')).json();
    const b = (await town.ok('spawn', 'b', '--no-start', '--json')).json();
    const t = (await town.ok('assign', 'a', 'work', '--json')).json();
    await town.ok('kill', 'a');
    await town.ok('reclaim', '--to', 'b');
    const { runTt } = await import('./helpers/town.js');
    const stale = await runTt(['task', 'complete', t.id], town.dir, { ...town.env, TT_AGENT_ID: a.id });
    expect(stale.code).toBe(1);
    expect(stale.err).toMatch(/refusing a stale update/);
    const fresh = await runTt(['task', 'complete', t.id, '--json'], town.dir, {
      ...town.env,
      TT_AGENT_ID: b.id,
    });
    expect(fresh.code).toBe(0);
    expect(fresh.json().state).toBe('completed');
  });

  it('task show, current and list', async () => {
    const town = await makeTown();
    await town.ok('spawn', 'ada', '--no-start');
    const t1 = (await town.ok('assign', 'ada', 'first line\nmore detail', '--json')).json();
    await town.ok('backlog', 'add', 'later');
    const shown = await town.ok('task', 'show', t1.id.slice(0, 4));
    expect(shown.out).toMatch(/state:\s+assigned/);
    expect(shown.out).toMatch(/more detail/);
    expect((await town.ok('task', 'current', 'ada', '--json')).json().task.id).toBe(t1.id);
    const { runTt } = await import('./helpers/town.js');
    const viaEnv = await runTt(['task', 'current', '--json'], town.dir, {
      ...town.env,
      TT_AGENT_NAME: 'ada',
    });
    expect(viaEnv.json().task.id).toBe(t1.id);
    expect(
      (await town.ok('task', 'list', '--json')).json().tasks.map((t: { state: string }) => t.state),
    ).toEqual(['assigned', 'pending']);
    expect((await town.ok('task', 'list', '--state', 'pending', '--json')).json().tasks).toHaveLength(1);
    expect((await town.tt('task', 'list', '--state', 'bogus')).code).toBe(2);
    expect((await town.tt('task', 'show', 'zz')).code).toBe(2);
    const text = await town.ok('task', 'list');
    expect(text.out).toMatch(/ID\s+STATE\s+PRI\s+AGENT/);
  });
});

describe('backlog', () => {
  it('lists in claim order: critical first, oldest first within a priority', async () => {
    const town = await makeTown();
    for (const [d, p] of [
      ['n1', 'normal'],
      ['l1', 'low'],
      ['c1', 'critical'],
      ['n2', 'normal'],
      ['h1', 'high'],
      ['c2', 'critical'],
    ]) {
      await town.ok('backlog', 'add', d!, '--priority', p!);
    }
    const order = (await town.ok('backlog', 'list', '--json'))
      .json()
      .tasks.map((t: { description: string }) => t.description);
    expect(order).toEqual(['c1', 'c2', 'h1', 'n1', 'n2', 'l1']);
  });

  it('claim validates the agent before touching the backlog, and assign-all takes everything in order', async () => {
    const town = await makeTown();
    await town.ok('spawn', 'ada', '--no-start');
    const t1 = (await town.ok('backlog', 'add', 'one', '--json')).json();
    await town.ok('backlog', 'add', 'two', '--priority', 'high');
    const bad = await town.tt('backlog', 'claim', t1.id, 'nobody');
    expect(bad.code).toBe(2);
    expect((await town.ok('backlog', 'list', '--json')).json().tasks).toHaveLength(2);
    await town.ok('backlog', 'claim', t1.id, 'ada');
    const again = await town.tt('backlog', 'claim', t1.id, 'ada');
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/not in the backlog/);
    await town.ok('backlog', 'add', 'three');
    const all = (await town.ok('backlog', 'assign-all', 'ada', '--json')).json();
    expect(all.tasks).toHaveLength(2);
    const inbox = (await town.ok('inbox', 'ada', '--json')).json();
    expect(inbox.messages.map((m: { summary: string }) => m.summary.replace(/.*: /, ''))).toEqual([
      'two',
      'one',
      'three',
    ]);
    expect((await town.ok('backlog', 'list', '--json')).json().tasks).toEqual([]);
  });

  it('remove deletes the task; removing a task that is not in the backlog is refused', async () => {
    const town = await makeTown();
    const t = (await town.ok('backlog', 'add', 'gone soon', '--json')).json();
    await town.ok('backlog', 'remove', t.id);
    expect(await town.redis.exists(`${town.prefix}task:${t.id}`)).toBe(0);
    expect(await town.redis.scard(`${town.prefix}tasks:pending`)).toBe(0);
    expect((await town.tt('backlog', 'remove', t.id)).code).toBe(2);
  });
});

describe('messages', () => {
  it('send picks the kind from flags, parses acks, and refuses two kinds at once', async () => {
    const town = await makeTown();
    await town.ok('spawn', 'ada', '--no-start');
    await town.ok('send', 'ada', 'do', 'this');
    await town.ok('send', 'ada', '--query', 'why?');
    await town.ok('send', 'ada', '--info', 'fyi');
    await town.ok('send', 'ada', '--ack', 'rejected: tests fail');
    const msgs = (await town.ok('inbox', 'ada', '--json')).json().messages;
    expect(msgs.map((m: { type: string }) => m.type)).toEqual([
      'task',
      'query',
      'informational',
      'confirmation',
    ]);
    expect(msgs[3].ack).toEqual({ type: 'rejected', reason: 'tests fail' });
    expect((await town.tt('send', 'ada', '--query', '--info', 'x')).code).toBe(2);
    expect((await town.tt('send', 'ada')).code).toBe(2);
  });

  it('serves urgent first, then by priority band, first-in first-out within a band', async () => {
    const town = await makeTown();
    await town.ok('spawn', 'ada', '--no-start');
    await town.ok('send', 'ada', 'n1');
    await town.ok('send', 'ada', '--urgent', 'u1');
    await town.ok('send', 'ada', 'n2');
    await town.ok('send', 'ada', '--urgent', 'u2');
    await town.ok('assign', 'ada', 'crit', '--priority', 'critical');
    const msgs = (await town.ok('inbox', 'ada', '--json')).json().messages;
    expect(
      msgs.map((m: { summary: string }) => m.summary.replace(/^(task|task_assign \w+ \[\w+\]): /, '')),
    ).toEqual(['u1', 'u2', 'crit', 'n1', 'n2']);
  });

  it('the supervisor and conductor aliases share one mailbox; the sender comes from --from or the agent env', async () => {
    const town = await makeTown();
    const a = (await town.ok('spawn', 'ada', '--no-start', '--json')).json();
    await town.ok('send', 'supervisor', '--info', 'from the operator');
    await town.ok('send', 'conductor', '--query', 'help?', '--from', 'ada');
    const { runTt } = await import('./helpers/town.js');
    await runTt(['send', 'CONDUCTOR', '--info', 'from env'], town.dir, { ...town.env, TT_AGENT_ID: a.id });
    const box = (await town.ok('inbox', 'supervisor', '--json')).json();
    expect(box.total).toBe(3);
    expect(box.messages.map((m: { from: string }) => m.from)).toEqual([
      '00000000-0000-0000-0000-000000000001',
      a.id,
      a.id,
    ]);
    const all = (await town.ok('inbox', '--all', '--json')).json();
    expect(all.inboxes.map((v: { agent: string }) => v.agent)).toEqual(['supervisor']);
    expect((await town.tt('inbox')).code).toBe(2);
  });
});
