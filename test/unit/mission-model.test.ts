import { describe, expect, it } from 'vitest';
import {
  compileMission,
  CycleError,
  inferKind,
  inferOwnerRole,
  Manifest,
  ManifestError,
  parseDependencies,
  type IssueInput,
} from '../../source/model/compiler.js';
import { assessHelp, nextHelpState, shouldSendHelp, type HelpSnapshot } from '../../source/model/help.js';
import type { Watch, WorkItem, WorkKind } from '../../source/model/mission.js';
import { NoteError, parseNote, resolveItemRef } from '../../source/model/notes.js';
import {
  explainAssignment,
  laneOf,
  planAssignments,
  routeScore,
  type AvailableAgent,
  type ExplainInput,
  type PlanInput,
  type ReadyItem,
} from '../../source/model/routing.js';
import {
  canFinalize,
  extractPrRefs,
  onReviewResult,
  onWorkSubmitted,
  parsePrRef,
  requiresReview,
} from '../../source/model/submission.js';
import {
  afterCheck,
  afterFailure,
  evaluate,
  isDue,
  snooze,
  watchPlan,
  type PrState,
} from '../../source/model/watch.js';

const T0 = Date.UTC(2026, 0, 1);
const SEC = 1000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;

// ---- compiler ------------------------------------------------------------------------------

describe('parseDependencies', () => {
  it.each([
    ['Depends on #4', [4]],
    ['depend on #2 and #3', [2, 3]],
    ['Blocked by #2, #3 & #5', [2, 3, 5]],
    ['after #7', [7]],
    ['Requires #9, #1', [1, 9]],
    ['require #3', [3]],
    ['depends on #3, #2, and #3', [2, 3]],
    ['DEPENDS ON #10\nthen blocked by #2', [2, 10]],
    ['depends on: #5', [5]],
    ['depends on issue #6', [6]],
    ['after #2 #3', [2]],
    ['thereafter #4', []],
    ['requirement #4', []],
    ['mentions #4 only', []],
    ['depends on nothing; see #4', []],
    ['', []],
  ])('%j -> %j', (text, deps) => {
    expect(parseDependencies(text)).toEqual(deps);
  });
});

describe('inferKind (whole words)', () => {
  it.each([
    ['Design the API', '', 'design'],
    ['RFC: queues', '', 'design'],
    ['Queue proposal', '', 'design'],
    ['Add tests for parser', '', 'test'],
    ['Write the spec', '', 'test'],
    ['Review the queue PR', '', 'review'],
    ['Merge the release branch', '', 'mergegate'],
    ['Follow-up: tidy names', '', 'followup'],
    ['Fix crash on start', '', 'followup'],
    ['Handle prefix lookup', '', 'implement'],
    ['Latest contest results', '', 'implement'],
    ['Designer mode', '', 'implement'],
    ['Emerged nodes', '', 'implement'],
    ['Build the thing', 'with a spec', 'test'],
    ['Design tests', '', 'design'],
  ] as const)('%j %j -> %s', (title, body, kind) => {
    expect(inferKind(title, body)).toBe(kind);
  });
});

describe('inferOwnerRole (whole words)', () => {
  it.each([
    ['Add API endpoint', '', 'implement', 'backend'],
    ['Server pool', '', 'implement', 'backend'],
    ['Build the scheduler', '', 'implement', undefined],
    ['Guide the rebuild', '', 'implement', undefined],
    ['New UI for settings', '', 'implement', 'frontend'],
    ['Web page', '', 'implement', 'frontend'],
    ['Observer pattern', '', 'implement', undefined],
    ['Rapids', '', 'implement', undefined],
    ['Add tests', '', 'test', 'tester'],
    ['Something', 'QA owner: Ann', 'implement', 'tester'],
    ['Review X', '', 'review', 'reviewer'],
    ['Deploy to prod', '', 'implement', 'devops'],
    ['Infrastructure as code', '', 'implement', 'devops'],
    ['Redeployed', '', 'implement', undefined],
    ['API tests', '', 'test', 'backend'],
  ] as const)('%j %j (%s) -> %s', (title, body, kind, role) => {
    expect(inferOwnerRole(title, body, kind)).toBe(role);
  });
});

describe('Manifest schema', () => {
  it.each([
    [
      'titles only',
      {
        items: [
          { key: 'a', title: 'A' },
          { title: 'B', dependsOn: ['a', 3] },
        ],
      },
      true,
    ],
    ['issue only', { items: [{ issue: 4, skip: true }] }, true],
    ['neither issue nor title', { items: [{ key: 'a' }] }, false],
    ['unknown field', { items: [{ title: 'A', extra: 1 }] }, false],
    ['unknown top-level field', { items: [], name: 'x' }, false],
    [
      'duplicate keys',
      {
        items: [
          { key: 'a', title: 'A' },
          { key: 'a', title: 'B' },
        ],
      },
      false,
    ],
    ['bad kind', { items: [{ title: 'A', kind: 'build' }] }, false],
    ['bad dependency', { items: [{ title: 'A', dependsOn: [true] }] }, false],
    ['issue zero', { items: [{ issue: 0 }] }, false],
  ])('%s -> valid %s', (_name, value, ok) => {
    expect(Manifest.safeParse(value).success).toBe(ok);
  });
});

const issue = (number: number, title: string, body = '', owner = 'o', repo = 'r'): IssueInput => ({
  ref: { owner, repo, number },
  title,
  body,
});
const ids = () => {
  let n = 0;
  return () => `id-${++n}`;
};
const compile = (issues: IssueInput[], docs: string[] = [], manifest?: Manifest) =>
  compileMission({ missionId: 'm1', issues, docs, ...(manifest ? { manifest } : {}), now: T0, newId: ids() });
const summary = (items: WorkItem[]) =>
  items.map((i) => ({
    ref: i.sourceRef ?? i.title,
    kind: i.kind,
    owner: i.ownerRole,
    deps: i.deps,
    status: i.status,
    rank: i.rank,
  }));

