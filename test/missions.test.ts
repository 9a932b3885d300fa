import { describe, expect, it } from 'vitest';
import { ManualClock } from '../source/model/clock.js';
import { allEvents, waitForEvent } from './helpers/events.js';
import { manifest, testDispatcher, tickOnce } from './helpers/missions.js';
import { makeTown, type TestTown } from './helpers/town.js';
import { runInProcess } from './helpers/worker.js';

const spawn = async (town: TestTown, name: string, ...flags: string[]) =>
  (await town.ok('spawn', name, '--no-start', ...flags, '--json')).json() as { id: string };

const start = async (town: TestTown, items: object[], ...flags: string[]) =>
  (await town.ok('mission', 'start', '--manifest', manifest(town, items), ...flags, '--json')).json() as {
    mission: { id: string };
    items: { id: string; title: string; status: string; rank: number }[];
  };

const status = async (town: TestTown, id: string) =>
  (await town.ok('mission', 'status', id, '--json')).json();
const itemsByTitle = async (town: TestTown, id: string) =>
  Object.fromEntries((await status(town, id)).items.map((i: { title: string }) => [i.title, i]));

/** Completes the task an agent holds with this result, as the agent would. */
const finishAs = async (town: TestTown, taskId: string, result: string) =>
  town.ok('task', 'complete', taskId, '--result', result);

