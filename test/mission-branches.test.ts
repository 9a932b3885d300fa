// A mission item's branch: its work task's branch (recorded when the worker's round starts) goes
// onto the item when the work completes, and the review, fix and fix-redirect tasks made for the
// item carry it (the reviewer checks it out detached, the fixer commits on it). No agent runs git
// here: the worker's start-of-round write is made as the worker makes it, and the fields are read.
import { describe, expect, it } from 'vitest';
import { recordTaskBranch } from '../source/store/tasks.js';
import { manifest, testDispatcher, tickOnce } from './helpers/missions.js';
import { makeTown, type TestTown } from './helpers/town.js';

const spawn = async (town: TestTown, name: string) =>
  (await town.ok('spawn', name, '--no-start', '--json')).json() as { id: string; name: string };

const itemOf = async (town: TestTown, mission: string) =>
  (await town.ok('mission', 'status', mission, '--json')).json().items[0];

const taskOf = async (town: TestTown, id: string) => (await town.ok('task', 'show', id, '--json')).json();

describe('mission branches', () => {
  it("work task branch -> item branch -> the review, fix and fix-redirect tasks' branch", async () => {
    const town = await makeTown();
    const agents = [await spawn(town, 'ada'), await spawn(town, 'bob'), await spawn(town, 'cy')];
    const m = (
      await town.ok('mission', 'start', '--manifest', manifest(town, [{ title: 'only item' }]), '--json')
    ).json() as { mission: { id: string } };
    const mid = m.mission.id;
    const d = testDispatcher(town);

    const work = await itemOf(town, mid);
    expect(work.branch).toBeUndefined();
    expect((await taskOf(town, work.task)).branch).toBeUndefined();
    const branch = `tt/x/${work.task.slice(0, 8)}-only-item`;
    // The worker's round start: the branch, no head yet.
    expect(await recordTaskBranch(d.db, work.task, branch)).toBe(true);
    const started = await taskOf(town, work.task);
    expect(started.branch).toBe(branch);
    expect(started.head).toBeUndefined();
    // A task that is gone is not brought back.
    expect(await recordTaskBranch(d.db, 'no-such-task', branch)).toBe(false);

    await town.ok('task', 'complete', work.task, '--result', 'done, see the branch');
    await tickOnce(d, mid);
    const submitted = await itemOf(town, mid);
    expect(submitted.branch).toBe(branch);
    expect(submitted.reviewTask).toBeDefined();
    const review = await taskOf(town, submitted.reviewTask);
    expect(review).toMatchObject({ missionRole: 'review', branch });
    expect(review.assignedTo).not.toBe(work.assignedTo);

    await town.ok('task', 'complete', review.id, '--result', 'rejected: name the handler');
    await tickOnce(d, mid);
    const rejected = await itemOf(town, mid);
    expect(rejected.branch).toBe(branch);
    const fix = await taskOf(town, rejected.task);
    expect(fix.description).toMatch(/^\[Mission Fix\] only item/);
    expect(fix).toMatchObject({ missionRole: 'fix', branch });

    // The fix redirected to another agent goes on on the same branch.
    const target = agents.find((a) => a.id !== fix.assignedTo)!;
    await town.ok('mission', 'note', mid, `redirect to ${target.name}`);
    await tickOnce(d, mid);
    const redirected = await itemOf(town, mid);
    expect(redirected.task).not.toBe(fix.id);
    const again = await taskOf(town, redirected.task);
    expect(again.description).toMatch(/^\[Mission Fix Redirect\] only item/);
    expect(again).toMatchObject({ missionRole: 'fix', branch, assignedTo: target.id });
  });

  it('work submitted without a branch leaves the item and its review without one', async () => {
    const town = await makeTown();
    await spawn(town, 'ada');
    await spawn(town, 'bob');
    const m = (
      await town.ok('mission', 'start', '--manifest', manifest(town, [{ title: 'only item' }]), '--json')
    ).json() as { mission: { id: string } };
    const d = testDispatcher(town);
    const work = await itemOf(town, m.mission.id);
    await town.ok('task', 'complete', work.task, '--result', 'done');
    await tickOnce(d, m.mission.id);
    const item = await itemOf(town, m.mission.id);
    expect(item.branch).toBeUndefined();
    expect((await taskOf(town, item.reviewTask)).branch).toBeUndefined();
  });
});