describe('compileMission', () => {
  it('compiles issues and docs into items with deps, status and a topological rank', () => {
    const items = compile(
      [
        issue(1, 'Design the queue'),
        issue(2, 'Implement queue API', 'Depends on #1'),
        issue(3, 'Add tests', 'blocked by #2 and #1 and #99'),
      ],
      ['docs/plan.md'],
    );
    expect(summary(items)).toEqual([
      { ref: 'o/r#1', kind: 'design', owner: undefined, deps: [], status: 'ready', rank: 0 },
      { ref: 'o/r#2', kind: 'implement', owner: 'backend', deps: ['id-1'], status: 'pending', rank: 1 },
      { ref: 'o/r#3', kind: 'test', owner: 'tester', deps: ['id-1', 'id-2'], status: 'pending', rank: 2 },
      { ref: 'docs/plan.md', kind: 'design', owner: undefined, deps: [], status: 'ready', rank: 3 },
    ]);
    expect(items[0]).toMatchObject({
      id: 'id-1',
      mission: 'm1',
      title: 'Design the queue',
      caps: [],
      artifacts: [],
      reviewerApproved: false,
      createdAt: T0,
      updatedAt: T0,
    });
    expect(items[3]!.title).toBe('docs/plan.md');
  });

  it('ranks by dependencies, not input order, ties by input order', () => {
    const items = compile([issue(5, 'Five', 'after #6'), issue(6, 'Six'), issue(7, 'Seven')]);
    expect(items.map((i) => [i.sourceRef, i.rank])).toEqual([
      ['o/r#5', 1],
      ['o/r#6', 0],
      ['o/r#7', 2],
    ]);
  });

  it.each([
    [
      'two items',
      [issue(1, 'One'), issue(2, 'Two', 'depends on #5'), issue(5, 'Five', 'blocked by #2')],
      'dependency cycle: #2 -> #5 -> #2',
      ['#2', '#5', '#2'],
    ],
    [
      'three items',
      [issue(1, 'One', 'depends on #3'), issue(2, 'Two', 'after #1'), issue(3, 'Three', 'requires #2')],
      'dependency cycle: #1 -> #3 -> #2 -> #1',
      ['#1', '#3', '#2', '#1'],
    ],
    [
      'none: #1 means the issue itself, not o/s#1',
      [issue(1, 'One', 'depends on #1', 'o', 'r'), issue(1, 'Other', '', 'o', 's')],
      undefined,
      undefined,
    ],
  ])('cycles: %s', (_name, issues, message, cycle) => {
    if (message === undefined) {
      expect(() => compile(issues)).not.toThrow();
      return;
    }
    let err: unknown;
    try {
      compile(issues);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CycleError);
    expect((err as CycleError).message).toBe(message);
    expect((err as CycleError).cycle).toEqual(cycle);
  });

  it('names cross-repository cycles by full ref, and reads #N in the issue own repository', () => {
    const ok = compile([issue(1, 'One', 'depends on #2', 'o', 'r'), issue(2, 'Two', '', 'o', 's')]);
    expect(ok[0]!.deps).toEqual([]);
    const manifest: Manifest = {
      items: [
        { key: 'x', title: 'X', dependsOn: ['y'] },
        { key: 'y', title: 'Y', dependsOn: ['x'] },
      ],
    };
    expect(() => compile([issue(1, 'A', '', 'o', 'r'), issue(2, 'B', '', 'o', 's')], [], manifest)).toThrow(
      'dependency cycle: x -> y -> x',
    );
  });

  it('formats sourceRef as owner/repo#N', () => {
    expect(compile([issue(11, 'Eleven')])[0]!.sourceRef).toBe('o/r#11');
  });

  it('makes a fully offline mission from a manifest alone', () => {
    const items = compile([], [], {
      items: [
        { key: 'a', title: 'Design the store', kind: 'design' },
        { key: 'b', title: 'Implement the store', dependsOn: ['a'], caps: ['rust'] },
        { key: 'c', title: 'Check it', dependsOn: ['a', 'b'], ownerRole: 'tester' },
      ],
    });
    expect(summary(items)).toEqual([
      { ref: 'Design the store', kind: 'design', owner: undefined, deps: [], status: 'ready', rank: 0 },
      {
        ref: 'Implement the store',
        kind: 'implement',
        owner: undefined,
        deps: ['id-1'],
        status: 'pending',
        rank: 1,
      },
      {
        ref: 'Check it',
        kind: 'implement',
        owner: 'tester',
        deps: ['id-1', 'id-2'],
        status: 'pending',
        rank: 2,
      },
    ]);
    expect(items[1]!.caps).toEqual(['rust']);
    expect(items.every((i) => i.sourceRef === undefined)).toBe(true);
  });

  it('lets the manifest override inference and add dependencies (union with issue text)', () => {
    const items = compile(
      [issue(1, 'Add UI tests'), issue(2, 'Two'), issue(3, 'Three', 'after #2')],
      ['docs/d.md'],
      {
        items: [
          { issue: 1, kind: 'implement', ownerRole: 'devops', caps: ['gpu'], title: 'Renamed' },
          { issue: 3, dependsOn: [1, 'docs/d.md'] },
        ],
      },
    );
    expect(items[0]).toMatchObject({
      title: 'Renamed',
      kind: 'implement',
      ownerRole: 'devops',
      caps: ['gpu'],
      sourceRef: 'o/r#1',
    });
    expect(items[2]!.deps).toEqual(['id-1', 'id-2', 'id-4']);
  });

  it('skips items and drops dependencies on them', () => {
    const items = compile([issue(1, 'One'), issue(2, 'Two'), issue(3, 'Three', 'depends on #2')], [], {
      items: [
        { issue: 2, key: 'two', skip: true },
        { title: 'Extra', dependsOn: ['two', 2] },
      ],
    });
    expect(items.map((i) => i.sourceRef ?? i.title)).toEqual(['o/r#1', 'o/r#3', 'Extra']);
    expect(items.map((i) => i.status)).toEqual(['ready', 'ready', 'ready']);
  });

  it.each([
    ['an unknown key', { items: [{ title: 'A', dependsOn: ['zzz'] }] }, /unknown key "zzz"/],
    [
      'an issue outside the mission',
      { items: [{ issue: 9, kind: 'test' as WorkKind }] },
      /#9, which is not an issue of this mission/,
    ],
    [
      'a dependency outside the mission',
      { items: [{ title: 'A', dependsOn: [9] }] },
      /#9, which is not an issue of this mission/,
    ],
    ['two entries for one issue', { items: [{ issue: 1 }, { issue: 1, skip: true }] }, /more than one entry/],
    [
      'duplicate keys',
      {
        items: [
          { key: 'a', title: 'A' },
          { key: 'a', title: 'B' },
        ],
      },
      /duplicate key "a"/,
    ],
  ])('rejects a manifest with %s', (_name, manifest, message) => {
    expect(() => compile([issue(1, 'One')], [], manifest as Manifest)).toThrow(ManifestError);
    expect(() => compile([issue(1, 'One')], [], manifest as Manifest)).toThrow(message);
  });
});

// ---- routing -------------------------------------------------------------------------------

describe('laneOf', () => {
  it.each([
    [{ name: 'a', role: 'backend' }, 'backend'],
    [{ name: 'a', role: 'test' }, 'tester'],
    [{ name: 'a', role: 'audit' }, 'reviewer'],
    [{ name: 'a', role: 'infra' }, 'devops'],
    [{ name: 'ui-dev', role: 'worker' }, 'generalist'],
    [{ name: 'ui-dev', role: 'default' }, 'generalist'],
    [{ name: 'ui-dev', role: 'custom' }, 'frontend'],
    [{ name: 'builder' }, 'generalist'],
    [{ name: 'latest' }, 'generalist'],
    [{ name: 'reviewer-1' }, 'reviewer'],
    [{ name: 'qa2' }, 'tester'],
    [{ name: 'apiServer' }, 'backend'],
    [{ name: 'ci-runner' }, 'runner'],
    [{ name: 'explorer' }, 'researcher'],
    [{ name: 'deploy-bot' }, 'devops'],
    [{ name: 'review-test' }, 'reviewer'],
  ])('%j -> %s', (agent, lane) => {
    expect(laneOf(agent)).toBe(lane);
  });
});

