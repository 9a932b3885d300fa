import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPORT_MAX_BYTES } from '../source/model/report.js';
import { openTown } from '../source/services/context.js';
import { reassignTask } from '../source/services/tasks.js';
import { makeTown, type Result, type TestTown } from './helpers/town.js';

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
    expect(r.err).toMatch(
      /^tt assign: \w+ \[ada\] is stopped: restart it with tt restart ada, or pick another agent\n$/,
    );
    expect(await town.redis.zcard(`${town.prefix}tasks`)).toBe(0);
    // Reassigning a task to it (the console's R on a task) says the same.
    await town.ok('spawn', 'bob', '--no-start');
    const task = (await town.ok('assign', 'bob', 'work', '--json')).json();
    const t = await openTown({ cwd: town.dir, env: town.env });
    try {
      await expect(reassignTask(t, task.id, 'ada')).rejects.toThrow(
        /\[ada\] is stopped: restart it with tt restart ada, or pick another agent$/,
      );
    } finally {
      await t.close();
    }
    // Once restarted it takes work again.
    await town.ok('restart', 'ada', '--no-start');
    await town.ok('assign', 'ada', 'work');
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

/** A report an agent writes: backticks, command substitutions, a Markdown code block, multi-byte text. */
const REPORT = [
  'Fixed the `parse()` edge case; see $(git log -1) and `$HOME`.',
  '',
  '```ts',
  "const x = `${a}` + '$(rm -rf /)'; // naïve → ok ✓",
  '```',
  '',
  'PR: https://github.com/acme/app/pull/7',
  '',
].join('\n');

/** One line on stderr, nothing on stdout, exit 2. */
const refused = (r: Result, pattern: RegExp) => {
  expect(r.code).toBe(2);
  expect(r.out).toBe('');
  expect(r.err.trimEnd().split('\n')).toHaveLength(1);
  expect(r.err).toMatch(pattern);
};

