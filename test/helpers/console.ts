import type { ConsoleActions } from '../../source/console/actions.js';
import type { CommandContext } from '../../source/console/commands.js';
import { createConsoleStore, initialState, type ConsoleState } from '../../source/console/store.js';
import type { ConsoleSnapshot } from '../../source/services/console.js';
import type { AgentStatus } from '../../source/services/status.js';
import type { Mission, WorkItem } from '../../source/model/mission.js';
import type { Task } from '../../source/model/task.js';

export const NOW = Date.UTC(2026, 10, 21, 10, 0, 0);

export const agent = (name: string, over: Partial<AgentStatus> = {}): AgentStatus => ({
  id: `${name}-0000-4000-8000-000000000000`.slice(0, 36),
  name,
  label: `${name[0]!.toUpperCase()}${name.slice(1)} [${over.role ?? name}]`,
  cli: 'sim',
  state: 'idle',
  inbox: 0,
  rounds: 0,
  tasksCompleted: 0,
  heartbeatAgeMs: 1000,
  ...over,
});

export const task = (id: string, over: Partial<Task> = {}): Task => ({
  id,
  description: `task ${id}`,
  state: 'pending',
  priority: 'normal',
  tags: [],
  createdAt: NOW - 60_000,
  updatedAt: NOW - 60_000,
  attempts: 0,
  maxAttempts: 3,
  ...over,
});

export const mission = (id: string, over: Partial<Mission> = {}): Mission => ({
  id,
  title: `mission ${id}`,
  objectives: [],
  state: 'running',
  policy: { maxParallel: 2, reviewerRequired: true, watchIntervalSecs: 180 },
  createdAt: NOW - 600_000,
  updatedAt: NOW,
  helpAttempts: 0,
  itemsTotal: 2,
  itemsDone: 0,
  ...over,
});

export const item = (id: string, missionId: string, over: Partial<WorkItem> = {}): WorkItem => ({
  id,
  mission: missionId,
  title: `item ${id}`,
  body: '',
  kind: 'implement',
  deps: [],
  caps: [],
  status: 'ready',
  artifacts: [],
  reviewerApproved: false,
  rank: 0,
  createdAt: NOW - 600_000,
  updatedAt: NOW,
  ...over,
});

export const snapshot = (over: Partial<ConsoleSnapshot> = {}): ConsoleSnapshot => ({
  at: NOW,
  town: 'demo',
  endpoint: 'unix:/tmp/demo/.tt/redis.sock',
  agents: [
    agent('ada', { role: 'backend', state: 'working', currentTask: 't1' }),
    agent('bob', { role: 'tester' }),
  ],
  tasks: [
    task('t1', { state: 'running', assignedTo: 'ada-0000-4000-8000-000000000000' }),
    task('t2'),
    task('t3', { state: 'failed', deadReason: 'failed 3 of 3' }),
  ],
  taskCounts: { pending: 1, assigned: 0, running: 1, completed: 5, failed: 1, cancelled: 0 },
  backlog: 1,
  missions: [mission('m1')],
  items: {
    m1: [
      item('i1', 'm1', { status: 'assigned', assignedTo: 'ada-0000-4000-8000-000000000000' }),
      item('i2', 'm1', { rank: 1, status: 'ready' }),
    ],
  },
  help: [
    {
      id: 'h1',
      from: '00000000-0000-0000-0000-000000000001',
      mission: 'm1',
      text: '[Mission Help Needed] Mission m1\nMission m1 has 1 ready work item(s) but no idle agents are available',
      createdAt: NOW - 120_000,
    },
  ],
  ...over,
});

/**
 * Console actions that record every call and answer with its name; an action in `overrides` (read
 * at each call, so a test may change it later) runs instead.
 */
export const recordingActions = (overrides: Partial<ConsoleActions> = {}) => {
  const calls: [string, ...unknown[]][] = [];
  const handler: ProxyHandler<object> = {
    get: (_, name: string) =>
      Object.hasOwn(overrides, name)
        ? overrides[name as keyof ConsoleActions]
        : async (...args: unknown[]) => {
            calls.push([name, ...args]);
            return `${name} done`;
          },
  };
  return { actions: new Proxy({}, handler) as ConsoleActions, calls };
};

/** A store and command context around a snapshot, with recorded actions. */
export const consoleHarness = (
  state: Partial<ConsoleState> = {},
  overrides: Partial<ConsoleActions> = {},
) => {
  const store = createConsoleStore({ ...initialState(), link: 'linked', snapshot: snapshot(), ...state });
  const { actions, calls } = recordingActions(overrides);
  let quits = 0;
  const ctx: CommandContext = {
    store,
    actions,
    now: () => NOW,
    quit: () => void quits++,
    detail: () =>
      store.setState((s) => ({
        ui: { ...s.ui, modal: { kind: 'detail', title: 'detail', lines: [], scroll: 0 } },
      })),
    why: () =>
      store.setState((s) => ({
        ui: { ...s.ui, modal: { kind: 'detail', title: 'why', lines: [], scroll: 0 } },
      })),
  };
  return { store, ctx, calls, quits: () => quits };
};

/** Ink-style key events for tests. */
export const K = {
  enter: { return: true },
  escape: { escape: true },
  tab: { tab: true },
  shiftTab: { tab: true, shift: true },
  down: { downArrow: true },
  up: { upArrow: true },
  end: { end: true },
  backspace: { backspace: true },
  ctrlC: { ctrl: true },
};