const ag = (name: string, role?: string, caps: string[] = []) => ({ name, caps, ...(role ? { role } : {}) });
const GEN = ag('g', 'worker');
const BE = ag('b', 'backend');
const FE = ag('f', 'frontend');
const TE = ag('t', 'tester');
const RV = ag('v', 'reviewer');
const RU = ag('u', 'runner');
const RS = ag('s', 'researcher');

describe('routeScore', () => {
  it.each([
    ['review item, reviewer lane, any owner', { kind: 'review', ownerRole: 'backend' }, RV, 120],
    ['exact role', { kind: 'implement', ownerRole: 'backend' }, BE, 100],
    ['exact by name when no role', { kind: 'implement', ownerRole: 'backend' }, ag('backend-1'), 100],
    ['owner backend, generalist', { kind: 'implement', ownerRole: 'backend' }, GEN, 55],
    ['owner backend, frontend', { kind: 'implement', ownerRole: 'backend' }, FE, 35],
    ['owner backend, researcher', { kind: 'implement', ownerRole: 'backend' }, RS, 20],
    ['owner backend, runner', { kind: 'implement', ownerRole: 'backend' }, RU, 20],
    ['owner backend, tester, implement', { kind: 'implement', ownerRole: 'backend' }, TE, 5],
    ['owner backend, tester, design', { kind: 'design', ownerRole: 'backend' }, TE, 15],
    ['owner backend, reviewer', { kind: 'implement', ownerRole: 'backend' }, RV, 0],
    ['owner tester, tester by name', { kind: 'test', ownerRole: 'tester' }, ag('qa-1'), 100],
    ['owner tester, generalist', { kind: 'test', ownerRole: 'tester' }, GEN, 45],
    ['owner tester, backend', { kind: 'test', ownerRole: 'tester' }, BE, 30],
    ['owner tester, runner', { kind: 'test', ownerRole: 'tester' }, RU, 20],
    ['owner tester, reviewer', { kind: 'test', ownerRole: 'tester' }, RV, 5],
    ['owner reviewer, reviewer alias', { kind: 'implement', ownerRole: 'review' }, ag('x', 'audit'), 100],
    ['owner reviewer, researcher', { kind: 'implement', ownerRole: 'reviewer' }, RS, 20],
    ['owner reviewer, generalist', { kind: 'implement', ownerRole: 'reviewer' }, GEN, 10],
    ['owner reviewer, backend', { kind: 'implement', ownerRole: 'reviewer' }, BE, 0],
    ['other owner falls to kind table', { kind: 'implement', ownerRole: 'dba' }, GEN, 60],
    ['other owner, exact', { kind: 'implement', ownerRole: 'dba' }, ag('x', 'dba'), 100],
    ['implement, backend', { kind: 'implement' }, BE, 60],
    ['implement, runner', { kind: 'implement' }, RU, 35],
    ['implement, tester', { kind: 'implement' }, TE, 5],
    ['implement, reviewer', { kind: 'implement' }, RV, 0],
    ['test, tester', { kind: 'test' }, TE, 85],
    ['test, generalist', { kind: 'test' }, GEN, 45],
    ['test, runner', { kind: 'test' }, RU, 30],
    ['test, reviewer', { kind: 'test' }, RV, 10],
    ['review, researcher', { kind: 'review' }, RS, 35],
    ['review, generalist', { kind: 'review' }, GEN, 20],
    ['review, backend', { kind: 'review' }, BE, 5],
    ['design, researcher', { kind: 'design' }, RS, 75],
    ['design, frontend', { kind: 'design' }, FE, 55],
    ['design, reviewer', { kind: 'design' }, RV, 30],
    ['design, runner', { kind: 'design' }, RU, 20],
    ['design, tester', { kind: 'design' }, TE, 10],
    ['mergegate, runner', { kind: 'mergegate' }, RU, 80],
    ['mergegate, reviewer', { kind: 'mergegate' }, RV, 50],
    ['mergegate, generalist', { kind: 'mergegate' }, GEN, 35],
    ['mergegate, researcher', { kind: 'mergegate' }, RS, 20],
    ['mergegate, tester', { kind: 'mergegate' }, TE, 10],
    ['followup, researcher', { kind: 'followup' }, RS, 50],
    ['followup, runner', { kind: 'followup' }, RU, 35],
    ['followup, tester', { kind: 'followup' }, TE, 20],
    ['followup, reviewer', { kind: 'followup' }, RV, 10],
    ['caps met', { kind: 'implement', caps: ['gpu'] }, ag('g', 'worker', ['gpu', 'rust']), 60],
    ['caps met, any case', { kind: 'implement', caps: ['GPU'] }, ag('g', 'worker', ['gpu']), 60],
    ['caps missing', { kind: 'implement', caps: ['gpu'] }, GEN, 0],
    ['caps partly missing', { kind: 'implement', caps: ['gpu', 'rust'] }, ag('g', 'worker', ['gpu']), 0],
    ['role counts as a capability', { kind: 'implement', caps: ['backend'] }, BE, 60],
  ] as const)('%s -> %i', (_name, item, agent, score) => {
    expect(routeScore(item as { kind: WorkKind; ownerRole?: string; caps?: string[] }, agent)).toBe(score);
  });
});

const ready = (id: string, over: Partial<ReadyItem> = {}): ReadyItem => ({
  id,
  kind: 'implement',
  caps: [],
  rank: 0,
  createdAt: T0,
  ...over,
});
const avail = (id: string, over: Partial<AvailableAgent> = {}): AvailableAgent => ({
  id,
  name: id,
  caps: [],
  load: 0,
  capacity: 1,
  ...over,
});
const pairs = (input: PlanInput) => planAssignments(input).map((a) => `${a.item}>${a.agent}`);

