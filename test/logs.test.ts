import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import type { LogAttempt } from '../source/console/actions.js';
import { townActions } from '../source/console/session.js';
import { createConsoleStore } from '../source/console/store.js';
import { openTown } from '../source/services/context.js';
import type { AttemptEventInput } from '../source/model/attempt.js';
import { hhmmss } from '../source/model/format.js';
import { run } from '../source/commands/run.js';
import {
  appendAttemptEvents,
  attemptsOfTask,
  latestAttemptOfAgent,
  openAttempt,
  readAttemptEvents,
  type AttemptRef,
} from '../source/store/attempts.js';
import { makeDb, type Db } from '../source/store/db.js';
import { ATTEMPT_EVENTS_MAX, ATTEMPT_INDEX_MAX } from '../source/store/keys.js';
import { makeTown, type TestTown } from './helpers/town.js';

const T0 = Date.UTC(2025, 0, 2, 3, 4, 5);

/** A town with ada, bob and cy; one task that ada tried (and failed) and then bob. */
const scene = async () => {
  const town = await makeTown();
  let now = T0;
  const db = makeDb(town.redis, town.name, { now: () => now });
  const tick = (ms = 1000) => (now += ms);
  const id = async (name: string): Promise<string> => {
    const r = await town.ok('spawn', name, '--no-start', '--json');
    return r.json().id;
  };
  const ada: AttemptRef = { agentId: await id('ada'), round: 1 };
  const bob: AttemptRef = { agentId: await id('bob'), round: 1 };
  await id('cy');
  const task: string = (await town.ok('backlog', 'add', 'fix the parser', '--json')).json().id;
  await openAttempt(db, ada, [task]);
  await appendAttemptEvents(db, ada, [
    { kind: 'init', model: 'opus', session: 's1' },
    { kind: 'message', text: 'first try' },
    { kind: 'tool_call', tool: 'Bash', summary: 'Bash: npm test' },
    { kind: 'tool_result', ok: false, summary: '3 failing' },
    { kind: 'finished', ok: false, turns: 2 },
  ]);
  tick();
  await openAttempt(db, bob, [task]);
  await appendAttemptEvents(db, bob, [{ kind: 'message', text: 'second try\nwith two lines' }]);
  tick();
  await appendAttemptEvents(db, bob, [
    { kind: 'usage', input: 1200, cachedInput: 300, output: 80 },
    { kind: 'finished', ok: true, turns: 1 },
  ]);
  return { town, db, tick, ada, bob, task };
};

/** Runs tt in-process and lets the test wait for a printed line (no sleeps). */
const running = (town: TestTown, args: string[], signal?: AbortSignal) => {
  const lines: string[] = [];
  const errs: string[] = [];
  const waiters: [RegExp, () => void][] = [];
  const seen = (re: RegExp) =>
    new Promise<void>((r) => (lines.some((l) => re.test(l)) ? r() : waiters.push([re, r])));
  const done = run(args, {
    out: (s) => {
      for (const l of s.split('\n')) {
        lines.push(l);
        for (const [re, r] of waiters) if (re.test(l)) r();
      }
    },
    err: (s) => errs.push(s),
    cwd: town.dir,
    env: town.env,
    ...(signal ? { signal } : {}),
  });
  return { lines, errs, seen, done };
};