describe('task reports from a file or stdin', () => {
  const setup = async (): Promise<{
    town: TestTown;
    id: string;
    stored: () => Promise<Record<string, string>>;
  }> => {
    const town = await makeTown();
    await town.ok('spawn', 'ada', '--no-start');
    const id = (await town.ok('assign', 'ada', 'work', '--json')).json().id as string;
    return { town, id, stored: () => town.redis.hgetall(`${town.prefix}task:${id}`) };
  };

  it('complete --result-file stores the file byte for byte, relative to the working directory', async () => {
    const { town, id, stored } = await setup();
    mkdirSync(join(town.dir, 'notes'));
    writeFileSync(join(town.dir, 'notes', 'report.md'), REPORT);
    const r = (await town.ok('task', 'complete', id, '--result-file', 'notes/report.md', '--json')).json();
    expect(r).toMatchObject({ state: 'completed', changed: true });
    expect(r.result).toBe(REPORT);
    expect((await stored()).result).toBe(REPORT);
  });

  it('complete --result - reads stdin, a character split across chunks included', async () => {
    const { town, id, stored } = await setup();
    const long = `${'é'.repeat(3000)}\n${REPORT}`; // 2-byte characters across 4093-byte chunks
    const r = await town.ttWithStdin(long, 'task', 'complete', id, '--result', '-');
    expect(r.code).toBe(0);
    expect(r.out).toBe(`completed task ${id}\n`);
    expect((await stored()).result).toBe(long);
  });

  it('--result-file - and -r - read stdin too', async () => {
    const { town, id, stored } = await setup();
    expect((await town.ttWithStdin(REPORT, 'task', 'complete', id, '-r', '-')).code).toBe(0);
    expect((await stored()).result).toBe(REPORT);
    const t2 = (await town.ok('assign', 'ada', 'more', '--json')).json().id;
    expect((await town.ttWithStdin('done\n', 'task', 'complete', t2, '--result-file', '-')).code).toBe(0);
    expect((await town.ok('task', 'show', t2, '--json')).json().result).toBe('done\n');
  });

  it('fail --reason-file and --reason - store the reason byte for byte', async () => {
    const { town, id, stored } = await setup();
    writeFileSync(join(town.dir, 'why.md'), REPORT);
    const one = (
      await town.ok('task', 'fail', id, '--reason-file', join(town.dir, 'why.md'), '--json')
    ).json();
    expect(one).toMatchObject({ end: 'retry', lastError: REPORT });
    const again = REPORT.replace('7', '8');
    const two = await town.ttWithStdin(again, 'task', 'fail', id, '--reason', '-', '--json');
    expect(two.code).toBe(0);
    expect((await stored()).lastError).toBe(again);
  });

  it('without a result, the result is Completed', async () => {
    const { town, id } = await setup();
    expect((await town.ok('task', 'complete', id, '--json')).json().result).toBe('Completed');
  });

  it('refuses two sources at once: one line, exit 2, nothing stored', async () => {
    const { town, id, stored } = await setup();
    writeFileSync(join(town.dir, 'r.md'), 'done');
    for (const args of [
      ['task', 'complete', id, '--result', 'x', '--result-file', 'r.md'],
      ['task', 'complete', id, '--result', '-', '--result-file', 'r.md'],
      ['task', 'fail', id, '--reason', 'x', '--reason-file', 'r.md'],
      ['task', 'fail', id, '--reason-file', 'r.md', '--reason', '-'],
    ])
      refused(
        await town.ttWithStdin('from stdin', ...args),
        /once: --(result|reason) or --(result|reason)-file, not both/,
      );
    expect(await stored()).toMatchObject({ state: 'assigned', attempts: '0' });
    expect((await stored()).result).toBeUndefined();
  });

  it('refuses a missing or unreadable file, an empty text, and stdin when there is none', async () => {
    const { town, id, stored } = await setup();
    refused(
      await town.tt('task', 'complete', id, '--result-file', 'nope.md'),
      /cannot read --result-file nope\.md: no such file$/m,
    );
    refused(
      await town.tt('task', 'fail', id, '--reason-file', 'nope.md'),
      /cannot read --reason-file nope\.md: no such file$/m,
    );
    refused(
      await town.tt('task', 'complete', id, '--result-file', '.tt'),
      /cannot read --result-file \.tt: it is a directory/,
    );
    writeFileSync(join(town.dir, 'empty.md'), ' \n');
    refused(await town.tt('task', 'complete', id, '--result-file', 'empty.md'), /the result is empty/);
    refused(await town.ttWithStdin('', 'task', 'fail', id, '--reason', '-'), /the reason is empty/);
    refused(
      await town.tt('task', 'complete', id, '--result', '-'),
      /--result - reads stdin, and there is none/,
    );
    writeFileSync(join(town.dir, 'bin.dat'), Buffer.from([0xff, 0xfe, 0x00]));
    refused(await town.tt('task', 'complete', id, '--result-file', 'bin.dat'), /is not UTF-8 text/);
    expect(await stored()).toMatchObject({ state: 'assigned', attempts: '0' });
  });

  it('takes a report of exactly the size limit, and refuses one byte more from any source', async () => {
    const { town, id, stored } = await setup();
    const over = 'a'.repeat(REPORT_MAX_BYTES + 1);
    writeFileSync(join(town.dir, 'big.md'), over);
    const tooBig = /over 64 KiB; nothing was stored/;
    refused(await town.tt('task', 'complete', id, '--result-file', 'big.md'), tooBig);
    refused(await town.ttWithStdin(over, 'task', 'complete', id, '--result', '-'), tooBig);
    refused(await town.tt('task', 'complete', id, '--result', over), tooBig);
    refused(await town.tt('task', 'fail', id, '--reason-file', 'big.md'), tooBig);
    refused(await town.ttWithStdin(over, 'task', 'fail', id, '--reason', '-'), tooBig);
    expect(await stored()).toMatchObject({ state: 'assigned', attempts: '0' });
    const events = (await town.ok('history', '--json')).json().events.map((e: { type: string }) => e.type);
    expect(events).not.toContain('task.completed');
    expect(events).not.toContain('task.retry');
    const exact = 'é'.repeat(REPORT_MAX_BYTES / 2);
    expect((await town.ttWithStdin(exact, 'task', 'complete', id, '--result', '-')).code).toBe(0);
    expect((await stored()).result).toBe(exact);
  });
});