describe('planAssignments', () => {
  it.each([
    [
      'serves items by rank, then age, then id; agents by name',
      {
        ready: [
          ready('c', { rank: 0, createdAt: 5 }),
          ready('a', { rank: 1 }),
          ready('b', { rank: 0, createdAt: 1 }),
          ready('d', { rank: 0, createdAt: 5 }),
        ],
        agents: [avail('g3'), avail('g1'), avail('g2'), avail('g4')],
        slots: 4,
      },
      ['b>g1', 'c>g2', 'd>g3', 'a>g4'],
    ],
    [
      'an idle agent takes one item per tick',
      { ready: [ready('a'), ready('b'), ready('c')], agents: [avail('x')], slots: 3 },
      ['a>x'],
    ],
    [
      'spare capacity takes more',
      {
        ready: [ready('a'), ready('b'), ready('c')],
        agents: [avail('x', { load: 1, capacity: 3 })],
        slots: 3,
      },
      ['a>x', 'b>x'],
    ],
    [
      'no room, no work',
      { ready: [ready('a')], agents: [avail('x', { load: 2, capacity: 2 })], slots: 3 },
      [],
    ],
    [
      'slots limit',
      { ready: [ready('a'), ready('b'), ready('c')], agents: [avail('x'), avail('y'), avail('z')], slots: 2 },
      ['a>x', 'b>y'],
    ],
    ['no slots', { ready: [ready('a')], agents: [avail('x')], slots: 0 }, []],
    [
      'lower load wins a tie',
      {
        ready: [ready('a'), ready('b')],
        agents: [avail('a1', { load: 1, capacity: 3 }), avail('b1')],
        slots: 2,
      },
      ['a>b1', 'b>a1'],
    ],
    [
      'load grows within a tick',
      {
        ready: [ready('1'), ready('2'), ready('3'), ready('4')],
        agents: [avail('y', { capacity: 2 }), avail('x', { capacity: 2 })],
        slots: 4,
      },
      ['1>x', '2>y', '3>x', '4>y'],
    ],
    [
      'same name: lower id',
      {
        ready: [ready('a')],
        agents: [avail('id2', { name: 'same' }), avail('id1', { name: 'same' })],
        slots: 1,
      },
      ['a>id1'],
    ],
    [
      'best score beats name',
      {
        ready: [ready('t', { kind: 'test' })],
        agents: [avail('a', { role: 'worker' }), avail('z', { role: 'tester' })],
        slots: 1,
      },
      ['t>z'],
    ],
    [
      'a zero-score item stays ready and uses no slot',
      {
        ready: [ready('r', { kind: 'review', ownerRole: 'reviewer' }), ready('i', { rank: 1 })],
        agents: [avail('b', { role: 'backend' })],
        slots: 1,
      },
      ['i>b'],
    ],
    [
      'capabilities filter agents',
      {
        ready: [ready('gpu', { caps: ['gpu'] }), ready('plain', { rank: 1 })],
        agents: [avail('a'), avail('b', { role: 'backend', caps: ['gpu'] })],
        slots: 2,
      },
      ['gpu>b', 'plain>a'],
    ],
    [
      'no capable agent: stays ready',
      { ready: [ready('gpu', { caps: ['gpu'] })], agents: [avail('a'), avail('b')], slots: 2 },
      [],
    ],
    [
      'a busy best agent yields to the next best',
      {
        ready: [ready('t1', { kind: 'test' }), ready('t2', { kind: 'test', rank: 1 })],
        agents: [avail('q', { role: 'tester' }), avail('g', { role: 'worker' })],
        slots: 2,
      },
      ['t1>q', 't2>g'],
    ],
  ])('%s', (_name, input, expected) => {
    expect(pairs(input)).toEqual(expected);
  });

  it('reports the score', () => {
    expect(
      planAssignments({
        ready: [ready('r', { kind: 'review' })],
        agents: [avail('v', { role: 'reviewer' })],
        slots: 1,
      }),
    ).toEqual([{ item: 'r', agent: 'v', score: 120 }]);
  });

  it('matches a brute-force planner on random inputs', () => {
    const rnd = mulberry32(7);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
    for (let round = 0; round < 300; round++) {
      const agents = Array.from({ length: 1 + Math.floor(rnd() * 12) }, (_, i) => {
        const load = Math.floor(rnd() * 3);
        const role = pick([undefined, 'backend', 'tester', 'review', 'worker', 'dba', 'runner']);
        return avail(`a${i}`, {
          name: pick(['qa-1', 'ui-2', 'builder', 'same', 'reviewer', 'ci']),
          load,
          capacity: load + Math.floor(rnd() * 3),
          caps: CAPSETS[Math.floor(rnd() * CAPSETS.length)]!,
          ...(role ? { role } : {}),
        });
      });
      const items = Array.from({ length: Math.floor(rnd() * 25) }, (_, i) => {
        const ownerRole = pick([undefined, 'backend', 'tester', 'reviewer', 'dba', 'review']);
        return ready(`i${i}`, {
          kind: pick(KINDS),
          rank: Math.floor(rnd() * 4),
          createdAt: Math.floor(rnd() * 3),
          caps: pick([[], [], ['gpu'], ['rust', 'db']]),
          ...(ownerRole ? { ownerRole } : {}),
        });
      });
      const input = { ready: items, agents, slots: Math.floor(rnd() * 10) };
      expect(planAssignments(input)).toEqual(bruteForce(input));
    }
  });

  it('plans 10,000 items over 1,000 agents fast, with the same result as brute force', () => {
    const roles = ['backend', 'frontend', 'devops', 'worker', 'tester', 'reviewer', 'runner', 'researcher'];
    const agents = Array.from({ length: 1000 }, (_, i) =>
      avail(`agent-${String(i).padStart(4, '0')}`, {
        role: roles[i % roles.length]!,
        caps: i % 10 === 0 ? ['gpu'] : [],
      }),
    );
    const items = Array.from({ length: 10_000 }, (_, i) =>
      ready(`item-${String(i).padStart(5, '0')}`, {
        kind: KINDS[i % KINDS.length]!,
        rank: (i * 7919) % 10_000,
        createdAt: T0 + (i % 13),
        caps: i % 10 === 3 ? ['gpu'] : [],
        ...(i % 5 === 0 ? { ownerRole: roles[i % 7]! } : {}),
      }),
    );
    const input = { ready: items, agents, slots: 1000 };
    let best = Infinity;
    let result: ReturnType<typeof planAssignments> = [];
    for (let k = 0; k < 3; k++) {
      const t = performance.now();
      result = planAssignments(input);
      best = Math.min(best, performance.now() - t);
    }
    expect(result).toHaveLength(1000);
    expect(new Set(result.map((a) => a.agent)).size).toBe(1000);
    expect(result).toEqual(bruteForce(input));
    expect(best).toBeLessThan(200);
  });
});

const KINDS: readonly WorkKind[] = ['design', 'implement', 'test', 'review', 'mergegate', 'followup'];
const CAPSETS: readonly string[][] = [[], [], ['gpu'], ['rust', 'db'], ['gpu', 'rust', 'db']];