describe('missions', () => {
  it('a three-level dependency graph is completed end to end by three sim agents', async () => {
    const town = await makeTown();
    const agents = [
      await spawn(town, 'ada', '--role', 'backend'),
      await spawn(town, 'bob', '--role', 'tester'),
      await spawn(town, 'cy', '--role', 'reviewer'),
    ];
    for (const a of agents) await runInProcess(town, a.id);
    const m = await start(town, [
      { key: 'a', title: 'design the API', kind: 'design' },
      { key: 'b', title: 'implement the handler', kind: 'implement', dependsOn: ['a'], ownerRole: 'backend' },
      { key: 'c', title: 'implement the client', kind: 'implement', dependsOn: ['a'], ownerRole: 'backend' },
      { key: 'd', title: 'write the tests', kind: 'test', dependsOn: ['b', 'c'] },
    ]);
    const d = testDispatcher(town);
    const abort = new AbortController();
    const { runDispatcher } = await import('../source/dispatch/loop.js');
    const { Redis } = await import('ioredis');
    const blocking = new Redis({ path: `${town.dir}/.tt/redis.sock`, maxRetriesPerRequest: null });
    const running = runDispatcher(d, blocking, abort.signal);
    await waitForEvent(
      town,
      (e) => e.type === 'mission.state' && e.mission === m.mission.id && e.state === 'completed',
      20_000,
    );
    abort.abort();
    await running;
    const items = await itemsByTitle(town, m.mission.id);
    expect(Object.values(items).map((i: any) => i.status)).toEqual(['done', 'done', 'done', 'done']);
    expect(items['write the tests'].assignedTo).toBe(agents[1]!.id);
    expect(items['implement the handler'].assignedTo).toBe(agents[0]!.id);
    const events = await allEvents(town);
    const reviews = events.filter(
      (e) => e.type === 'task.created' && e.mission === m.mission.id && /^review:/.test(e.text ?? ''),
    );
    expect(reviews.map((e) => e.agent)).toEqual([agents[2]!.id, agents[2]!.id, agents[2]!.id]);
    // Items were started in dependency order.
    const started = events
      .filter((e) => e.type === 'task.created' && /^work:/.test(e.text ?? ''))
      .map((e) => e.text);
    expect(started[0]).toBe('work: design the API');
    expect(started.at(-1)).toBe('work: write the tests');
  });

  it('routes implement work to the backend agent, not the tester, and review work to the reviewer', async () => {
    const town = await makeTown();
    const tester = await spawn(town, 'tess', '--role', 'tester');
    const backend = await spawn(town, 'backend-worker');
    const reviewer = await spawn(town, 'rev', '--role', 'reviewer');
    const m = await start(
      town,
      [
        { key: 'i', title: 'implement it', kind: 'implement', ownerRole: 'backend' },
        { key: 'r', title: 'look it over', kind: 'review', ownerRole: 'backend' },
      ],
      '--max-parallel',
      '5',
    );
    const items = await itemsByTitle(town, m.mission.id);
    expect(items['implement it'].assignedTo).toBe(backend.id);
    expect(items['look it over'].assignedTo).toBe(reviewer.id);
    const task = (await town.ok('task', 'show', items['implement it'].task, '--json')).json();
    expect(task).toMatchObject({
      state: 'assigned',
      assignedTo: backend.id,
      mission: m.mission.id,
      workItem: items['implement it'].id,
      missionRole: 'work',
    });
    expect(task.description).toMatch(/^\[Mission Work Item\] implement it/);
    const inbox = (await town.ok('inbox', 'backend-worker', '--json')).json();
    expect(inbox.messages.map((x: { type: string; taskId: string }) => [x.type, x.taskId])).toEqual([
      ['task_assign', task.id],
    ]);
    expect(tester.id).toBeTruthy();
  });

  it('assigns ready items in topological order, at most max-parallel at once, one per agent per tick', async () => {
    const town = await makeTown();
    await spawn(town, 'w1');
    await spawn(town, 'w2');
    const m = await start(
      town,
      [
        { key: 'x', title: 'third', dependsOn: ['y'] },
        { key: 'y', title: 'second', dependsOn: ['z'] },
        { key: 'z', title: 'first' },
        { key: 'q', title: 'independent' },
      ],
      '--max-parallel',
      '5',
      '--no-reviewer',
    );
    let items = await itemsByTitle(town, m.mission.id);
    expect(items.first.status).toBe('assigned');
    expect(items.independent.status).toBe('assigned');
    expect(items.first.assignedTo).not.toBe(items.independent.assignedTo);
    await finishAs(town, items.first.task, 'done');
    // These agents have no worker to take their queued messages; a fresh agent has room.
    const w3 = await spawn(town, 'w3');
    const d = testDispatcher(town);
    await tickOnce(d, m.mission.id);
    items = await itemsByTitle(town, m.mission.id);
    expect(items.first.status).toBe('done');
    expect(items.second.status).toBe('assigned');
    expect(items.second.assignedTo).toBe(w3.id);
    expect(items.third.status).toBe('pending');
  });

  it('a finished task whose record was corrupted is reported and skipped; the other completions still apply', async () => {
    const town = await makeTown();
    await spawn(town, 'w1');
    await spawn(town, 'w2');
    const m = await start(
      town,
      [
        { key: 'a', title: 'alpha' },
        { key: 'b', title: 'beta' },
      ],
      '--max-parallel',
      '5',
      '--no-reviewer',
    );
    let items = await itemsByTitle(town, m.mission.id);
    await finishAs(town, items.alpha.task, 'done');
    await finishAs(town, items.beta.task, 'done');
    // Something wrote alpha's task record badly after it finished.
    await town.redis.hset(`${town.prefix}task:${items.alpha.task}`, 'createdAt', 'yesterday');
    const d = testDispatcher(town);
    const report = await tickOnce(d, m.mission.id);
    expect(report.malformed).toEqual([expect.stringMatching(new RegExp(`task:${items.alpha.task}: `))]);
    items = await itemsByTitle(town, m.mission.id);
    expect(items.beta.status).toBe('done');
    expect(items.alpha.status).toBe('assigned');
    // The bad completion was taken off the queue: the next tick is clean.
    const again = await tickOnce(d, m.mission.id);
    expect(again.malformed).toBeUndefined();
  });

  it('a malformed ready item is reported and skipped; the rest of the ready work is assigned', async () => {
    const town = await makeTown();
    const m = await start(
      town,
      [
        { key: 'a', title: 'alpha' },
        { key: 'b', title: 'beta' },
        { key: 'c', title: 'gamma' },
      ],
      '--max-parallel',
      '5',
      '--no-reviewer',
    );
    let items = await itemsByTitle(town, m.mission.id);
    expect(items.alpha.status).toBe('ready');
    await town.redis.hset(`${town.prefix}mission:${m.mission.id}:item:${items.alpha.id}`, 'kind', 'juggling');
    for (const n of ['w1', 'w2', 'w3']) await spawn(town, n);
    const lines: string[] = [];
    const d = testDispatcher(town);
    d.log = (l) => lines.push(l);
    const report = await tickOnce(d, m.mission.id);
    expect(report.malformed).toEqual([expect.stringMatching(new RegExp(`item:${items.alpha.id}: `))]);
    expect(report.assigned).toBe(2);
    items = await itemsByTitle(town, m.mission.id);
    expect([items.beta.status, items.gamma.status]).toEqual(['assigned', 'assigned']);
    // Logged once per dispatcher, however many ticks meet it.
    await tickOnce(d, m.mission.id);
    expect(lines.filter((l) => l.includes('skipped malformed record'))).toHaveLength(1);
  });

  it('pause then resume by note, with receipts', async () => {
    const town = await makeTown();
    await spawn(town, 'w1');
    const m = await start(town, [{ title: 'one' }, { title: 'two' }], '--max-parallel', '1', '--no-reviewer');
    const d = testDispatcher(town);
    await town.ok('mission', 'note', m.mission.id.slice(0, 6), 'pause for the release');
    let r = await tickOnce(d, m.mission.id);
    expect(r.notes.map((n) => n.effect)).toEqual(['paused']);
    let s = await status(town, m.mission.id);
    expect(s.mission.state).toBe('blocked');
    expect(s.mission.blockedReason).toBe('Paused by operator: pause for the release');
    expect(s.notes[0]).toMatchObject({ body: 'pause for the release', tick: 1, effect: 'paused' });
    await town.ok('mission', 'note', m.mission.id, 'pause again');
    r = await tickOnce(d, m.mission.id);
    expect(r.notes[0]!.effect).toBe('ignored: pause while the mission is blocked');
    await town.ok('mission', 'note', m.mission.id, 'resume');
    r = await tickOnce(d, m.mission.id);
    expect(r.notes[0]!.effect).toBe('resumed');
    s = await status(town, m.mission.id);
    expect(s.mission.state).toBe('running');
    expect(s.mission.blockedReason).toBeUndefined();
    const notes = (await allEvents(town)).filter((e) => e.type === 'mission.note').map((e) => e.state);
    expect(notes).toEqual(['queued', 'applied', 'queued', 'applied', 'queued', 'applied']);
  });

  it('redirect rebinds an item to another agent, cancels the stale task and creates one replacement', async () => {
    const town = await makeTown();
    await spawn(town, 'w1');
    const other = await spawn(town, 'w2');
    const m = await start(town, [{ title: 'only item' }], '--no-reviewer');
    const before = (await itemsByTitle(town, m.mission.id))['only item'];
    const target = before.assignedTo === other.id ? 'w1' : 'w2';
    await town.ok('mission', 'note', m.mission.id, `redirect to ${target} because it knows the code`);
    const d = testDispatcher(town);
    const r = await tickOnce(d, m.mission.id);
    expect(r.notes[0]!.effect).toBe(`redirected "only item" to ${target}`);
    const after = (await itemsByTitle(town, m.mission.id))['only item'];
    expect(after.assignedTo).not.toBe(before.assignedTo);
    expect(after.task).not.toBe(before.task);
    expect((await town.ok('task', 'show', before.task, '--json')).json().state).toBe('cancelled');
    const replacement = (await town.ok('task', 'show', after.task, '--json')).json();
    expect(replacement.description).toMatch(/^\[Mission Redirect\] only item/);
    expect(replacement.description).toMatch(/because it knows the code/);
    // A second tick creates nothing more.
    await tickOnce(d, m.mission.id);
    const created = (await allEvents(town)).filter(
      (e) => e.type === 'task.created' && e.mission === m.mission.id,
    );
    expect(created).toHaveLength(2);
  });

  it('a redirect with no open item, a resume of a failed mission, and a stop: clear outcomes, no crash', async () => {
    const town = await makeTown();
    await spawn(town, 'w1');
    const m = await start(town, [{ title: 'solo' }], '--no-reviewer');
    const d = testDispatcher(town);
    const item = (await itemsByTitle(town, m.mission.id)).solo;
    await finishAs(town, item.task, 'all done');
    await tickOnce(d, m.mission.id);
    expect((await status(town, m.mission.id)).mission.state).toBe('completed');
    await town.ok('mission', 'note', m.mission.id, 'redirect to w1');
    const r = await tickOnce(d, m.mission.id);
    expect(r.notes[0]!.effect).toMatch(/^ignored/);
    const m2 = await start(town, [{ title: 'another' }], '--no-reviewer');
    await town.ok('mission', 'stop', m2.mission.id, '--force');
    const again = await town.tt('mission', 'resume', m2.mission.id);
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/is failed; only a blocked mission resumes/);
  });

  it('asks for help once, not again before the backoff, and again at once when the reason changes', async () => {
    const town = await makeTown();
    const clock = new ManualClock(Date.now());
    // No agents at all: ready work, nobody idle.
    const m = await start(town, [{ title: 'unloved' }, { title: 'also unloved' }], '--no-reviewer');
    const d = testDispatcher(town, { clock });
    // The tick of `mission start` asked already.
    let s = await status(town, m.mission.id);
    expect(s.mission.helpReason).toMatch(/has 2 ready work item\(s\) but no idle agents/);
    let r = await tickOnce(d, m.mission.id);
    expect(r.help).toBeUndefined();
    let box = (await town.ok('inbox', 'supervisor', '--json')).json();
    expect(box.messages).toHaveLength(1);
    expect(box.messages[0].question).toMatch(/^\[Mission Help Needed\] Mission/);
    clock.advance(59 * 60_000);
    r = await tickOnce(d, m.mission.id);
    expect(r.help).toBeUndefined();
    expect((await status(town, m.mission.id)).mission.helpAttempts).toBe(1);
    clock.advance(2 * 60_000); // past 1800 s x 2
    r = await tickOnce(d, m.mission.id);
    expect(r.help).toMatch(/no idle agents/);
    s = await status(town, m.mission.id);
    expect(s.mission.helpAttempts).toBe(2);
    // A repeat replaces the mission's earlier prompt in the supervisor's inbox.
    box = (await town.ok('inbox', 'supervisor', '--json')).json();
    expect(box.messages).toHaveLength(1);
    // A changed reason goes out at once: an agent arrives and takes one item, one still waits.
    await spawn(town, 'w1');
    clock.advance(1000);
    r = await tickOnce(d, m.mission.id);
    expect(r.assigned).toBe(1);
    expect(r.help).toMatch(/has 1 ready work item\(s\) but no idle agents/);
    expect((await status(town, m.mission.id)).mission.helpAttempts).toBe(1);
    // The operator answers with a note: the prompts leave the supervisor's inbox.
    await town.ok('mission', 'note', m.mission.id, 'pause while I find agents');
    box = (await town.ok('inbox', 'supervisor', '--json')).json();
    expect(box.messages).toHaveLength(0);
    r = await tickOnce(d, m.mission.id);
    expect(r.notes[0]!.effect).toBe('paused');
  });

  it('rejects a malformed note, a bad issue ref and a cyclic manifest with a clear message, storing nothing', async () => {
    const town = await makeTown();
    const m = await start(town, [{ title: 'x' }], '--no-reviewer');
    const before = await town.redis.dbsize();
    const note = await town.tt('mission', 'note', m.mission.id, 'redirect');
    expect(note.code).toBe(2);
    expect(note.err.trim().split('\n')).toHaveLength(1);
    expect(note.err).toMatch(/redirect/);
    const ref = await town.tt('mission', 'start', '--issue', 'not-a-ref!');
    expect(ref.code).toBe(2);
    expect(ref.err).toMatch(/--issue not-a-ref!/);
    const cyc = await town.tt(
      'mission',
      'start',
      '--manifest',
      manifest(
        town,
        [
          { key: 'a', title: 'a', dependsOn: ['b'] },
          { key: 'b', title: 'b', dependsOn: ['a'] },
        ],
        'cyc.json',
      ),
    );
    expect(cyc.code).toBe(2);
    expect(cyc.err).toMatch(/dependency cycle: .*a.* -> .*b.* -> .*a/);
    const missing = await town.tt('mission', 'start', '--doc', 'nope.md');
    expect(missing.code).toBe(2);
    expect(await town.redis.dbsize()).toBe(before);
    expect((await town.ok('mission', 'list', '--all', '--json')).json().missions).toHaveLength(1);
  });
});