describe('tt logs', () => {
  it("shows a task's latest attempt, an earlier one with --attempt, and an agent's latest", async () => {
    const { town, task } = await scene();
    const latest = await town.ok('logs', task.slice(0, 8));
    const lines = latest.out.trimEnd().split('\n');
    expect(lines[0]).toMatch(
      new RegExp(
        `^attempt 2 of 2 of task ${task.slice(0, 8)}: .+ \\[bob\\] round 1 \\(\\.tt/logs/bob_round_1\\.log\\)$`,
      ),
    );
    expect(lines.slice(1)).toEqual([
      `${hhmmss(T0 + 1000)} message second try ⏎ with two lines`,
      `${hhmmss(T0 + 2000)} usage   1200 in (300 cached) 80 out`,
      `${hhmmss(T0 + 2000)} done    ok, 1 turns`,
    ]);

    const first = await town.ok('logs', task, '--attempt', '1');
    expect(first.out).toMatch(/^attempt 1 of 2 of task .*\[ada\] round 1/);
    expect(first.out).toContain(`${hhmmss(T0)} init    opus, session s1`);
    expect(first.out).toContain('tool    Bash: npm test');
    expect(first.out).toContain('result  failed: 3 failing');
    expect(first.out).toContain('done    failed, 2 turns');

    const byAgent = await town.ok('logs', 'ada');
    expect(byAgent.out.split('\n')[0]).toMatch(/\[ada\] round 1 of 1 \(\.tt\/logs\/ada_round_1\.log\)$/);
    expect(byAgent.out).toContain('message first try');
    expect(byAgent.err).toBe('');
  });

  it('--attempt out of range is one line and exit 2; an agent with no attempt says so', async () => {
    const { town, task } = await scene();
    const r = await town.tt('logs', task, '--attempt', '3');
    expect(r.code).toBe(2);
    expect(r.err).toBe(`tt logs: task ${task.slice(0, 8)} has 2 attempt(s); there is no attempt 3\n`);
    expect((await town.tt('logs', 'ada', '--attempt', '2')).code).toBe(2);
    expect((await town.tt('logs', task, '--attempt', '0')).code).toBe(2);
    const none = await town.ok('logs', 'cy');
    expect(none.out).toMatch(/^.+ \[cy\] has no attempt yet\n$/);
    const nobody = await town.tt('logs', 'zed');
    expect(nobody.code).toBe(2);
    expect(nobody.err).toBe('tt logs: no agent or task matches "zed" (try tt list, tt tasks)\n');
  });

  it('--json prints one JSON object per event', async () => {
    const { town, task, bob } = await scene();
    const r = await town.ok('logs', task, '--json');
    const objs = r.out
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(objs.map((o) => o.event.kind)).toEqual(['message', 'usage', 'finished']);
    expect(objs[0]).toMatchObject({
      agent: bob.agentId,
      round: 1,
      ts: T0 + 1000,
      event: { kind: 'message', text: 'second try\nwith two lines' },
    });
    expect(objs[0].id).toMatch(/^\d+-\d+$/);
  });

  it('--raw prints the raw log file; --raw --follow tails it until the attempt finishes', async () => {
    const { town, db, task, ada } = await scene();
    mkdirSync(join(town.dir, '.tt', 'logs'), { recursive: true });
    writeFileSync(
      join(town.dir, '.tt', 'logs', 'bob_round_1.log'),
      'raw line one\nraw \u001b[31mline\u001b[0m two\u001b]0;title\u0007\n',
    );
    // Printed display-safe: the terminal escapes the CLI wrote are dropped.
    expect((await town.ok('logs', task, '--raw')).out).toBe('raw line one\nraw line two\n');
    expect((await town.tt('logs', task, '--attempt', '1', '--raw')).err).toMatch(
      /^tt logs: no raw log at .*ada_round_1\.log\n$/,
    );

    // A running attempt of ada's: round 2, its log growing.
    const ref = { ...ada, round: 2 };
    await openAttempt(db, ref, [task]);
    const file = join(town.dir, '.tt', 'logs', 'ada_round_2.log');
    writeFileSync(file, 'start\u001b[1ming\npartial ');
    const f = running(town, ['logs', 'ada', '--raw', '--follow']);
    await f.seen(/^starting$/);
    appendFileSync(file, 'line\nlast words');
    await appendAttemptEvents(db, ref, [{ kind: 'finished', ok: true }]);
    expect(await f.done).toBe(0);
    expect(f.lines.filter(Boolean)).toEqual(['starting', 'partial line', 'last words']);
  });

  it('--follow prints events as they come and ends at the finished event', async () => {
    const { town, db, ada } = await scene();
    const ref = { ...ada, round: 2 };
    await openAttempt(db, ref, []);
    await appendAttemptEvents(db, ref, [{ kind: 'message', text: 'working' }]);
    const f = running(town, ['logs', 'ada', '--follow']);
    await f.seen(/message working$/);
    await appendAttemptEvents(db, ref, [{ kind: 'tool_call', tool: 'Edit', summary: 'Edit src/a.ts' }]);
    await f.seen(/tool {4}Edit src\/a\.ts$/);
    await appendAttemptEvents(db, ref, [{ kind: 'finished', ok: true }]);
    expect(await f.done).toBe(0);
    expect(f.lines.filter(Boolean).slice(-3)).toEqual([
      expect.stringMatching(/message working$/),
      expect.stringMatching(/tool {4}Edit src\/a\.ts$/),
      expect.stringMatching(/done {4}ok$/),
    ]);

    // A finished attempt: --follow prints it and returns at once.
    expect((await town.ok('logs', 'ada', '--follow', '--attempt', '1')).out).toMatch(/done {4}failed/);
    // --json --follow: JSON lines, ending the same way.
    const j = running(town, ['logs', 'ada', '--follow', '--json']);
    expect(await j.done).toBe(0);
    expect(j.lines.filter(Boolean).map((l) => JSON.parse(l).event.kind)).toEqual([
      'message',
      'tool_call',
      'finished',
    ]);
  });

  it('--follow stops at once on the signal (Ctrl+C)', async () => {
    const { town, db, ada } = await scene();
    const ref = { ...ada, round: 2 };
    await openAttempt(db, ref, []);
    const stop = new AbortController();
    const f = running(town, ['logs', 'ada', '--follow'], stop.signal);
    await f.seen(/round 2 of 2/);
    // Let the follower reach its blocking read: the next event it prints proves it is there.
    await appendAttemptEvents(db, ref, [{ kind: 'message', text: 'tick' }]);
    await f.seen(/message tick$/);
    const t0 = Date.now();
    stop.abort();
    expect(await f.done).toBe(0);
    expect(Date.now() - t0).toBeLessThan(900);
  });

  it('skips malformed stream entries and reports each once, following included', async () => {
    const { town, db, ada } = await scene();
    const ref = { ...ada, round: 2 };
    await openAttempt(db, ref, []);
    const key = `${town.prefix}attempt:${ada.agentId}:2`;
    await appendAttemptEvents(db, ref, [{ kind: 'message', text: 'good one' }]);
    await town.redis.xadd(key, '*', 'kind', 'message', 'ts', '1', 'data', 'not json');
    await town.redis.xadd(key, '*', 'kind', 'bogus', 'ts', '1', 'data', '{"kind":"bogus"}');
    const r = await town.ok('logs', 'ada');
    expect(r.out).toContain('message good one');
    const warnings = r.err.trimEnd().split('\n');
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(
      /^warning: skipped malformed record .*attempt:.*:2 \d+-\d+: data is not JSON$/,
    );
    expect(warnings[1]).toMatch(/^warning: skipped malformed record .*: kind: /);

    const f = running(town, ['logs', 'ada', '--follow']);
    await f.seen(/message good one$/);
    await town.redis.xadd(key, '*', 'kind', 'x', 'data', '[]');
    await appendAttemptEvents(db, ref, [{ kind: 'finished', ok: true }]);
    expect(await f.done).toBe(0);
    const errs = f.errs.join('\n').trimEnd().split('\n');
    expect(errs).toHaveLength(3);
    expect(new Set(errs).size).toBe(3);

    // The store's reader returns them as a batch and never throws.
    const batch = await readAttemptEvents(db, ref);
    expect(batch.items.map((e) => e.event.kind)).toEqual(['message', 'finished']);
    expect(batch.malformed).toHaveLength(3);
  });

  it("the console's log view gets the same lines through its actions, following a live attempt", async () => {
    const { town, db, task, ada } = await scene();
    const t = await openTown({ cwd: town.dir, env: town.env });
    try {
      const actions = townActions(t, createConsoleStore());
      const sink = () => {
        const got = { attempts: [] as LogAttempt[], lines: [] as string[] };
        return {
          got,
          sink: {
            attempt: (a: LogAttempt) => got.attempts.push(a),
            lines: (l: string[]) => got.lines.push(...l),
          },
        };
      };
      // A task's latest attempt, finished: its events, then the end.
      const done = sink();
      const stop = new AbortController();
      expect(await actions.watchLog({ ref: task, raw: false }, done.sink, stop.signal)).toBe('finished');
      expect(done.got.attempts).toEqual([
        {
          agent: expect.stringMatching(/\[bob\]$/),
          task,
          number: 2,
          of: 2,
          round: 1,
          prev: 1,
          file: '.tt/logs/bob_round_1.log',
        },
      ]);
      expect(done.got.lines).toEqual([
        `${hhmmss(T0 + 1000)} message second try ⏎ with two lines`,
        `${hhmmss(T0 + 2000)} usage   1200 in (300 cached) 80 out`,
        `${hhmmss(T0 + 2000)} done    ok, 1 turns`,
      ]);

      // ada's live round 2: the stored event, then one appended while followed, then the abort.
      const ref = { ...ada, round: 2 };
      await openAttempt(db, ref, []);
      await appendAttemptEvents(db, ref, [{ kind: 'message', text: 'working \u001b[2Jhard' }]);
      const live = sink();
      const following = actions.watchLog({ ref: ada.agentId, raw: false }, live.sink, stop.signal);
      await vi.waitFor(() => expect(live.got.lines).toHaveLength(1), { timeout: 5000 });
      expect(live.got.attempts[0]).toMatchObject({ number: 2, of: 2, round: 2, prev: 1 });
      expect(live.got.lines[0]).toMatch(/message working hard$/);
      await appendAttemptEvents(db, ref, [{ kind: 'tool_call', tool: 'Edit', summary: 'Edit a.ts' }]);
      await vi.waitFor(() => expect(live.got.lines).toHaveLength(2), { timeout: 5000 });
      stop.abort();
      expect(await following).toBe('stopped');

      // No attempt: said, not thrown.
      const none = sink();
      expect(
        await actions.watchLog({ ref: 'cy', raw: false }, none.sink, new AbortController().signal),
      ).toEqual({
        none: expect.stringMatching(/\[cy\] has no attempt yet$/),
      });
    } finally {
      await t.close();
    }
  });
});