function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The rule as written: every item in order scores every agent with room. */
function bruteForce(input: PlanInput) {
  const items = [...input.ready].sort(
    (a, b) => a.rank - b.rank || a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
  const seats = input.agents.map((a) => ({ a, load: a.load, left: a.capacity - a.load }));
  const memo = new Map<string, number>();
  const score = (it: ReadyItem, i: number) => {
    const k = `${it.kind}|${it.ownerRole}|${it.caps.join(',')}|${i}`;
    let s = memo.get(k);
    if (s === undefined) memo.set(k, (s = routeScore(it, seats[i]!.a)));
    return s;
  };
  const out: { item: string; agent: string; score: number }[] = [];
  for (const it of items) {
    if (out.length >= input.slots) break;
    let best: (typeof seats)[number] | undefined;
    let bs = 0;
    seats.forEach((s, i) => {
      if (s.left <= 0) return;
      const sc = score(it, i);
      if (sc <= 0) return;
      const better =
        !best ||
        sc > bs ||
        (sc === bs &&
          (s.load < best.load ||
            (s.load === best.load &&
              (s.a.name < best.a.name || (s.a.name === best.a.name && s.a.id < best.a.id)))));
      if (better) {
        best = s;
        bs = sc;
      }
    });
    if (best) {
      out.push({ item: it.id, agent: best.a.id, score: bs });
      best.load++;
      best.left--;
    }
  }
  return out;
}

describe('explainAssignment', () => {
  const base = (): ExplainInput => {
    const dep = {
      id: 'dep00001',
      title: 'Design',
      status: 'done' as const,
      kind: 'design' as const,
      caps: [],
      rank: 0,
      createdAt: T0,
    };
    const item = {
      id: 'item0001',
      title: 'Build',
      status: 'ready' as const,
      deps: ['dep00001'],
      kind: 'implement' as const,
      caps: [],
      rank: 1,
      createdAt: T0,
    };
    return {
      item,
      items: [dep, item],
      mission: { state: 'running', policy: { maxParallel: 2 } },
      agents: [avail('ada', { role: 'backend' })],
    };
  };
  const gates = (input: ExplainInput) =>
    Object.fromEntries(explainAssignment(input).map((g) => [g.gate, [g.ok, g.detail]]));

  it('passes every gate when the next tick would assign it', () => {
    const r = explainAssignment(base());
    expect(r.map((g) => g.gate)).toEqual([
      'mission running',
      'item ready',
      'dependencies met',
      'slots free',
      'idle agents',
      'capabilities',
      'best score',
      'queue',
    ]);
    expect(r.every((g) => g.ok)).toBe(true);
    expect(r.at(-1)!.detail).toBe('next tick assigns it to ada (score 60)');
    expect(gates(base())['best score']).toEqual([true, 'ada scores 60']);
  });

  it.each([
    [
      'paused mission',
      (i: ExplainInput) => ({
        ...i,
        mission: { ...i.mission, state: 'blocked' as const, blockedReason: 'Paused by ann: hold' },
      }),
      'mission running',
      'mission is blocked: Paused by ann: hold',
      ['mission running', 'queue'],
    ],
    [
      'unmet dependency',
      (i: ExplainInput) => ({
        ...i,
        item: { ...i.item, status: 'pending' as const },
        items: [
          { ...i.items[0]!, status: 'running' as const },
          { ...i.items[1]!, status: 'pending' as const },
        ],
      }),
      'dependencies met',
      'waiting on dep00001 "Design" (running)',
      ['item ready', 'dependencies met', 'queue'],
    ],
    [
      'missing dependency',
      (i: ExplainInput) => ({ ...i, items: [i.items[1]!] }),
      'dependencies met',
      'waiting on dep00001 (missing: it never completes)',
      ['dependencies met', 'queue'],
    ],
    [
      'no free slot',
      (i: ExplainInput) => ({
        ...i,
        items: [
          ...i.items,
          { ...i.items[0]!, id: 'x', status: 'running' as const },
          { ...i.items[0]!, id: 'y', status: 'assigned' as const },
        ],
      }),
      'slots free',
      '0 of 2 free (2 assigned or running)',
      ['slots free', 'queue'],
    ],
    [
      'no idle agents',
      (i: ExplainInput) => ({ ...i, agents: [] }),
      'idle agents',
      'no agent is idle or has spare capacity',
      ['idle agents', 'best score', 'queue'],
    ],
    [
      'missing capabilities',
      (i: ExplainInput) => ({ ...i, item: { ...i.item, caps: ['gpu'] } }),
      'capabilities',
      'needs gpu; agents that have them: 0 of 1 available',
      ['capabilities', 'best score', 'queue'],
    ],
    [
      'score 0',
      (i: ExplainInput) => ({ ...i, item: { ...i.item, kind: 'review' as const, ownerRole: 'reviewer' } }),
      'best score',
      'no available agent scores above 0',
      ['best score', 'queue'],
    ],
    [
      'items ahead take the slot',
      (i: ExplainInput) => ({
        ...i,
        items: [...i.items, { ...i.items[1]!, id: 'early', rank: 0, deps: [] }],
      }),
      'queue',
      '1 ready item ahead of it take the free slots or the agents that fit it',
      ['queue'],
    ],
  ])('%s', (_name, change, gate, detail, failed) => {
    const r = explainAssignment(change(base()));
    expect(r.filter((g) => !g.ok).map((g) => g.gate)).toEqual(failed);
    expect(r.find((g) => g.gate === gate)!.detail).toBe(detail);
  });
});

// ---- notes ---------------------------------------------------------------------------------

describe('parseNote', () => {
  it.each([
    ['resume', { kind: 'resume' }],
    ['Retry please', { kind: 'resume' }],
    ['  RESUME.', { kind: 'resume' }],
    ['pause', { kind: 'pause' }],
    ['Hold on, checking', { kind: 'pause' }],
    ['redirect abcd to bob', { kind: 'redirect', item: 'abcd', agent: 'bob' }],
    ['reassign to bob because api', { kind: 'redirect', agent: 'bob', reason: 'because api' }],
    [
      'reroute ABCD1234 TO Ada needs   frontend',
      { kind: 'redirect', item: 'ABCD1234', agent: 'Ada', reason: 'needs frontend' },
    ],
    ['Rebind: to ada', { kind: 'redirect', agent: 'ada' }],
    ['looks good', { kind: 'note' }],
    ['resumed fine', { kind: 'note' }],
    ['retrying soon', { kind: 'note' }],
    ['redirection is needed', { kind: 'note' }],
    ['holding pattern', { kind: 'note' }],
  ])('%j', (body, parsed) => {
    expect(parseNote(body)).toEqual(parsed);
  });

  it.each([
    ['redirect', /"redirect" needs "to <agent>": redirect \[<item>\] to <agent> \[reason\.\.\.\]/],
    ['redirect abcd', /needs "to <agent>"/],
    ['redirect abcd bob', /needs "to <agent>"/],
    ['redirect to', /needs "to <agent>"/],
    ['reassign abcd to', /"reassign" needs "to <agent>"/],
    ['', /^empty note; a note is: resume \| retry \| pause \| hold \| redirect/],
    ['   \n ', /^empty note/],
  ])('%j is malformed', (body, message) => {
    let err: unknown;
    try {
      parseNote(body);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NoteError);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).not.toContain('\n');
  });
});

