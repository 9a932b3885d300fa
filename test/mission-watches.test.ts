import { describe, expect, it } from 'vitest';
import { RestGitHubClient } from '../source/github/rest.js';
import { releaseLeases, tick as tickAll } from '../source/dispatch/loop.js';
import { ManualClock } from '../source/model/clock.js';
import type { Task } from '../source/model/task.js';
import { makeDb } from '../source/store/db.js';
import { moveTask } from '../source/store/tasks.js';
import { allEvents } from './helpers/events.js';
import { startFakeGitHub, type FakeGitHub } from './helpers/fake-github.js';
import { manifest, testDispatcher, tickOnce } from './helpers/missions.js';
import { makeTown, type TestTown } from './helpers/town.js';

/**
 * Missions against real Redis and a fake GitHub REST server: bootstrap from issues, submissions
 * and the reviewer gate, the pull-request watches (tinytown 5.4-5.7), reconciliation, control
 * notes and help escalation. Time is a ManualClock the dispatcher reads; nothing sleeps.
 */

const SHA1 = '1111111111111111111111111111111111111111';
const SHA2 = '2222222222222222222222222222222222222222';
const PR = 'o/r#7';
const PR_URL = 'https://github.com/o/r/pull/7';
const INTERVAL = 180_000; // the default watch interval and snooze

type Item = {
  id: string;
  title: string;
  status: string;
  rank: number;
  deps: string[];
  assignedTo?: string;
  task?: string;
  reviewTask?: string;
  artifacts: string[];
  reviewerApproved: boolean;
  kind: string;
  sourceRef?: string;
};
type WatchView = {
  id: string;
  kind: string;
  target: string;
  status: string;
  onTrigger: string;
  nextDueAt: number;
  failures: number;
  lastError?: string;
  lastFixSha?: string;
  item: string;
};

const spawn = async (town: TestTown, name: string, ...flags: string[]) =>
  (await town.ok('spawn', name, '--no-start', ...flags, '--json')).json() as { id: string };

const start = async (town: TestTown, items: object[], ...flags: string[]) =>
  (
    await town.ok(
      'mission',
      'start',
      '--manifest',
      manifest(town, items, `m${Math.random().toString(36).slice(2)}.json`),
      ...flags,
      '--json',
    )
  ).json() as { mission: { id: string } };

const status = async (town: TestTown, id: string) =>
  (await town.ok('mission', 'status', id, '--json')).json() as {
    mission: Record<string, any>;
    items: Item[];
    watches: WatchView[];
    notes: { effect?: string }[];
  };

const onlyItem = async (town: TestTown, id: string): Promise<Item> => {
  const { items } = await status(town, id);
  expect(items).toHaveLength(1);
  return items[0]!;
};

const watchesByKind = async (town: TestTown, id: string): Promise<Record<string, WatchView>> =>
  Object.fromEntries((await status(town, id)).watches.map((w) => [w.kind, w]));

const tasksOf = async (town: TestTown, mission: string, role: 'work' | 'review' | 'fix'): Promise<Task[]> =>
  ((await town.ok('task', 'list', '--json')).json().tasks as Task[])
    .filter((t) => t.mission === mission && t.missionRole === role)
    .sort((a, b) => a.createdAt - b.createdAt);

/** Completes a task as the agent holding it would. */
const finishAs = (town: TestTown, taskId: string, result: string) =>
  town.ok('task', 'complete', taskId, '--result', result);

/** A town, a fake GitHub with pull request o/r#7 (head SHA1, CI as given), and a dispatcher on a manual clock. */
const world = async (ci: 'success' | 'failure' | 'pending' = 'pending') => {
  const town = await makeTown();
  const fake = await startFakeGitHub();
  fake.state.addPull({ owner: 'o', repo: 'r', number: 7, headSha: SHA1 });
  setCi(fake, SHA1, ci);
  const clock = new ManualClock(Date.now());
  const github = new RestGitHubClient({ baseUrl: fake.url, userAgent: 'test' });
  const d = testDispatcher(town, { clock, github });
  return { town, fake, clock, d, tick: (mission: string) => tickOnce(d, mission) };
};

const setCi = (fake: FakeGitHub, sha: string, ci: 'success' | 'failure' | 'pending') => {
  fake.state.checkRuns[sha] = [
    ci === 'pending'
      ? { name: 'build', status: 'in_progress' }
      : { name: 'build', status: 'completed', conclusion: ci },
  ];
};

const pullRequests = (fake: FakeGitHub) =>
  fake.state.requests.filter((r) => /\/repos\/o\/r\/pulls\/7$/.test(r.path.split('?')[0]!)).length;