describe('store/attempts', () => {
  const setup = async (): Promise<{ db: Db; town: TestTown; ref: AttemptRef }> => {
    const town = await makeTown();
    const db = makeDb(town.redis, town.name, { now: () => Date.now() });
    const agentId = (await town.ok('spawn', 'ada', '--no-start', '--json')).json().id;
    return { db, town, ref: { agentId, round: 1 } };
  };

  it('keeps about the newest ATTEMPT_EVENTS_MAX events of an attempt', async () => {
    const { db, town, ref } = await setup();
    const total = ATTEMPT_EVENTS_MAX + 1000;
    for (let i = 0; i < total; i += 500)
      await appendAttemptEvents(
        db,
        ref,
        Array.from({ length: 500 }, (_, k): AttemptEventInput => ({ kind: 'message', text: `m${i + k}` })),
      );
    const len = await town.redis.xlen(`${town.prefix}attempt:${ref.agentId}:1`);
    // MAXLEN ~ trims whole stream nodes (100 entries each by default).
    expect(len).toBeGreaterThanOrEqual(ATTEMPT_EVENTS_MAX);
    expect(len).toBeLessThanOrEqual(ATTEMPT_EVENTS_MAX + 100);
    const { items } = await readAttemptEvents(db, ref);
    expect(items.at(-1)!.event).toEqual({ kind: 'message', text: `m${total - 1}` });
  });

  it('cuts text by the schema, rejects bad events without throwing, and bounds the indexes', async () => {
    const { db, town, ref } = await setup();
    const r = await appendAttemptEvents(db, ref, [
      { kind: 'message', text: 'x'.repeat(5000) },
      { kind: 'bogus' } as unknown as AttemptEventInput,
      { kind: 'cost', usd: -1 },
    ]);
    expect(r.ids).toHaveLength(1);
    expect(r.rejected.map((m) => m.key.split(' ').slice(1).join(' '))).toEqual(['event 1', 'event 2']);
    const [stored] = (await readAttemptEvents(db, ref)).items;
    expect((stored!.event as { text: string }).text).toHaveLength(2000);

    const task = (await town.ok('backlog', 'add', 'x', '--json')).json().id;
    let now = 1000;
    const clocked = makeDb(town.redis, town.name, { now: () => (now += 1) });
    for (let round = 1; round <= ATTEMPT_INDEX_MAX + 5; round++)
      await openAttempt(clocked, { ...ref, round }, [task]);
    await openAttempt(clocked, { ...ref, round: ATTEMPT_INDEX_MAX + 5 }, [task]); // idempotent
    const list = (await attemptsOfTask(db, task)).items;
    expect(list).toHaveLength(ATTEMPT_INDEX_MAX);
    expect(list[0]!.round).toBe(6);
    expect(list.at(-1)!.round).toBe(ATTEMPT_INDEX_MAX + 5);
    expect(await latestAttemptOfAgent(db, ref.agentId)).toEqual({ ...ref, round: ATTEMPT_INDEX_MAX + 5 });
    expect(await town.redis.zcard(`${town.prefix}attempts:agent:${ref.agentId}`)).toBe(ATTEMPT_INDEX_MAX);
  });
});