describe('resolveItemRef', () => {
  const items = [
    { id: 'abcd1111-0000', status: 'ready' as const, title: 'A' },
    { id: 'abcd2222-0000', status: 'running' as const, title: 'B' },
    { id: 'ef001234-0000', status: 'done' as const, title: 'C' },
  ];
  it.each([
    ['abcd1111-0000', items, 'abcd1111-0000'],
    ['abcd1', items, 'abcd1111-0000'],
    ['ABCD2', items, 'abcd2222-0000'],
    [undefined, items.slice(1), 'abcd2222-0000'],
    ['', [items[0]!, items[2]!], 'abcd1111-0000'],
  ])('%j -> %s', (ref, list, id) => {
    expect(resolveItemRef(ref, list)).toBe(id);
  });
  it.each([
    ['abcd', items, /"abcd" is ambiguous: it matches abcd1111 "A", abcd2222 "B"/],
    ['abc', items, /too short/],
    [undefined, items, /name a work item: 2 are open/],
    [undefined, [items[2]!], /no work item is open/],
    ['ef00', items, /"ef00" is done/],
    ['ef001234-0000', items, /is done/],
    ['zzzz', items, /no open work item matches "zzzz"/],
  ])('%j fails', (ref, list, message) => {
    expect(() => resolveItemRef(ref, list)).toThrow(message);
  });
});

// ---- help ----------------------------------------------------------------------------------

describe('assessHelp', () => {
  const snap = (
    over: Partial<HelpSnapshot> & { m?: Partial<HelpSnapshot['mission']> } = {},
  ): HelpSnapshot => {
    const { m, ...rest } = over;
    return {
      mission: { id: 'm1', state: 'running', lastProgressAt: T0, ...m },
      readyCount: 0,
      idleAgents: 1,
      watchesActive: 0,
      now: T0,
      tickMs: 30 * SEC,
      ...rest,
    };
  };
  const stale = { id: 't1', updatedAt: T0 };
  it.each([
    [
      'ready, no idle agent',
      snap({ readyCount: 2, idleAgents: 0 }),
      'Mission m1 has 2 ready work item(s) but no idle agents are available',
    ],
    ['ready with an idle agent', snap({ readyCount: 2, idleAgents: 1 }), undefined],
    ['terminal mission', snap({ readyCount: 2, idleAgents: 0, m: { state: 'completed' } }), undefined],
    ['stale task just before 180 s', snap({ staleTask: stale, now: T0 + 180 * SEC - 1 }), undefined],
    [
      'stale task at 180 s',
      snap({ staleTask: stale, now: T0 + 180 * SEC }),
      'Mission m1 appears stuck; task t1 has not changed since 2026-01-01T00:00:00.000Z',
    ],
    [
      '6 ticks when longer: before',
      snap({ staleTask: stale, tickMs: 60 * SEC, now: T0 + 6 * MIN - 1 }),
      undefined,
    ],
    [
      '6 ticks when longer: at',
      snap({ staleTask: stale, tickMs: 60 * SEC, now: T0 + 6 * MIN }),
      expect.stringContaining('appears stuck'),
    ],
    [
      'fresh task, blocked, no watch',
      snap({
        staleTask: { id: 't1', updatedAt: T0 + 5 * MIN },
        now: T0 + 6 * MIN,
        m: { blockedReason: 'Waiting on dependency' },
      }),
      'Mission m1 is still blocked: Waiting on dependency',
    ],
    [
      'blocked, but a watch is active',
      snap({ watchesActive: 1, now: T0 + HOUR, m: { blockedReason: 'Waiting on dependency' } }),
      undefined,
    ],
    [
      'blocked, not stalled',
      snap({ now: T0 + MIN, m: { blockedReason: 'Waiting on dependency' } }),
      undefined,
    ],
    [
      'no progress yet counts as 2 ticks',
      snap({ staleTask: stale, now: T0 + 10 * HOUR, m: { lastProgressAt: undefined, blockedReason: 'x' } }),
      undefined,
    ],
  ])('%s', (_name, s, reason) => {
    expect(assessHelp(s)).toEqual(reason);
  });
});

describe('help send rule', () => {
  const cfg = { repeatSecs: 1800, backoffCap: 8 };
  const sent = (attempts: number) => ({ helpAt: T0, helpReason: 'r', helpAttempts: attempts });
  it.each([
    ['first request', { helpAttempts: 0 }, 'r', T0, true],
    ['changed reason', sent(3), 'other', T0 + 1, true],
    ['attempts 1 before 1 h', sent(1), 'r', T0 + HOUR - 1, false],
    ['attempts 1 at 1 h', sent(1), 'r', T0 + HOUR, true],
    ['attempts 2 before 2 h', sent(2), 'r', T0 + 2 * HOUR - 1, false],
    ['attempts 2 at 2 h', sent(2), 'r', T0 + 2 * HOUR, true],
    ['attempts 3 before 4 h', sent(3), 'r', T0 + 4 * HOUR - 1, false],
    ['attempts 3 at 4 h', sent(3), 'r', T0 + 4 * HOUR, true],
    ['attempts 4 capped: before 4 h', sent(4), 'r', T0 + 4 * HOUR - 1, false],
    ['attempts 4 capped: at 4 h', sent(4), 'r', T0 + 4 * HOUR, true],
    ['attempts 0 after progress: 30 min', sent(0), 'r', T0 + 30 * MIN, true],
  ])('%s', (_name, mission, reason, now, send) => {
    expect(shouldSendHelp(mission, reason, now, cfg)).toBe(send);
  });

  it('repeats the same reason after 1 h, 2 h, 4 h, 4 h', () => {
    let m: { helpAt?: number; helpReason?: string; helpAttempts: number } = { helpAttempts: 0 };
    const at: number[] = [];
    for (let now = T0; now <= T0 + 12 * HOUR && at.length < 5; now += MIN) {
      if (shouldSendHelp(m, 'r', now, cfg)) {
        at.push(now);
        m = nextHelpState(m, 'r', now);
      }
    }
    expect(at.slice(1).map((t, i) => (t - at[i]!) / HOUR)).toEqual([1, 2, 4, 4]);
  });

  it.each([
    ['first', { helpAttempts: 0 }, 'r', 1],
    ['repeat', { helpAt: T0, helpReason: 'r', helpAttempts: 2 }, 'r', 3],
    ['changed', { helpAt: T0, helpReason: 'r', helpAttempts: 2 }, 's', 1],
  ])('nextHelpState: %s', (_name, m, reason, attempts) => {
    expect(nextHelpState(m, reason, T0 + 5)).toEqual({
      helpAt: T0 + 5,
      helpReason: reason,
      helpAttempts: attempts,
    });
  });
});

// ---- watches -------------------------------------------------------------------------------

const watch = (over: Partial<Watch> = {}): Watch => ({
  id: 'w1',
  mission: 'm1',
  item: 'i1',
  kind: 'pr_checks',
  target: 'o/r#5',
  intervalSecs: 180,
  nextDueAt: T0,
  status: 'active',
  onTrigger: 'create_fix_task',
  failures: 0,
  ...over,
});
const pr = (over: Partial<PrState> = {}): PrState => ({
  ci: 'pending',
  mergeable: false,
  changesRequested: false,
  bugbotComments: 0,
  headSha: 'sha1',
  ...over,
});