describe('mission watches', () => {
  it('mission start --issue fetches the issues, parses "depends on", builds the graph; a bare number uses github.repo; a 404 stores nothing', async () => {
    const town = await makeTown();
    const fake = await startFakeGitHub();
    fake.state
      .addIssue({
        owner: 'o',
        repo: 'r',
        number: 1,
        title: 'Design the storage layer',
        body: 'We need a plan first.',
      })
      .addIssue({
        owner: 'o',
        repo: 'r',
        number: 2,
        title: 'Build the storage layer',
        body: 'Depends on #1.',
      })
      .addIssue({
        owner: 'o',
        repo: 'r',
        number: 3,
        title: 'Wire the command line',
        body: 'This depends on #1 and #2; see also #40.',
      });
    town.configure({ github: { apiUrl: fake.url, repo: 'o/r' } });
    const started = await town.ok(
      'mission',
      'start',
      '--issue',
      '3',
      '--issue',
      'o/r#2',
      '--issue',
      'https://github.com/o/r/issues/1',
      '--json',
    );
    const id = started.json().mission.id as string;
    // Every issue was fetched from the configured server, the bare number from github.repo.
    for (const n of [1, 2, 3]) expect(fake.state.requestsTo(`/repos/o/r/issues/${n}`)).toHaveLength(1);
    const s = await status(town, id);
    expect(s.mission.objectives).toEqual([
      { type: 'issue', owner: 'o', repo: 'r', number: 3 },
      { type: 'issue', owner: 'o', repo: 'r', number: 2 },
      { type: 'issue', owner: 'o', repo: 'r', number: 1 },
    ]);
    const by = Object.fromEntries(s.items.map((i) => [i.sourceRef, i]));
    expect(Object.keys(by).sort()).toEqual(['o/r#1', 'o/r#2', 'o/r#3']);
    const [one, two, three] = [by['o/r#1']!, by['o/r#2']!, by['o/r#3']!];
    expect([one.title, two.title, three.title]).toEqual([
      'Design the storage layer',
      'Build the storage layer',
      'Wire the command line',
    ]);
    expect([one.kind, two.kind, three.kind]).toEqual(['design', 'implement', 'implement']);
    // No agents: the one item without dependencies is ready and waits; the others are pending.
    expect([one.status, two.status, three.status]).toEqual(['ready', 'pending', 'pending']);
    expect([one.rank, two.rank, three.rank]).toEqual([0, 1, 2]);
    expect(one.deps).toEqual([]);
    expect(two.deps).toEqual([one.id]);
    expect([...three.deps].sort()).toEqual([one.id, two.id].sort()); // #40 is not in the mission
    expect(s.mission.itemsTotal).toBe(3);

    // An issue the server does not have: a clear message, nothing stored.
    const before = await town.redis.dbsize();
    const missing = await town.tt('mission', 'start', '--issue', '1', '--issue', 'o/r#99');
    expect(missing.code).toBe(1);
    expect(missing.err.trim()).toBe(
      'tt mission start: cannot fetch o/r#99: o/r#99 not found (or the token cannot see it)',
    );
    expect(fake.state.requestsTo('/repos/o/r/issues/99')).toHaveLength(1);
    expect(await town.redis.dbsize()).toBe(before);
    expect(
      (await town.ok('mission', 'list', '--all', '--json')).json().missions.map((m: { id: string }) => m.id),
    ).toEqual([id]);
  });

  it('a work result with a PR URL blocks the item, creates 4 watches and a review task; approval plus done watches finalize it', async () => {
    const { town, fake, clock, tick } = await world('pending');
    const worker = await spawn(town, 'ada', '--role', 'backend');
    const reviewer = await spawn(town, 'rita', '--role', 'reviewer');
    const m = await start(town, [{ title: 'implement the cache', kind: 'implement' }]);
    const id = m.mission.id;
    let item = await onlyItem(town, id);
    expect(item).toMatchObject({ status: 'assigned', assignedTo: worker.id });

    await finishAs(town, item.task!, `opened ${PR_URL}`);
    let r = await tick(id);
    expect(r.completions).toBe(1);
    item = await onlyItem(town, id);
    expect(item.status).toBe('blocked');
    expect(item.assignedTo).toBe(worker.id);
    expect(item.artifacts).toContain(PR);
    expect(item.reviewerApproved).toBe(false);
    const watches = (await status(town, id)).watches;
    expect(watches.map((w) => [w.kind, w.target, w.onTrigger]).sort()).toEqual([
      ['bugbot_comments', PR, 'create_fix_task'],
      ['mergeability', PR, 'advance_pipeline'],
      ['pr_checks', PR, 'create_fix_task'],
      ['review_comments', PR, 'create_fix_task'],
    ]);
    // Checked at once (CI still running): all active, due again after the interval.
    expect(r.watchesChecked).toBe(4);
    expect(watches.every((w) => w.status === 'active' && w.nextDueAt === clock.now() + INTERVAL)).toBe(true);
    const reviews = await tasksOf(town, id, 'review');
    expect(reviews).toHaveLength(1);
    expect(reviews[0]).toMatchObject({ state: 'assigned', assignedTo: reviewer.id, workItem: item.id });
    expect(reviews[0]!.description).toMatch(/^\[Mission Review\] implement the cache/);
    expect(reviews[0]!.description).toContain(PR);
    expect(item.reviewTask).toBe(reviews[0]!.id);
    const inbox = (await town.ok('inbox', 'rita', '--json')).json();
    expect(inbox.messages.map((x: { type: string; taskId: string }) => [x.type, x.taskId])).toEqual([
      ['task_assign', reviews[0]!.id],
    ]);

    // Approved while the watches still wait: approved, not yet done.
    await finishAs(town, reviews[0]!.id, 'approved: looks right');
    r = await tick(id);
    expect(r).toMatchObject({ completions: 1, watchesChecked: 0 });
    item = await onlyItem(town, id);
    expect(item).toMatchObject({ status: 'blocked', reviewerApproved: true });
    expect((await status(town, id)).mission.state).toBe('running');
    expect(await tasksOf(town, id, 'review')).toHaveLength(1);

    // The PR turns green and mergeable; once the watches are due they finish and so does the item.
    setCi(fake, SHA1, 'success');
    clock.advance(INTERVAL + 1000);
    r = await tick(id);
    expect(r.watchesChecked).toBe(4);
    const s = await status(town, id);
    expect(s.watches.map((w) => w.status)).toEqual(['done', 'done', 'done', 'done']);
    expect(s.items[0]!.status).toBe('done');
    expect(s.mission).toMatchObject({ state: 'completed', itemsDone: 1 });
  });

  it('failing CI creates a fix task for the assignee (item assigned); the same head commit gets no second one, a new failing head does', async () => {
    const { town, fake, clock, tick } = await world('failure');
    const worker = await spawn(town, 'ada');
    const m = await start(town, [{ title: 'speed up the parser' }], '--no-reviewer');
    const id = m.mission.id;
    let item = await onlyItem(town, id);
    await finishAs(town, item.task!, PR);
    let r = await tick(id);
    expect(r.watchesChecked).toBe(4);
    let fixes = await tasksOf(town, id, 'fix');
    expect(fixes).toHaveLength(1);
    let w = await watchesByKind(town, id);
    expect(fixes[0]).toMatchObject({
      state: 'assigned',
      assignedTo: worker.id,
      workItem: item.id,
      watch: w.pr_checks!.id,
    });
    expect(fixes[0]!.description).toMatch(/^\[Mission Fix\] speed up the parser/);
    expect(fixes[0]!.description).toContain(`pr_checks on ${PR} needs a fix (head ${SHA1.slice(0, 7)})`);
    item = await onlyItem(town, id);
    expect(item).toMatchObject({ status: 'assigned', assignedTo: worker.id, task: fixes[0]!.id });
    expect(w.pr_checks).toMatchObject({
      status: 'snoozed',
      lastFixSha: SHA1,
      nextDueAt: clock.now() + INTERVAL,
    });
    // The other watches saw nothing to act on.
    expect([w.bugbot_comments!.status, w.review_comments!.status, w.mergeability!.status]).toEqual([
      'active',
      'active',
      'active',
    ]);

    // Due again, still failing on the same commit: checked, snoozed again, no second fix task.
    clock.advance(INTERVAL + 1000);
    r = await tick(id);
    expect(r.watchesChecked).toBe(4);
    w = await watchesByKind(town, id);
    expect(w.pr_checks).toMatchObject({
      status: 'snoozed',
      lastFixSha: SHA1,
      nextDueAt: clock.now() + INTERVAL,
    });
    expect(await tasksOf(town, id, 'fix')).toHaveLength(1);

    // A new head commit that fails too: one more fix task, for that commit.
    fake.state.pulls[0]!.headSha = SHA2;
    setCi(fake, SHA2, 'failure');
    clock.advance(INTERVAL + 1000);
    await tick(id);
    fixes = await tasksOf(town, id, 'fix');
    expect(fixes).toHaveLength(2);
    expect(fixes[1]!.description).toContain(`(head ${SHA2.slice(0, 7)})`);
    expect(fixes[1]!.assignedTo).toBe(worker.id);
    expect((await watchesByKind(town, id)).pr_checks!.lastFixSha).toBe(SHA2);
    expect((await onlyItem(town, id)).task).toBe(fixes[1]!.id);
  });

  it('green CI and a mergeable PR (advance_pipeline) complete the item and, with --no-reviewer, the mission', async () => {
    const { town, fake, clock, tick } = await world('pending');
    await spawn(town, 'ada');
    const m = await start(town, [{ title: 'add the flag' }], '--no-reviewer');
    const id = m.mission.id;
    await finishAs(town, (await onlyItem(town, id)).task!, `done: ${PR_URL}`);
    await tick(id);
    let s = await status(town, id);
    expect(s.items[0]!.status).toBe('blocked');
    expect(s.mission).toMatchObject({
      state: 'running',
      blockedReason: 'Waiting on 4 active watch(es)',
      nextWakeAt: clock.now() + INTERVAL,
    });

    setCi(fake, SHA1, 'success');
    clock.advance(INTERVAL);
    const r = await tick(id);
    expect(r.watchesChecked).toBe(4);
    s = await status(town, id);
    const merge = s.watches.find((w) => w.kind === 'mergeability')!;
    expect(merge).toMatchObject({ onTrigger: 'advance_pipeline', status: 'done' });
    expect(s.items[0]!.status).toBe('done');
    expect(s.mission.state).toBe('completed');
    expect(s.mission.blockedReason).toBeUndefined();
    expect(await tasksOf(town, id, 'fix')).toHaveLength(0);
    expect(await tasksOf(town, id, 'review')).toHaveLength(0);
    const states = (await allEvents(town))
      .filter((e) => e.type === 'mission.state' && e.mission === id)
      .map((e) => e.state);
    expect(states.at(-1)).toBe('completed');
  });

  it('triggered bugbot and review-comment watches snooze, are rechecked only when due, and resolve once the PR is clean and green', async () => {
    const { town, fake, clock, tick } = await world('success');
    await spawn(town, 'ada');
    fake.state.comments['o/r#7'] = [
      { login: 'cursor[bot]', userType: 'Bot', body: 'Bugbot found 1 potential bug' },
    ];
    fake.state.reviews['o/r#7'] = [{ login: 'alice', state: 'CHANGES_REQUESTED', body: 'please rename' }];
    const m = await start(town, [{ title: 'tidy the module' }], '--no-reviewer');
    const id = m.mission.id;
    await finishAs(town, (await onlyItem(town, id)).task!, PR);
    await tick(id);
    const t0 = clock.now();
    let w = await watchesByKind(town, id);
    expect(w.bugbot_comments).toMatchObject({ status: 'snoozed', nextDueAt: t0 + INTERVAL });
    expect(w.review_comments).toMatchObject({ status: 'snoozed', nextDueAt: t0 + INTERVAL });
    expect(w.pr_checks!.status).toBe('done');
    expect(w.mergeability!.status).toBe('done');
    const fixes = await tasksOf(town, id, 'fix');
    expect(fixes.map((f) => f.watch).sort()).toEqual([w.bugbot_comments!.id, w.review_comments!.id].sort());
    expect((await onlyItem(town, id)).status).toBe('assigned');

    // Not due yet: no check, no GitHub request.
    const asked = pullRequests(fake);
    clock.advance(INTERVAL - 1000);
    let r = await tick(id);
    expect(r.watchesChecked).toBe(0);
    expect(pullRequests(fake)).toBe(asked);
    w = await watchesByKind(town, id);
    expect([w.bugbot_comments!.status, w.review_comments!.status]).toEqual(['snoozed', 'snoozed']);

    // The bot's comment is gone and alice approves; at the due time both watches are done.
    fake.state.comments['o/r#7'] = [];
    fake.state.reviews['o/r#7']!.push({ login: 'alice', state: 'APPROVED' });
    clock.advance(1000);
    r = await tick(id);
    expect(r.watchesChecked).toBe(2);
    expect(pullRequests(fake)).toBe(asked + 2);
    w = await watchesByKind(town, id);
    expect([w.bugbot_comments!.status, w.review_comments!.status]).toEqual(['done', 'done']);
    expect(await tasksOf(town, id, 'fix')).toHaveLength(2);

    // The fix comes back with the PR: watched again from scratch, clean, so the item and mission finish.
    await finishAs(town, (await onlyItem(town, id)).task!, `fixed in ${PR}`);
    await tick(id);
    const s = await status(town, id);
    expect(s.items[0]!.status).toBe('done');
    expect(s.mission.state).toBe('completed');
  });

  it('a merged PR completes its item (with an event) and the mission; no fix task though CI failed', async () => {
    const { town, fake, clock, tick } = await world('pending');
    await spawn(town, 'ada');
    const id = (await start(town, [{ title: 'add the flag' }])).mission.id;
    await finishAs(town, (await onlyItem(town, id)).task!, `done: ${PR_URL}`);
    await tick(id);
    expect((await onlyItem(town, id)).status).toBe('blocked');
    // Merged without the reviewer's approval, with red CI: the work landed all the same.
    fake.state.pulls[0]!.merged = true;
    setCi(fake, SHA1, 'failure');
    clock.advance(INTERVAL);
    await tick(id);
    const s = await status(town, id);
    expect(s.items[0]!.status).toBe('done');
    expect(s.watches.map((w) => w.status)).toEqual(['done', 'done', 'done', 'done']);
    expect(s.mission.state).toBe('completed');
    expect(await tasksOf(town, id, 'fix')).toHaveLength(0);
    const texts = (await allEvents(town))
      .filter((e) => e.type === 'mission.item' && e.mission === id)
      .map((e) => e.text);
    expect(texts.filter((x) => x === `add the flag: ${PR} was merged, done`)).toHaveLength(1);
  });

  it('a PR closed unmerged puts its item back to work (with an event) and makes no fix task for its red CI', async () => {
    const { town, fake, clock, tick } = await world('pending');
    await spawn(town, 'ada');
    const id = (await start(town, [{ title: 'add the flag' }], '--no-reviewer')).mission.id;
    const first = (await onlyItem(town, id)).task!;
    await finishAs(town, first, `done: ${PR_URL}`);
    await tick(id);
    fake.state.pulls[0]!.state = 'closed';
    setCi(fake, SHA1, 'failure');
    clock.advance(INTERVAL);
    await tick(id);
    const s = await status(town, id);
    expect(s.watches.map((w) => w.status)).toEqual(['done', 'done', 'done', 'done']);
    expect(await tasksOf(town, id, 'fix')).toHaveLength(0);
    const item = s.items[0]!;
    expect(['ready', 'assigned']).toContain(item.status);
    expect(item.reviewerApproved).toBe(false);
    expect(item.task).not.toBe(first);
    expect(s.mission.state).toBe('running');
    const texts = (await allEvents(town))
      .filter((e) => e.type === 'mission.item' && e.mission === id)
      .map((e) => e.text);
    expect(texts).toContain(`add the flag: ${PR} was closed without merging, back to work`);
  });

  it('a PR without any CI has nothing to wait for: the CI watch completes and the item finishes', async () => {
    const { town, fake, tick } = await world('pending');
    delete fake.state.checkRuns[SHA1];
    await spawn(town, 'ada');
    const id = (await start(town, [{ title: 'add the flag' }], '--no-reviewer')).mission.id;
    await finishAs(town, (await onlyItem(town, id)).task!, `done: ${PR_URL}`);
    await tick(id);
    const s = await status(town, id);
    expect(s.watches.find((w) => w.kind === 'pr_checks')!.status).toBe('done');
    expect(s.items[0]!.status).toBe('done');
    expect(s.mission.state).toBe('completed');
  });

  it('with github.requireChecks, a PR without any CI asks the operator and keeps its CI watch', async () => {
    const town = await makeTown();
    const fake = await startFakeGitHub();
    fake.state.addPull({ owner: 'o', repo: 'r', number: 7, headSha: SHA1 });
    const clock = new ManualClock(Date.now());
    const github = new RestGitHubClient({ baseUrl: fake.url, userAgent: 'test' });
    const d = testDispatcher(town, { clock, github, config: { requireChecks: true } });
    await spawn(town, 'ada');
    const id = (await start(town, [{ title: 'add the flag' }], '--no-reviewer')).mission.id;
    await finishAs(town, (await onlyItem(town, id)).task!, `done: ${PR_URL}`);
    const r = await tickOnce(d, id);
    const reason = `Mission ${id} needs the operator: ${PR} has no CI (no check runs, no statuses) but github.requireChecks is set`;
    expect(r.help).toBe(reason);
    const s = await status(town, id);
    expect(s.watches.find((w) => w.kind === 'pr_checks')!.status).toBe('active');
    expect(s.items[0]!.status).toBe('blocked');
    expect(s.mission.helpReason).toBe(reason);
    const box = (await town.ok('inbox', 'supervisor', '--json')).json().messages as { question: string }[];
    expect(box.some((x) => x.question.includes('github.requireChecks'))).toBe(true);
    // CI shows up: the watch completes and no more help is asked.
    setCi(fake, SHA1, 'success');
    clock.advance(INTERVAL);
    expect((await tickOnce(d, id)).help).toBeUndefined();
    expect((await status(town, id)).mission.state).toBe('completed');
  });

  it('mergeability does not bypass the reviewer gate: mergeable and green without approval stays blocked', async () => {
    const { town, clock, tick } = await world('success');
    await spawn(town, 'ada');
    const reviewer = await spawn(town, 'rita', '--role', 'reviewer');
    const m = await start(town, [{ title: 'implement retries', kind: 'implement' }]);
    const id = m.mission.id;
    await finishAs(town, (await onlyItem(town, id)).task!, PR_URL);
    await tick(id);
    clock.advance(10 * INTERVAL);
    await tick(id);
    const s = await status(town, id);
    expect(s.watches.map((w) => w.status)).toEqual(['done', 'done', 'done', 'done']);
    expect(s.items[0]).toMatchObject({ status: 'blocked', reviewerApproved: false });
    expect(s.mission).toMatchObject({ state: 'running', itemsDone: 0 });
    const reviews = await tasksOf(town, id, 'review');
    expect(reviews).toHaveLength(1);
    expect(reviews[0]!.assignedTo).toBe(reviewer.id);

    // The approval is all it was waiting for.
    await finishAs(town, reviews[0]!.id, 'approved');
    await tick(id);
    expect((await status(town, id)).mission.state).toBe('completed');
  });

  it('a "rejected: ..." review sends a fix task to the assignee and leaves the item unapproved and not done', async () => {
    const { town, clock, tick } = await world('pending');
    const worker = await spawn(town, 'ada');
    await spawn(town, 'rita', '--role', 'reviewer');
    const m = await start(town, [{ title: 'implement paging', kind: 'implement' }]);
    const id = m.mission.id;
    await finishAs(town, (await onlyItem(town, id)).task!, PR);
    await tick(id);
    const [review] = await tasksOf(town, id, 'review');
    await finishAs(town, review!.id, 'rejected: the second page is missing');
    await tick(id);
    let item = await onlyItem(town, id);
    expect(item.reviewerApproved).toBe(false);
    expect(item.reviewTask).toBeUndefined();
    expect(item.status).not.toBe('done');
    const fixes = await tasksOf(town, id, 'fix');
    expect(fixes).toHaveLength(1);
    expect(fixes[0]).toMatchObject({ state: 'assigned', assignedTo: worker.id });
    expect(fixes[0]!.description).toMatch(/^\[Mission Fix\] implement paging/);
    expect(fixes[0]!.description).toContain('review asked for changes: rejected: the second page is missing');
    // The item waits on its fix (the live fix task holds it, as the reference's reconcile does).
    expect(item).toMatchObject({ status: 'assigned', assignedTo: worker.id, task: fixes[0]!.id });
    const changes = (await allEvents(town)).filter(
      (e) =>
        e.type === 'mission.item' && e.mission === id && e.text === 'implement paging: changes requested',
    );
    expect(changes).toHaveLength(1);
    expect(changes[0]!.state).toBe('blocked');

    // No new review while the fix is out.
    await tick(id);
    expect(await tasksOf(town, id, 'review')).toHaveLength(1);
    // The fix comes back: blocked again, and a fresh review goes out.
    clock.advance(1000);
    await finishAs(town, fixes[0]!.id, `fixed ${PR}`);
    await tick(id);
    item = await onlyItem(town, id);
    expect(item).toMatchObject({ status: 'blocked', reviewerApproved: false });
    const reviews = await tasksOf(town, id, 'review');
    expect(reviews).toHaveLength(2);
    expect(reviews[0]!.id).toBe(review!.id);
    expect(reviews[1]).toMatchObject({ state: 'assigned', workItem: item.id });
    expect(item.reviewTask).toBe(reviews[1]!.id);
  });

  it('a watch whose checks keep failing backs off 60/120/300 s and blocks the item after 5 failures in a row', async () => {
    const { town, fake, clock, tick } = await world('failure');
    await spawn(town, 'ada');
    const m = await start(town, [{ title: 'port the importer' }], '--no-reviewer');
    const id = m.mission.id;
    await finishAs(town, (await onlyItem(town, id)).task!, PR);
    await tick(id);
    // Failing CI made a fix task, so the item is assigned: a live item the watches can block.
    expect((await onlyItem(town, id)).status).toBe('assigned');

    fake.state.fail('/repos/o/r/pulls/7', 500);
    clock.advance(INTERVAL);
    const backoff: number[] = [];
    for (let n = 1; n <= 5; n++) {
      const r = await tick(id);
      expect(r.watchesChecked).toBe(4);
      const w = await watchesByKind(town, id);
      for (const x of Object.values(w)) {
        expect(x.failures).toBe(n);
        expect(x.lastError).toMatch(/GitHub failed with 500/);
        expect(x.status).not.toBe('done');
      }
      const wait = w.pr_checks!.nextDueAt - clock.now();
      backoff.push(wait / 1000);
      expect((await onlyItem(town, id)).status).toBe(n < 5 ? 'assigned' : 'blocked');
      // Not rechecked before the backoff ends.
      clock.advance(wait - 1);
      expect((await tick(id)).watchesChecked).toBe(0);
      clock.advance(1);
    }
    expect(backoff).toEqual([60, 120, 300, 300, 300]);
    const blocked = (await allEvents(town)).filter(
      (e) => e.type === 'mission.item' && e.mission === id && /failed 5 times in a row/.test(e.text ?? ''),
    );
    expect(blocked.length).toBeGreaterThanOrEqual(1);
    expect(blocked[0]!.state).toBe('blocked');
  });

  describe('reconcile', () => {
    it('a running item whose task was cancelled goes back to ready', async () => {
      const { town, clock, tick } = await world();
      await spawn(town, 'ada');
      const m = await start(town, [{ title: 'write the docs' }], '--no-reviewer');
      const id = m.mission.id;
      const item = await onlyItem(town, id);
      // The agent's worker starts the task.
      await moveTask(makeDb(town.redis, town.name, clock), item.task!, {
        to: 'running',
        set: { startedAt: clock.now() },
        event: 'task.started',
      });
      await tick(id);
      expect((await onlyItem(town, id)).status).toBe('running');
      await town.ok('task', 'cancel', item.task!);
      const r = await tick(id);
      expect(r.progress).toBe(true);
      // Released; nobody takes it again this tick (ada's queue still holds the cancelled task's message).
      expect(r.assigned).toBe(0);
      const after = await onlyItem(town, id);
      expect(after.status).toBe('ready');
      expect(after.assignedTo).toBeUndefined();
      expect(after.task).toBeUndefined();
      const released = (await allEvents(town)).filter(
        (e) =>
          e.type === 'mission.item' &&
          e.mission === id &&
          e.text === 'write the docs: released (its task is gone)',
      );
      expect(released.map((e) => [e.prev, e.state])).toEqual([['running', 'ready']]);
    });

    it('after its first full sweep a dispatcher checks only the touched items: a cancel is reconciled at the next tick; a change no script signalled waits for a new dispatcher', async () => {
      const { town, clock, d } = await world();
      await spawn(town, 'ada');
      const id = (await start(town, [{ title: 'write the docs' }], '--no-reviewer')).mission.id;
      const db = makeDb(town.redis, town.name, clock);
      const touched = () => town.redis.smembers(db.keys.missionTouched(id));
      const released = async () =>
        (await allEvents(town)).filter(
          (e) =>
            e.type === 'mission.item' &&
            e.mission === id &&
            e.text === 'write the docs: released (its task is gone)',
        ).length;
      const first = await onlyItem(town, id);
      expect(first.status).toBe('assigned');
      // The first tick (the lease is kept from here on) sweeps every live item and drops the touched set.
      await tickAll(d, [id]);
      expect(d.swept?.has(id)).toBe(true);
      expect(await touched()).toEqual([]);
      // A change no script signals (as one made before the signal existed) is not looked for again...
      await town.redis.hset(db.keys.task(first.task!), 'state', 'cancelled');
      let [r] = await tickAll(d, [id]);
      expect(r!.progress).toBe(false);
      expect((await onlyItem(town, id)).status).toBe('assigned');
      // ...until a new dispatcher takes the mission: its first tick sweeps in full.
      await releaseLeases(d, [id]);
      const d2 = testDispatcher(town, { clock });
      [r] = await tickAll(d2, [id]);
      expect(r!.progress).toBe(true);
      expect(await released()).toBe(1);
      expect((await onlyItem(town, id)).status).toBe('ready');
      // A fresh agent takes the item; cancelling its task touches the item, and the next tick releases it.
      const bo = await spawn(town, 'bo');
      [r] = await tickAll(d2, [id]);
      expect(r!.assigned).toBe(1);
      const second = await onlyItem(town, id);
      expect(second).toMatchObject({ status: 'assigned', assignedTo: bo.id });
      expect(await touched()).toEqual([]);
      await town.ok('task', 'cancel', second.task!);
      expect(await touched()).toEqual([second.id]);
      [r] = await tickAll(d2, [id]);
      expect(r!.progress).toBe(true);
      expect(await released()).toBe(2);
      expect(await onlyItem(town, id)).toMatchObject({ status: 'ready' });
      expect(await touched()).toEqual([]);
      await releaseLeases(d2, [id]);
    });

    it('a task taken over by another agent rebinds the item to that agent', async () => {
      const { town, tick } = await world();
      const a = await spawn(town, 'ada');
      const b = await spawn(town, 'bo');
      const m = await start(town, [{ title: 'migrate the schema' }], '--no-reviewer');
      const id = m.mission.id;
      const item = await onlyItem(town, id);
      const [from, to] = item.assignedTo === a.id ? (['ada', b] as const) : (['bo', a] as const);
      // The first agent is stopped; its queued task goes to the other one.
      await town.ok('kill', from);
      await town.ok('reclaim', '--from', from, '--to', to.id);
      expect((await town.ok('task', 'show', item.task!, '--json')).json().assignedTo).toBe(to.id);
      await tick(id);
      const after = await onlyItem(town, id);
      expect(after).toMatchObject({ status: 'assigned', assignedTo: to.id, task: item.task });
      expect(
        (await allEvents(town)).some(
          (e) =>
            e.type === 'mission.item' &&
            e.mission === id &&
            e.text === `migrate the schema: rebound to ${to.id.slice(0, 8)}`,
        ),
      ).toBe(true);
    });

    it('a running item with artifacts is not finalized while its task is live', async () => {
      const { town, fake, clock, tick } = await world('failure');
      await spawn(town, 'ada');
      const m = await start(town, [{ title: 'harden the cache' }], '--no-reviewer');
      const id = m.mission.id;
      await finishAs(town, (await onlyItem(town, id)).task!, PR);
      await tick(id);
      const fix = (await onlyItem(town, id)).task!;
      expect((await tasksOf(town, id, 'fix')).map((t) => t.id)).toEqual([fix]);
      await moveTask(makeDb(town.redis, town.name, clock), fix, {
        to: 'running',
        set: { startedAt: clock.now() },
        event: 'task.started',
      });
      // GitHub goes green and mergeable: every watch finishes, but the fix is still being worked.
      setCi(fake, SHA1, 'success');
      clock.advance(INTERVAL);
      await tick(id);
      let s = await status(town, id);
      expect(s.watches.map((w) => w.status)).toEqual(['done', 'done', 'done', 'done']);
      expect(s.items[0]!.artifacts).toContain(PR);
      expect(s.items[0]!.status).toBe('running');
      expect(s.mission).toMatchObject({ state: 'running', itemsDone: 0 });
      clock.advance(INTERVAL);
      await tick(id);
      expect((await onlyItem(town, id)).status).toBe('running');
      // The fix is submitted: now it finishes.
      await finishAs(town, fix, PR);
      await tick(id);
      s = await status(town, id);
      expect(s.items[0]!.status).toBe('done');
      expect(s.mission.state).toBe('completed');
    });
  });

  it('a resume note force-completes the open watches and, with every item done, completes the mission', async () => {
    const { town, fake, clock, tick } = await world('pending');
    await spawn(town, 'ada');
    const m = await start(town, [{ title: 'ship the release' }], '--no-reviewer');
    const id = m.mission.id;
    await finishAs(town, (await onlyItem(town, id)).task!, PR);
    await tick(id);
    await town.ok('mission', 'stop', id);
    clock.advance(INTERVAL);
    await tick(id);
    let s = await status(town, id);
    expect(s.mission.state).toBe('blocked');
    expect(s.items[0]!.status).toBe('blocked');
    expect(s.watches.filter((w) => w.status !== 'done')).toHaveLength(4);

    await town.ok('mission', 'note', id, 'resume');
    const asked = pullRequests(fake);
    const r = await tick(id);
    expect(r.notes.map((n) => n.effect)).toEqual(['resumed']);
    expect(pullRequests(fake)).toBe(asked); // done by the note, not by GitHub (CI is still pending)
    s = await status(town, id);
    expect(s.watches.map((w) => w.status)).toEqual(['done', 'done', 'done', 'done']);
    expect(s.items[0]!.status).toBe('done');
    expect(s.mission.state).toBe('completed');
    expect(s.mission.blockedReason).toBeUndefined();
    const forced = (await allEvents(town)).filter(
      (e) =>
        e.type === 'mission.watch' && e.mission === id && /done \(resumed by operator\)/.test(e.text ?? ''),
    );
    expect(forced).toHaveLength(4);
  });

  it("ready work with no idle agent asks for help once; a note retires only that mission's help query", async () => {
    const { town, clock, tick } = await world();
    // No agents at all.
    const a = (await start(town, [{ title: 'first mission work' }], '--no-reviewer')).mission.id;
    const b = (await start(town, [{ title: 'second mission work' }], '--no-reviewer')).mission.id;
    for (const id of [a, b]) {
      const s = await status(town, id);
      expect(s.mission.helpAttempts).toBe(1);
      expect(s.mission.helpReason).toBe(
        `Mission ${id} has 1 ready work item(s) but no idle agents are available`,
      );
    }
    clock.advance(60_000);
    const r = await tick(a);
    expect(r.help).toBeUndefined();
    expect((await status(town, a)).mission.helpAttempts).toBe(1);
    const questions = async () =>
      (
        (await town.ok('inbox', 'supervisor', '--json')).json().messages as {
          type: string;
          question: string;
        }[]
      ).map((x) => x.question.split('\n')[0]);
    expect((await questions()).sort()).toEqual(
      [`[Mission Help Needed] Mission ${a}`, `[Mission Help Needed] Mission ${b}`].sort(),
    );
    const box = (await town.ok('inbox', 'supervisor', '--json')).json().messages as {
      type: string;
      question: string;
    }[];
    expect(box.find((x) => x.question.includes(a))!.question).toContain(
      'has 1 ready work item(s) but no idle agents are available',
    );
    expect(box.every((x) => x.type === 'query')).toBe(true);

    await town.ok('mission', 'note', a, 'looking for more agents');
    expect(await questions()).toEqual([`[Mission Help Needed] Mission ${b}`]);
    // The help state stays (the same question is not asked again at once); the prompt itself is gone.
    expect((await status(town, a)).mission.helpAttempts).toBe(1);
    expect((await status(town, b)).mission.helpAttempts).toBe(1);
  });
});