describe('watch scheduling', () => {
  it.each([
    ['active, due', watch(), T0, true],
    ['active, not yet', watch(), T0 - 1, false],
    ['snoozed, due', watch({ status: 'snoozed' }), T0 + 1, true],
    ['done', watch({ status: 'done' }), T0 + HOUR, false],
  ])('isDue: %s', (_name, w, now, due) => {
    expect(isDue(w, now)).toBe(due);
  });

  it('afterCheck: active, due after the interval, failures cleared', () => {
    const w = afterCheck(watch({ status: 'snoozed', failures: 3, lastError: 'x' }), T0 + 10);
    expect(w).toEqual(
      watch({ status: 'active', failures: 0, lastCheckAt: T0 + 10, nextDueAt: T0 + 10 + 180 * SEC }),
    );
  });

  it('afterFailure backs off 60 s, 120 s, then 300 s', () => {
    let w = watch();
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      w = afterFailure(w, T0, `e${i}`);
      delays.push((w.nextDueAt - T0) / SEC);
    }
    expect(delays).toEqual([60, 120, 300, 300, 300]);
    expect(w).toMatchObject({ failures: 5, lastError: 'e4', status: 'active' });
  });

  it('snooze', () => {
    expect(snooze(watch(), T0, 180)).toMatchObject({ status: 'snoozed', nextDueAt: T0 + 180 * SEC });
  });
});

describe('evaluate', () => {
  it.each([
    ['pr_checks', pr({ ci: 'success' }), false, true],
    ['pr_checks', pr({ ci: 'failure' }), true, false],
    ['pr_checks', pr({ ci: 'pending' }), false, false],
    ['pr_checks', pr({ ci: 'unknown' }), false, false],
    ['bugbot_comments', pr({ bugbotComments: 2, ci: 'success' }), true, false],
    ['bugbot_comments', pr({ ci: 'success' }), false, true],
    ['bugbot_comments', pr({ ci: 'failure' }), false, false],
    ['review_comments', pr({ changesRequested: true, ci: 'success' }), true, false],
    ['review_comments', pr({ ci: 'success' }), false, true],
    ['review_comments', pr({ ci: 'pending' }), false, false],
    ['mergeability', pr({ mergeable: true, ci: 'success' }), true, true],
    ['mergeability', pr({ mergeable: true, ci: 'pending' }), false, false],
    ['mergeability', pr({ mergeable: false, ci: 'success' }), false, false],
    // No CI at all: nothing to wait for.
    ['pr_checks', pr({ ci: 'none' }), false, true],
    ['bugbot_comments', pr({ ci: 'none' }), false, true],
    ['review_comments', pr({ ci: 'none' }), false, true],
    ['mergeability', pr({ mergeable: true, ci: 'none' }), true, true],
  ] as const)('%s %j -> triggered %s, complete %s', (kind, state, triggered, complete) => {
    expect(evaluate(kind, state)).toEqual({ triggered, complete });
  });

  it('with requireChecks, no CI is not green', () => {
    for (const kind of ['pr_checks', 'bugbot_comments', 'review_comments', 'mergeability'] as const)
      expect(evaluate(kind, pr({ ci: 'none', mergeable: true }), true)).toEqual({
        triggered: false,
        complete: false,
      });
    expect(evaluate('pr_checks', pr({ ci: 'success' }), true)).toEqual({ triggered: false, complete: true });
  });
});

describe('watchPlan', () => {
  it('completes a green pr_checks watch', () => {
    expect(watchPlan(watch(), pr({ ci: 'success' }), T0)).toEqual({
      watch: watch({ status: 'done', lastCheckAt: T0, nextDueAt: T0 + 180 * SEC }),
      action: { type: 'none' },
    });
  });

  it('creates one fix task per head commit, snoozing in between', () => {
    const a = watchPlan(watch(), pr({ ci: 'failure', headSha: 'sha1' }), T0);
    expect(a.action).toEqual({ type: 'trigger', action: 'create_fix_task', headSha: 'sha1' });
    expect(a.watch).toMatchObject({ status: 'snoozed', nextDueAt: T0 + 180 * SEC, lastFixSha: 'sha1' });
    const b = watchPlan(a.watch, pr({ ci: 'failure', headSha: 'sha1' }), T0 + 180 * SEC);
    expect(b.action).toEqual({ type: 'none' });
    expect(b.watch).toMatchObject({ status: 'snoozed', nextDueAt: T0 + 360 * SEC, lastFixSha: 'sha1' });
    const c = watchPlan(b.watch, pr({ ci: 'failure', headSha: 'sha2' }), T0 + 360 * SEC);
    expect(c.action).toEqual({ type: 'trigger', action: 'create_fix_task', headSha: 'sha2' });
    expect(c.watch.lastFixSha).toBe('sha2');
  });

  it('dedupes a persistent bugbot comment per commit', () => {
    const w = watch({ kind: 'bugbot_comments', lastFixSha: 'sha1' });
    expect(watchPlan(w, pr({ bugbotComments: 1, headSha: 'sha1' }), T0).action).toEqual({ type: 'none' });
  });

  it('does not dedupe other trigger actions', () => {
    const w = watch({ kind: 'review_comments', onTrigger: 'notify_reviewer', lastFixSha: 'sha1' });
    expect(watchPlan(w, pr({ changesRequested: true, headSha: 'sha1' }), T0).action).toEqual({
      type: 'trigger',
      action: 'notify_reviewer',
      headSha: 'sha1',
    });
  });

  it('keeps checking a pending watch at its interval', () => {
    expect(watchPlan(watch({ failures: 2 }), pr(), T0)).toEqual({
      watch: watch({ lastCheckAt: T0, nextDueAt: T0 + 180 * SEC }),
      action: { type: 'none' },
    });
  });

  it('completes a mergeable watch without running advance_pipeline', () => {
    const r = watchPlan(
      watch({ kind: 'mergeability', onTrigger: 'advance_pipeline' }),
      pr({ mergeable: true, ci: 'success' }),
      T0,
    );
    expect(r.watch.status).toBe('done');
    expect(r.action).toEqual({ type: 'none' });
  });

  it('blocks the item from the 5th consecutive failure, and a success resets the count', () => {
    let w = watch();
    const actions: string[] = [];
    for (let i = 0; i < 6; i++) {
      const r = watchPlan(w, { error: 'gh: 502' }, T0 + i * MIN);
      actions.push(r.action.type);
      w = r.watch;
    }
    expect(actions).toEqual(['none', 'none', 'none', 'none', 'blockItem', 'blockItem']);
    expect(watchPlan(watch({ failures: 4 }), { error: 'gh: 502' }, T0).action).toEqual({
      type: 'blockItem',
      reason: 'watch pr_checks on o/r#5 failed 5 times in a row: gh: 502',
    });
    expect(watchPlan(w, pr(), T0).watch.failures).toBe(0);
    expect(
      watchPlan(watch({ failures: 1 }), { error: 'x' }, T0, { snoozeSecs: 180, maxFailures: 2 }).action.type,
    ).toBe('blockItem');
  });

  it('a merged or closed PR completes every watch, triggers nothing, and tells the item', () => {
    for (const kind of ['pr_checks', 'bugbot_comments', 'review_comments', 'mergeability'] as const) {
      const w = watch({ kind });
      for (const [state, merged] of [
        ['merged', true],
        ['closed', false],
      ] as const) {
        // Failing CI and a bugbot comment on a closed PR: still no fix task.
        const r = watchPlan(w, pr({ state, ci: 'failure', bugbotComments: 1, changesRequested: true }), T0);
        expect(r.action).toEqual({ type: 'prClosed', merged });
        expect(r.watch).toMatchObject({ status: 'done', lastCheckAt: T0 });
      }
    }
  });

  it('no CI completes pr_checks; with requireChecks it stays active and asks the operator', () => {
    expect(watchPlan(watch(), pr({ ci: 'none' }), T0)).toEqual({
      watch: watch({ status: 'done', lastCheckAt: T0, nextDueAt: T0 + 180 * SEC }),
      action: { type: 'none' },
    });
    const cfg = { snoozeSecs: 180, maxFailures: 5, requireChecks: true };
    expect(watchPlan(watch(), pr({ ci: 'none' }), T0, cfg)).toEqual({
      watch: watch({ lastCheckAt: T0, nextDueAt: T0 + 180 * SEC }),
      action: {
        type: 'askOperator',
        reason: 'o/r#5 has no CI (no check runs, no statuses) but github.requireChecks is set',
      },
    });
    const merge = watch({ kind: 'mergeability', onTrigger: 'advance_pipeline' });
    expect(watchPlan(merge, pr({ ci: 'none', mergeable: true }), T0, cfg)).toMatchObject({
      watch: { status: 'active' },
      action: { type: 'none' },
    });
  });

  it('leaves a done watch alone', () => {
    const w = watch({ status: 'done' });
    expect(watchPlan(w, pr({ ci: 'failure' }), T0)).toEqual({ watch: w, action: { type: 'none' } });
  });
});

// ---- submission ----------------------------------------------------------------------------

describe('submission', () => {
  it.each([
    ['implement', true, true],
    ['test', true, true],
    ['design', true, false],
    ['review', true, false],
    ['mergegate', true, false],
    ['followup', true, false],
    ['implement', false, false],
  ] as const)('requiresReview(%s, reviewerRequired %s) = %s', (kind, reviewerRequired, gated) => {
    expect(requiresReview(kind, { reviewerRequired })).toBe(gated);
  });

  it.each([
    ['https://github.com/o/r/pull/12 and o/r#3, o/r#12', ['o/r#3', 'o/r#12']],
    ['see a/b/c#4', []],
    ['issue https://github.com/o/r/issues/3', []],
    ['org-x/repo.js#7.', ['org-x/repo.js#7']],
    ['b/z#1 a/z#2', ['a/z#2', 'b/z#1']],
    ['nothing here #4', []],
    ['on GitHub Enterprise: https://ghe.corp/o/r/pull/2/files', ['o/r#2']],
  ])('extractPrRefs(%j)', (text, refs) => {
    expect(extractPrRefs(text)).toEqual(refs);
  });

  it.each([
    ['o/r#5', { owner: 'o', repo: 'r', number: 5 }],
    ['https://github.com/o/r/pull/5', { owner: 'o', repo: 'r', number: 5 }],
    ['o/r', undefined],
    ['o/r#0', undefined],
    ['https://ghe.corp/o/r/pull/5', { owner: 'o', repo: 'r', number: 5 }],
  ])('parsePrRef(%j)', (ref, parsed) => {
    expect(parsePrRef(ref)).toEqual(parsed);
  });

  const gated = { reviewerRequired: true };
  const open = { reviewerRequired: false };
  it.each([
    [
      'gated, with a PR',
      'implement',
      gated,
      'done: https://github.com/o/r/pull/9',
      { status: 'blocked', watchesFor: ['o/r#9'], needsReview: true, done: false },
    ],
    [
      'not gated, with a PR',
      'implement',
      open,
      'o/r#9',
      { status: 'blocked', watchesFor: ['o/r#9'], needsReview: false, done: false },
    ],
    [
      'gated, no PR',
      'test',
      gated,
      'all green',
      { status: 'blocked', watchesFor: [], needsReview: true, done: false },
    ],
    [
      'not gated, no PR',
      'design',
      gated,
      'wrote docs/x.md',
      { status: 'done', watchesFor: [], needsReview: false, done: true },
    ],
  ] as const)('onWorkSubmitted: %s', (_name, kind, policy, result, outcome) => {
    expect(onWorkSubmitted({ kind, artifacts: [] }, policy, result)).toMatchObject({
      ...outcome,
      reviewerApproved: false,
    });
  });

  it('appends artifacts without duplicates', () => {
    expect(
      onWorkSubmitted({ kind: 'implement', artifacts: ['task:1', 'o/r#9'] }, gated, ' o/r#9 ').artifacts,
    ).toEqual(['task:1', 'o/r#9']);
    expect(
      onWorkSubmitted({ kind: 'implement', artifacts: ['task:1'] }, gated, 'see o/r#9').artifacts,
    ).toEqual(['task:1', 'o/r#9', 'see o/r#9']);
  });

  it.each([
    ['approved: fine', 'approve'],
    ['Rejected: missing tests', 'reject'],
    ['CHANGES REQUESTED: x', 'reject'],
    ['changes requested', 'reject'],
    ['  rejected - no', 'reject'],
    ['looks good, not rejected', 'approve'],
    ['rejectedly fine', 'approve'],
    ['', 'approve'],
  ] as const)('onReviewResult(%j) = %s', (result, verdict) => {
    expect(onReviewResult(result)).toBe(verdict);
  });

  const item = (over: Partial<WorkItem> = {}) => ({
    id: 'i1',
    kind: 'implement' as WorkKind,
    status: 'blocked' as WorkItem['status'],
    artifacts: ['o/r#9'],
    reviewerApproved: true,
    ...over,
  });
  const doneW = { item: 'i1', status: 'done' as const };
  it.each([
    ['approved, watches done', item(), [doneW], gated, true],
    ['no watches', item(), [], gated, true],
    ['a watch still active', item(), [doneW, { item: 'i1', status: 'active' as const }], gated, false],
    ['a snoozed watch', item(), [{ item: 'i1', status: 'snoozed' as const }], gated, false],
    ["another item's watch does not count", item(), [{ item: 'i2', status: 'active' as const }], gated, true],
    ['gated, not approved', item({ reviewerApproved: false }), [], gated, false],
    ['not gated, not approved', item({ reviewerApproved: false }), [], open, true],
    ['nothing to show', item({ reviewerApproved: false, artifacts: [] }), [], open, false],
    ['approval alone', item({ artifacts: [] }), [], gated, true],
    ['not blocked', item({ status: 'running' }), [], gated, false],
  ])('canFinalize: %s', (_name, it_, watches, policy, ok) => {
    expect(canFinalize(it_, watches, policy)).toBe(ok);
  });
});
