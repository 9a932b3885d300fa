/**
 * console: the operator console under load (T8 heap, T9 frame time, key-to-screen latency).
 *
 * The built ConsoleView (dist/console/view.js) is rendered with Ink's render() into a fake TTY
 * stdout of 120 columns x 40 rows (isTTY true, so Ink draws every frame as on a terminal) with the
 * options tt's console uses (maxFps 60, no incremental rendering, the colour theme with colour
 * forced on as on a terminal). React's build is the one NODE_ENV selects; tt's console sets
 * production when NODE_ENV is unset, and so does this bench. The store (dist/console/store.js) holds a snapshot of 1,000 agents,
 * 10,000 tasks (twice what consoleSnapshot sends at most, SNAPSHOT_TASKS) and 20 missions of 20
 * work items, and 100,000 events pass through appendEvents: most of them before the view mounts
 * (the ring keeps the newest 10,000), the rest while it runs, at 1,000/s in batches flushed every
 * 80 ms, as the console's adapter does. A fresh snapshot object
 * (new records for every agent and task) replaces the old one every 2 s, as the adapter's
 * snapshot loop does, and a timer touches the store once a second, as the console's App does.
 *
 * Keys go to a fake stdin (a stream, so they arrive asynchronously as from a terminal) through
 * handleKey, as in the console: focus a pane (2, 1, 4, 3), move the selection (j, k, G, g), open
 * a filter (/), type into it, clear it (escape); the task queue's selection goes to its last row
 * and back. Each key's latency runs from the write to the first frame written to stdout whose
 * text shows its effect (the focus marker, the "N of M" position, the filter in the pane title,
 * follow/paused in the events pane).
 *
 * Frame time: React 19 renders a store update in a microtask after setState. A wrapper App (the
 * console's App: keys and the once-a-second tick) subscribes to the store, so each update's time
 * runs from the start of its render to the end of its commit: React's render and commit, Yoga
 * layout, passive effects, and Ink's output when its throttle lets the frame out at once. Each
 * frame Ink renders (onRender) is charged with the updates since the previous frame plus its own
 * output time (renderTime). Everything runs in this process: no Redis, no dispatcher.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { ConsoleActions } from '../source/console/actions.js';
import type { CommandContext } from '../source/console/commands.js';
import type { ConsoleState, ConsoleStore } from '../source/console/store.js';
import type { TownEvent } from '../source/model/event.js';
import type { Mission, WorkItem } from '../source/model/mission.js';
import type { Task } from '../source/model/task.js';
import type { ConsoleSnapshot, HelpPrompt } from '../source/services/console.js';
import type { AgentStatus } from '../source/services/status.js';
import { backgroundBusyPct, machineFacts } from './lib/machine.js';
import { sleep } from './lib/session.js';
import { percentile, round } from './lib/stats.js';
import { fixed, int, table } from './lib/table.js';
import type { Benchmark, BenchOptions, BenchResult } from './lib/types.js';

interface Params {
  agents: number;
  tasks: number;
  missions: number;
  itemsPerMission: number;
  /** Events that pass through appendEvents in all (before the view mounts and while it runs). */
  events: number;
  /** Events per second while the view runs. */
  rate: number;
  /** The adapter's flush interval. */
  flushMs: number;
  /** A fresh snapshot this often (the adapter's snapshot loop). */
  snapshotMs: number;
  /** How long the view runs under load, measured. */
  liveSec: number;
  /** Unmeasured seconds under load first (JIT warm-up). */
  warmupSec: number;
  /** A key this often (after the previous one showed, or timed out). */
  keyEveryMs: number;
  /** A key that has not shown after this long counts as missed. */
  keyTimeoutMs: number;
  columns: number;
  rows: number;
  /** Ink's maxFps, as dist/console/run.js renders with. */
  maxFps: number;
}

const FULL: Params = {
  agents: 1000,
  tasks: 10_000,
  missions: 20,
  itemsPerMission: 20,
  events: 100_000,
  rate: 1000,
  flushMs: 80,
  snapshotMs: 2000,
  liveSec: 30,
  warmupSec: 3,
  keyEveryMs: 400,
  keyTimeoutMs: 2000,
  columns: 120,
  rows: 40,
  maxFps: 60,
};
const QUICK: Params = { ...FULL, liveSec: 4, warmupSec: 1, keyEveryMs: 250 };

const TARGET_FRAME_P95_MS = 16;
const TARGET_HEAP_MB = 150;
const TARGET_KEY_P95_MS = 50;

const MB = 1024 * 1024;
const NOW0 = Date.now();

// ---------------------------------------------------------------------------------------------
// Realistic records, shaped like test/helpers/console.ts and what consoleSnapshot returns.

const ROLES = ['backend', 'frontend', 'tester', 'reviewer', 'docs', undefined] as const;
const NAMES = [
  'ada',
  'bob',
  'cy',
  'dee',
  'eve',
  'finn',
  'gus',
  'hal',
  'ivy',
  'jo',
  'kai',
  'lu',
  'max',
  'ned',
  'oz',
  'pia',
];
const VERBS = ['Implement', 'Fix', 'Review', 'Test', 'Refactor', 'Document', 'Benchmark', 'Port'];
const THINGS = [
  'the lease renewal',
  'retry backoff',
  'the events pane filter',
  'mission notes',
  'agent heartbeats',
  'the backlog claim script',
  'snapshot reads',
  'the help prompt flow',
  'dead letters',
  'config loading',
];

const uuid = (prefix: number, n: number) =>
  `${prefix.toString(16).padStart(8, '0')}-${(n >>> 16).toString(16).padStart(4, '0')}-4${(n & 0xfff).toString(16).padStart(3, '0')}-8000-${n.toString(16).padStart(12, '0')}`;

const makeAgent = (i: number, taskId: string | undefined): AgentStatus => {
  const name = `${NAMES[i % NAMES.length]}-${String(i).padStart(4, '0')}`;
  const role = ROLES[i % ROLES.length];
  const state: AgentStatus['state'] = taskId
    ? 'working'
    : i % 97 === 0
      ? 'error'
      : i % 31 === 0
        ? 'paused'
        : i % 53 === 0
          ? 'stopped'
          : 'idle';
  return {
    id: uuid(0xa9e47, i),
    name,
    label: `${name[0]!.toUpperCase()}${name.slice(1)} [${role ?? 'generalist'}]`,
    ...(role ? { role } : {}),
    cli: i % 3 ? 'claude' : 'sim',
    state,
    inbox: i % 5,
    ...(taskId ? { currentTask: taskId } : {}),
    heartbeatAgeMs: (i * 137) % 9000,
    rounds: i % 40,
    tasksCompleted: (i * 7) % 300,
  };
};

const makeTask = (i: number, agentId: string | undefined): Task => {
  const state: Task['state'] = agentId
    ? i % 2
      ? 'running'
      : 'assigned'
    : i % 50 === 0
      ? 'failed'
      : 'pending';
  return {
    id: uuid(0x7a5c, i),
    description: `${VERBS[i % VERBS.length]} ${THINGS[i % THINGS.length]} (#${i})\nSee the mission notes; keep the change small and add a test for it.`,
    state,
    priority: i % 41 === 0 ? 'critical' : i % 7 === 0 ? 'high' : i % 5 === 0 ? 'low' : 'normal',
    tags: i % 3 ? ['console', `area-${i % 9}`] : [],
    ...(agentId ? { assignedTo: agentId, startedAt: NOW0 - (i % 600) * 1000 } : {}),
    createdAt: NOW0 - 3_600_000 + i * 300,
    updatedAt: NOW0 - (i % 600) * 1000,
    attempts: state === 'failed' ? 3 : i % 3,
    maxAttempts: 3,
    ...(state === 'failed' ? { deadReason: 'failed 3 of 3', lastError: 'exit code 1' } : {}),
  };
};

const makeMission = (m: number, items: number): Mission => ({
  id: uuid(0x3155, m),
  title: `${VERBS[m % VERBS.length]} ${THINGS[m % THINGS.length]}, phase ${m + 1}`,
  objectives: [],
  state: m % 7 === 3 ? 'blocked' : 'running',
  policy: { maxParallel: 4, reviewerRequired: true, watchIntervalSecs: 180 },
  createdAt: NOW0 - 7_200_000,
  updatedAt: NOW0,
  lastTickAt: NOW0 - 1000,
  lastTick: 400 + m,
  nextWakeAt: NOW0 + 5000,
  helpAttempts: 0,
  itemsTotal: items,
  itemsDone: Math.floor(items / 3),
});

const makeItem = (mission: Mission, k: number, agentId: string | undefined): WorkItem => {
  const statuses: WorkItem['status'][] = [
    'done',
    'done',
    'assigned',
    'running',
    'ready',
    'pending',
    'blocked',
  ];
  const status = statuses[k % statuses.length]!;
  return {
    id: uuid(0x17e3, Number.parseInt(mission.id.slice(-6), 16) * 1000 + k),
    mission: mission.id,
    title: `${VERBS[(k + 3) % VERBS.length]} ${THINGS[(k + 5) % THINGS.length]}`,
    body: '',
    kind: k % 5 === 4 ? 'review' : 'implement',
    deps: k % 4 === 0 || k === 0 ? [] : [`dep-${k - 1}`],
    caps: [],
    status,
    ...((status === 'assigned' || status === 'running') && agentId ? { assignedTo: agentId } : {}),
    artifacts: [],
    reviewerApproved: false,
    rank: k,
    createdAt: NOW0 - 7_000_000,
    updatedAt: NOW0,
  };
};

const makeSnapshot = (p: Params, generation: number, prev?: ConsoleSnapshot): ConsoleSnapshot => {
  if (prev) {
    // What the next read returns: new records for everything, a few fields moved on (fields the
    // panes show but that do not move rows, so a key's expected position stays predictable).
    return {
      ...prev,
      at: Date.now(),
      agents: prev.agents.map((a, i) => ({
        ...a,
        heartbeatAgeMs: ((i + generation) * 137) % 9000,
        inbox: (i + generation) % 5,
        rounds: a.rounds + (i % 3 === 0 ? 1 : 0),
      })),
      tasks: prev.tasks.map((t, i) => ({
        ...t,
        tags: [...t.tags],
        ...(i % 10 === generation % 10 ? { updatedAt: Date.now(), attempts: (t.attempts + 1) % 3 } : {}),
      })),
      missions: prev.missions.map((m) => ({
        ...m,
        lastTickAt: Date.now() - 500,
        lastTick: (m.lastTick ?? 0) + 1,
      })),
      items: Object.fromEntries(Object.entries(prev.items).map(([k, v]) => [k, v.map((x) => ({ ...x }))])),
      help: prev.help.map((h) => ({ ...h })),
    };
  }
  const working = Math.floor(p.agents * 0.6);
  const taskOf = (i: number) => (i < working ? uuid(0x7a5c, i * Math.floor(p.tasks / working)) : undefined);
  const agents = Array.from({ length: p.agents }, (_, i) => makeAgent(i, taskOf(i)));
  const holder = new Map<number, string>();
  for (let i = 0; i < working; i++) holder.set(i * Math.floor(p.tasks / working), agents[i]!.id);
  const tasks = Array.from({ length: p.tasks }, (_, i) => makeTask(i, holder.get(i)));
  const missions = Array.from({ length: p.missions }, (_, m) => makeMission(m, p.itemsPerMission));
  const items = Object.fromEntries(
    missions.map((m, mi) => [
      m.id,
      Array.from({ length: p.itemsPerMission }, (_, k) =>
        makeItem(m, k, agents[(mi * p.itemsPerMission + k) % working]!.id),
      ),
    ]),
  );
  const help: HelpPrompt[] = missions
    .filter((m) => m.state === 'blocked')
    .map((m, i) => ({
      id: uuid(0x4e1b, i),
      from: agents[i]!.id,
      mission: m.id,
      text: `[Mission Help Needed] Mission ${m.id}\nMission ${m.title} has 3 ready work item(s) but no idle agents are available`,
      createdAt: NOW0 - 120_000 * (i + 1),
    }));
  const count = (st: Task['state']) => tasks.filter((t) => t.state === st).length;
  return {
    at: NOW0,
    town: 'bench',
    endpoint: 'unix:/tmp/bench/.tt/redis.sock',
    agents,
    tasks,
    taskCounts: {
      pending: count('pending'),
      assigned: count('assigned'),
      running: count('running'),
      completed: 48_211,
      failed: count('failed'),
      cancelled: 12,
    },
    backlog: count('pending'),
    missions,
    items,
    help,
  };
};

/** The town's event stream: what a busy town writes, in the adapter's shape. */
const eventSource = (snap: ConsoleSnapshot) => {
  let seq = 0;
  const working = snap.agents.filter((a) => a.currentTask);
  const types = [
    'task.assigned',
    'task.started',
    'task.completed',
    'agent.state',
    'message.sent',
    'mission.item',
    'backlog.claimed',
    'task.completed',
    'task.retry',
    'agent.state',
  ];
  return (ts: number): TownEvent => {
    const n = seq++;
    const a = working[n % working.length]!;
    const type = types[n % types.length]!;
    const id = `${ts}-${n}`;
    switch (type) {
      case 'agent.state':
        return { id, type, ts, agent: a.id, prev: 'idle', state: 'working' };
      case 'message.sent':
        return {
          id,
          type,
          ts,
          agent: a.id,
          from: 'supervisor',
          to: a.id,
          text: 'review the retry backoff change before merging',
        };
      case 'mission.item': {
        const m = snap.missions[n % snap.missions.length]!;
        return {
          id,
          type,
          ts,
          mission: m.id,
          state: 'running',
          prev: 'assigned',
          text: `item ${n % 20} picked up by ${a.name}`,
        };
      }
      case 'task.retry':
        return {
          id,
          type,
          ts,
          agent: a.id,
          task: a.currentTask!,
          state: 'pending',
          prev: 'running',
          text: 'attempt 2 of 3 after exit code 1',
        };
      default:
        return {
          id,
          type,
          ts,
          agent: a.id,
          task: a.currentTask!,
          ...(type === 'task.completed'
            ? { state: 'completed', prev: 'running', text: 'done in 41 s' }
            : { state: type === 'task.started' ? 'running' : 'assigned' }),
        };
    }
  };
};

// ---------------------------------------------------------------------------------------------
// Fake terminal and frame reading.

const BSU = '\u001b[?2026h';
const ESU = '\u001b[?2026l';

const ANSI = /\u001b\[[0-9;?]*[ -/]*[@-~]|\u001b[78]/g;

interface Pane {
  focused: boolean;
  title: string;
  position: { at: number; of: number } | undefined;
}

/** A pane of a frame by its title ("2 Task queue"), read back from the text between its borders. */
const paneOf = (lines: string[], title: string): Pane | undefined => {
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const c = line.indexOf(title);
    if (c < 0) continue;
    const x0 = line.lastIndexOf('|', c);
    const x1 = line.indexOf('|', c);
    if (x0 < 0 || x1 < 0) continue;
    let k = i;
    while (k + 1 < lines.length && lines[k + 1]![x0] === '|') k++;
    const titleLine = line.slice(x0 + 1, x1);
    const m = /(\d+) of (\d+)\s*$/.exec(lines[k]!.slice(x0 + 1, x1));
    return {
      focused: titleLine.startsWith('>'),
      title: titleLine.trim(),
      position: m ? { at: Number(m[1]), of: Number(m[2]) } : undefined,
    };
  }
  return undefined;
};

interface KeyStep {
  key: string;
  label: string;
  /** From the frame before the key, a test of the frames after it. */
  expect(before: string[]): ((after: string[]) => boolean) | undefined;
}

const focusStep = (digit: string, title: string): KeyStep => ({
  key: digit,
  label: `${digit} (focus ${title})`,
  expect: () => (f) => paneOf(f, `${digit} ${title}`)?.focused === true,
});
const moveStep = (digit: string, title: string): KeyStep => ({
  key: 'j',
  label: `j (move down in ${title})`,
  expect: (before) => {
    const p = paneOf(before, `${digit} ${title}`)?.position;
    if (!p || p.at >= p.of) return undefined;
    return (f) => paneOf(f, `${digit} ${title}`)?.position?.at === p.at + 1;
  },
});
const jumpStep = (key: 'G' | 'g', digit: string, title: string): KeyStep => ({
  key,
  label: `${key} (${key === 'G' ? 'last' : 'first'} row of ${title})`,
  expect: () => (f) => {
    const p = paneOf(f, `${digit} ${title}`)?.position;
    return p !== undefined && p.at === (key === 'G' ? p.of : 1);
  },
});
const titleStep = (
  key: string,
  label: string,
  digit: string,
  title: string,
  test: (t: string) => boolean,
): KeyStep => ({ key, label, expect: () => (f) => test(paneOf(f, `${digit} ${title}`)?.title ?? '') });

/** The keys, in a cycle: each leaves the console where the next expects it. */
const STEPS: KeyStep[] = [
  focusStep('2', 'Task queue'),
  moveStep('2', 'Task queue'),
  jumpStep('G', '2', 'Task queue'),
  titleStep('/', '/ (open the filter)', '2', 'Task queue', (t) => t.includes('/_')),
  titleStep('e', 'e (type into the filter, 10,000 tasks)', '2', 'Task queue', (t) => t.includes('/e_')),
  titleStep('\u001b', 'escape (clear the filter)', '2', 'Task queue', (t) => !t.includes('/')),
  jumpStep('g', '2', 'Task queue'),
  focusStep('1', 'Agents'),
  moveStep('1', 'Agents'),
  focusStep('4', 'Events'),
  titleStep('k', 'k (events: stop following)', '4', 'Events', (t) => t.includes('(paused')),
  titleStep('G', 'G (events: follow again)', '4', 'Events', (t) => t.includes('(follow)')),
  focusStep('3', 'Missions'),
  moveStep('3', 'Missions'),
];

// ---------------------------------------------------------------------------------------------

const collectGarbage = (): (() => void) | undefined => {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) return g;
  try {
    setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as () => void;
  } catch {
    return undefined;
  }
};

const inkVersion = (): string => {
  try {
    const entry = fileURLToPath(import.meta.resolve('ink'));
    return (
      JSON.parse(readFileSync(join(dirname(entry), '..', 'package.json'), 'utf8')) as { version: string }
    ).version;
  } catch {
    return '?';
  }
};

interface Dist {
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
  count: number;
}

const dist = (xs: number[]): Dist => {
  const s = Float64Array.from(xs).sort();
  let sum = 0;
  for (const x of s) sum += x;
  return {
    p50: round(percentile(s, 50)),
    p95: round(percentile(s, 95)),
    p99: round(percentile(s, 99)),
    max: round(s.length ? s[s.length - 1]! : Number.NaN),
    mean: round(s.length ? sum / s.length : Number.NaN),
    count: s.length,
  };
};

interface KeyResult {
  label: string;
  ms: number | undefined;
}

const runConsoleBench = async (p: Params, opts: BenchOptions) => {
  const problems: string[] = [];
  const gc = collectGarbage();
  const heapNow = () => {
    gc?.();
    return process.memoryUsage();
  };
  const heapBaseline = heapNow();

  // Ink reads CI when it loads and then writes only a last frame; tt's console drops these on a
  // terminal, so does this benchmark. Colour: forced on, as on a terminal (chalk reads it on load).
  for (const k of ['CI', 'CONTINUOUS_INTEGRATION', 'BUILD_NUMBER', 'RUN_ID']) delete process.env[k];
  const forcedColour = process.env.FORCE_COLOR === undefined;
  if (forcedColour) process.env.FORCE_COLOR = '1';
  process.env.NODE_ENV ??= 'production';
  const { render, useInput } = await import('ink');
  const React = await import('react');
  const { ConsoleView } = await import('../source/console/view.js');
  const { appendEvents, ageThroughput, createConsoleStore, initialState, SPARK_BUCKET_MS } =
    await import('../source/console/store.js');
  const { handleKey } = await import('../source/console/keys.js');
  const { detailOf, whyOf } = await import('../source/console/detail.js');
  const { COLOR } = await import('../source/console/theme.js');
  const { useStore } = await import('zustand');

  // The data.
  let snap = makeSnapshot(p, 0);
  const nextEvent = eventSource(snap);
  const store: ConsoleStore = createConsoleStore({
    ...initialState({ size: { columns: p.columns, rows: p.rows } }),
    link: 'linked',
    snapshot: snap,
  });
  const live = p.rate * (p.liveSec + p.warmupSec);
  const preload = Math.max(0, p.events - live);
  {
    // Before the view mounts: the events of the town's past, in the adapter's batches.
    const perBatch = Math.max(1, Math.round((p.rate * p.flushMs) / 1000));
    const start = Date.now() - Math.ceil(preload / p.rate) * 1000;
    let fed = 0;
    while (fed < preload) {
      const n = Math.min(perBatch, preload - fed);
      const ts = start + Math.floor((fed / p.rate) * 1000);
      const batch = Array.from({ length: n }, () => nextEvent(ts));
      store.setState((s: ConsoleState) => appendEvents(s, batch, ts));
      fed += n;
    }
  }
  const heapData = heapNow();

  // The terminal.
  let frameBytes = 0;
  let framesWritten = 0;
  let lastFrame = '';
  let onFrame: ((t: number, text: string) => void) | undefined;
  const stdout = Object.assign(new PassThrough(), {
    isTTY: true,
    columns: p.columns,
    rows: p.rows,
  });
  stdout.write = ((chunk: string) => {
    if (chunk === BSU || chunk === ESU || chunk.length < 16) return true;
    const t = performance.now();
    framesWritten++;
    frameBytes += chunk.length;
    lastFrame = chunk;
    onFrame?.(t, chunk);
    return true;
  }) as typeof stdout.write;
  const stdin = Object.assign(new PassThrough(), {
    isTTY: true,
    setRawMode: () => stdin,
    ref: () => stdin,
    unref: () => stdin,
  });
  const textOf = (raw: string) => raw.replace(ANSI, '').split('\n');

  // Frame accounting. React 19 renders a store update in a microtask after setState; the App
  // below subscribes to the store too, so its body is the first code of every such render and
  // its effects the last of the commit (layout, Ink's Yoga layout and, when the throttle lets it,
  // Ink's output; then passive effects, where React's development build does its own logging).
  // Each frame Ink renders is charged with the updates since the previous frame plus its output.
  let measuring = false;
  let inRender = false;
  let committing = false;
  let renderStart = 0;
  let renderedInCommit: number | undefined;
  let pendingUpdateMs = 0;
  const frameMs: number[] = [];
  const updateMs: number[] = [];
  const outputMs: number[] = [];
  let framesRendered = 0;
  // What caused the update being rendered: set by whoever calls setState (a key: its handler).
  type Cause = 'events' | 'snapshot' | 'tick' | 'key';
  let cause: Cause = 'key';
  let renderCause: Cause = 'key';
  const updatesBy: Record<Cause, number[]> = { events: [], snapshot: [], tick: [], key: [] };
  const renderBegins = () => {
    if (inRender) return;
    inRender = true;
    renderStart = performance.now();
    renderedInCommit = undefined;
    renderCause = cause;
    cause = 'key';
  };
  const commitEnds = (end: number) => {
    if (!committing) return;
    committing = false;
    inRender = false;
    if (!measuring) return;
    const dt = end - renderStart;
    updatesBy[renderCause].push(renderedInCommit !== undefined ? dt - renderedInCommit : dt);
    if (renderedInCommit !== undefined) {
      updateMs.push(dt - renderedInCommit);
      frameMs.push(pendingUpdateMs + dt);
      pendingUpdateMs = 0;
    } else {
      updateMs.push(dt);
      pendingUpdateMs += dt;
    }
  };
  const onRender = ({ renderTime }: { renderTime: number }) => {
    if (!measuring) return;
    framesRendered++;
    outputMs.push(renderTime);
    if (inRender) renderedInCommit = renderTime;
    else {
      frameMs.push(pendingUpdateMs + renderTime);
      pendingUpdateMs = 0;
    }
  };

  // The console's App, as in dist/console/run.js: keys one after another through handleKey, and
  // a tick a second so ages move.
  const actions = new Proxy({}, { get: () => async () => 'ok' }) as ConsoleActions;
  const ctx: CommandContext = {
    store,
    actions,
    now: () => Date.now(),
    quit: () => undefined,
    detail: () => {
      const m = detailOf(store.getState());
      if (m) store.setState((s: ConsoleState) => ({ ui: { ...s.ui, modal: m } }));
    },
    why: () => {
      const m = whyOf(store.getState());
      if (m) store.setState((s: ConsoleState) => ({ ui: { ...s.ui, modal: m } }));
    },
  };
  const App = () => {
    useStore(store);
    renderBegins();
    const queue = React.useRef(Promise.resolve());
    useInput((input, key) => {
      queue.current = queue.current
        .then(() => handleKey(ctx, input, key).then(() => undefined))
        .catch((e: unknown) => void problems.push(`key ${JSON.stringify(input)}: ${(e as Error).message}`));
    });
    React.useEffect(() => {
      const timer = setInterval(() => {
        cause = 'tick';
        store.setState({});
      }, 1000);
      return () => clearInterval(timer);
    }, []);
    React.useLayoutEffect(() => {
      const at = performance.now();
      committing = true;
      // Passive effects of a sync render run before this microtask; if not, the commit ends here.
      queueMicrotask(() => commitEnds(at));
    });
    React.useEffect(() => commitEnds(performance.now()));
    return React.createElement(ConsoleView, { store, theme: COLOR, now: () => Date.now() });
  };

  const m0 = performance.now();
  const app = render(React.createElement(App), {
    stdout: stdout as unknown as NodeJS.WriteStream,
    stdin: stdin as unknown as NodeJS.ReadStream,
    exitOnCtrlC: false,
    patchConsole: false,
    maxFps: p.maxFps,
    incrementalRendering: false,
    onRender,
  });
  const mountMs = performance.now() - m0;
  if (!lastFrame) problems.push('no frame was written on mount');
  const colour = /\u001b\[3\dm/.test(lastFrame);
  opts.progress(
    `console: mounted in ${fixed(mountMs, 1)} ms; ${int(p.agents)} agents, ${int(p.tasks)} tasks, ${int(preload)} events before mount; ${p.liveSec + p.warmupSec} s at ${int(p.rate)} events/s`,
  );

  // The load: events every flushMs, a new snapshot every snapshotMs.
  let sent = preload;
  const liveStart = Date.now();
  let lastBucket = Math.floor(liveStart / SPARK_BUCKET_MS);
  let liveSent = 0;
  const flush = setInterval(() => {
    const now = Date.now();
    const due = Math.min(live, Math.floor(((now - liveStart) / 1000) * p.rate)) - liveSent;
    const bucket = Math.floor(now / SPARK_BUCKET_MS);
    if (due <= 0 && bucket === lastBucket) return;
    const batch = Array.from({ length: Math.max(0, due) }, () => nextEvent(now));
    liveSent += batch.length;
    sent += batch.length;
    const shift = bucket - lastBucket;
    lastBucket = bucket;
    cause = 'events';
    store.setState((s: ConsoleState) => {
      const aged = shift > 0 ? { ...s, throughput: ageThroughput(s.throughput, shift) } : s;
      return { ...(shift > 0 ? { throughput: aged.throughput } : {}), ...appendEvents(aged, batch, now) };
    });
  }, p.flushMs);
  let generation = 0;
  const snapshots = setInterval(() => {
    snap = makeSnapshot(p, ++generation, snap);
    cause = 'snapshot';
    store.setState({ snapshot: snap });
  }, p.snapshotMs);

  // Heap and RSS sampled through the run (no GC forced while measuring).
  let heapPeak = 0;
  let rssPeak = 0;
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    heapPeak = Math.max(heapPeak, m.heapUsed);
    rssPeak = Math.max(rssPeak, m.rss);
  }, 250);

  await sleep(p.warmupSec * 1000);

  // Measured part, from a collected heap.
  const heapWarm = heapNow();
  measuring = true;
  const elDelay = monitorEventLoopDelay({ resolution: 10 });
  elDelay.enable();
  const elu0 = performance.eventLoopUtilization();
  const written0 = framesWritten;
  const bytes0 = frameBytes;
  const t0 = performance.now();
  const sent0 = sent;
  const keys: KeyResult[] = [];
  const end = t0 + p.liveSec * 1000;
  let step = 0;
  while (performance.now() < end - p.keyTimeoutMs / 4) {
    await sleep(p.keyEveryMs);
    const s = STEPS[step % STEPS.length]!;
    step++;
    const test = s.expect(textOf(lastFrame));
    if (!test) continue;
    const shown = new Promise<number | undefined>((resolve) => {
      let done = false;
      const sentAt = performance.now();
      const timer = setTimeout(() => {
        done = true;
        onFrame = undefined;
        resolve(undefined);
      }, p.keyTimeoutMs);
      // Read the frame after Ink has finished with it, so the reading is not charged to a frame.
      onFrame = (t, raw) =>
        setImmediate(() => {
          if (done || !test(textOf(raw))) return;
          done = true;
          clearTimeout(timer);
          onFrame = undefined;
          resolve(t - sentAt);
        });
      stdin.write(s.key);
    });
    const ms = await shown;
    keys.push({ label: s.label, ms });
    if (ms === undefined) {
      problems.push(`key ${s.label} did not show within ${p.keyTimeoutMs} ms`);
      await sleep(p.keyTimeoutMs); // let the console settle before the next key
    }
  }
  if (performance.now() < end) await sleep(end - performance.now());
  const wallMs = performance.now() - t0;
  measuring = false;
  const elu = performance.eventLoopUtilization(elu0);
  elDelay.disable();
  const written = framesWritten - written0;
  const bytes = frameBytes - bytes0;
  const liveEvents = sent - sent0;

  clearInterval(flush);
  clearInterval(snapshots);
  clearInterval(sampler);
  const heapEnd = heapNow();
  app.unmount();
  stdin.destroy();
  const state = store.getState();
  if (state.eventsTotal !== sent) problems.push(`store saw ${state.eventsTotal} events, ${sent} were sent`);
  if (state.events.length > 10_000) problems.push(`the event ring holds ${state.events.length} events`);

  const keyMs = keys.flatMap((k) => (k.ms === undefined ? [] : [k.ms]));
  const byKey: Record<string, Dist & { missed: number }> = {};
  for (const s of STEPS) {
    const mine = keys.filter((k) => k.label === s.label);
    if (mine.length)
      byKey[s.label] = {
        ...dist(mine.flatMap((k) => (k.ms === undefined ? [] : [k.ms]))),
        missed: mine.filter((k) => k.ms === undefined).length,
      };
  }
  return {
    problems,
    colour,
    forcedColour,
    gc: gc !== undefined,
    mountMs: round(mountMs),
    wallMs,
    preload,
    liveEvents,
    eventsTotal: state.eventsTotal,
    ring: state.events.length,
    frames: {
      rendered: framesRendered,
      written,
      writtenPerSec: round(written / (wallMs / 1000)),
      renderedPerSec: round(framesRendered / (wallMs / 1000)),
      bytesPerFrame: round(written ? bytes / written : Number.NaN),
      frameMs: dist(frameMs),
      updateMs: dist(updateMs),
      outputMs: dist(outputMs),
      updates: updateMs.length,
      /** Update time by what caused it: an events batch, a new snapshot, the once-a-second tick, a key. */
      updateMsBy: Object.fromEntries(Object.entries(updatesBy).map(([k, v]) => [k, dist(v)])) as Record<
        Cause,
        Dist
      >,
    },
    mainThreadBusyPct: round(elu.utilization * 100),
    eventLoopDelayP99Ms: round(elDelay.percentile(99) / 1e6),
    heap: {
      baselineMB: round(heapBaseline.heapUsed / MB),
      withDataMB: round(heapData.heapUsed / MB),
      /** After the warm-up, the view mounted and running: where the measured part starts. */
      startMB: round(heapWarm.heapUsed / MB),
      endMB: round(heapEnd.heapUsed / MB),
      /** Heap kept (after GC) per minute of running and per 100,000 events arriving, over the measured part. */
      growthMBPerMin: round((heapEnd.heapUsed - heapWarm.heapUsed) / MB / (wallMs / 60_000)),
      growthMBPer100kEvents: round(
        ((heapEnd.heapUsed - heapWarm.heapUsed) / MB) * (100_000 / Math.max(1, liveEvents)),
      ),
      peakSampledMB: round(heapPeak / MB),
      rssEndMB: round(heapEnd.rss / MB),
      rssPeakMB: round(rssPeak / MB),
      /** performance.measure entries held by the process (React's development build adds one per component render). */
      measureEntries: performance.getEntriesByType('measure').length,
    },
    keys: {
      sent: keys.length,
      shown: keyMs.length,
      missed: keys.length - keyMs.length,
      latencyMs: dist(keyMs),
      byKey,
    },
  };
};

export const consoleBench: Benchmark = {
  name: 'console',
  summary:
    'the console rendered by Ink into a 120x40 fake TTY: 1,000 agents, 10,000 tasks, 100,000 events at 1,000/s (frame time p50/p95, heap, key-to-screen latency)',
  async run(opts: BenchOptions): Promise<BenchResult> {
    const p = opts.quick ? QUICK : FULL;
    const started = Date.now();
    const idleBusy = await backgroundBusyPct(opts.quick ? 200 : 1000);
    const r = await runConsoleBench(p, opts);
    const heapMB = r.heap.endMB;
    const targets = {
      frameP95Ms: {
        want: `< ${TARGET_FRAME_P95_MS}`,
        got: r.frames.frameMs.p95,
        met: r.frames.frameMs.p95 < TARGET_FRAME_P95_MS,
      },
      heapMB: {
        want: `< ${TARGET_HEAP_MB} (heap used after GC at the end, everything loaded)`,
        got: heapMB,
        met: heapMB < TARGET_HEAP_MB,
      },
      keyToScreenP95Ms: {
        want: `< ${TARGET_KEY_P95_MS}`,
        got: r.keys.latencyMs.p95,
        met: r.keys.missed === 0 && r.keys.latencyMs.p95 < TARGET_KEY_P95_MS,
      },
    };
    const reactBuild = process.env.NODE_ENV === 'production' ? 'production' : 'development';
    const setup = {
      ...machineFacts(),
      backgroundCpuPct: round(idleBusy),
      terminal: `${p.columns}x${p.rows} fake TTY (isTTY true, columns ${p.columns}, rows ${p.rows}); the console draws ${p.rows - 1} rows`,
      ink: inkVersion(),
      reactBuild: `${reactBuild} (NODE_ENV ${process.env.NODE_ENV}; tt's console sets production when unset)`,
      renderOptions: {
        maxFps: p.maxFps,
        incrementalRendering: false,
        exitOnCtrlC: false,
        patchConsole: false,
      },
      colour: r.colour
        ? `on (${r.forcedColour ? 'FORCE_COLOR=1 set by the benchmark' : `FORCE_COLOR=${process.env.FORCE_COLOR}`}), theme COLOR`
        : 'off (frames carry no SGR codes)',
      data: {
        agents: p.agents,
        tasks: p.tasks,
        missions: p.missions,
        workItems: p.missions * p.itemsPerMission,
        events: r.eventsTotal,
        eventsBeforeMount: r.preload,
        eventsWhileRunning: r.liveEvents,
        ring: r.ring,
      },
      load: { eventsPerSec: p.rate, flushMs: p.flushMs, snapshotEveryMs: p.snapshotMs, tickEveryMs: 1000 },
      run: {
        warmupSec: p.warmupSec,
        measuredSec: round(r.wallMs / 1000),
        keyEveryMs: p.keyEveryMs,
        keyTimeoutMs: p.keyTimeoutMs,
      },
      frameClock:
        "each store update from the start of its React render to the end of its commit (React render + commit + Yoga layout + passive effects), charged to the next frame Ink renders, plus that frame's onRender renderTime",
      keyClock: 'stdin.write of the key .. the first frame written to stdout whose text shows its effect',
      heapClock: r.gc
        ? 'process.memoryUsage() after a forced GC (v8 --expose-gc): before the data, with it, after the warm-up and at the end; peak sampled every 250 ms without GC'
        : 'sampled every 250 ms (no GC available)',
    };
    const json = {
      benchmark: 'console',
      quick: opts.quick,
      startedAt: new Date(started).toISOString(),
      durationSec: round((Date.now() - started) / 1000),
      setup,
      mountMs: r.mountMs,
      frames: r.frames,
      mainThreadBusyPct: r.mainThreadBusyPct,
      eventLoopDelayP99Ms: r.eventLoopDelayP99Ms,
      heap: r.heap,
      keys: r.keys,
      targets,
      problems: r.problems,
    };
    const met = (x: { met: boolean }) => (x.met ? 'met' : 'NOT met');
    const f = r.frames;
    const lines = [
      `console: ConsoleView in Ink ${setup.ink} (maxFps ${p.maxFps}, not incremental), React ${reactBuild} build, node ${setup.node}, ${setup.cpus} x ${setup.cpuModel}`,
      `terminal: ${setup.terminal}; colour ${r.colour ? 'on' : 'off'}` +
        (opts.quick ? ' (--quick: a smoke check, figures not meaningful)' : ''),
      `data: ${int(p.agents)} agents, ${int(p.tasks)} tasks, ${p.missions} missions x ${p.itemsPerMission} items; ${int(r.eventsTotal)} events through appendEvents (${int(r.preload)} before mount, ${int(r.liveEvents)} while running at ${int(p.rate)}/s in ${p.flushMs} ms batches; ring ${int(r.ring)}); a new snapshot every ${p.snapshotMs / 1000} s`,
      `run: ${p.warmupSec} s warm-up, ${fixed(r.wallMs / 1000, 1)} s measured; other work on the CPUs before start ${int(idleBusy)}%`,
      ...(idleBusy > 25
        ? [
            `warning: ${int(idleBusy)}% of the CPUs were busy with other work before the run: figures are high and noisy`,
          ]
        : []),
      ...(r.problems.length
        ? ['', `ERROR: ${r.problems.length} problem(s):`, ...r.problems.slice(0, 10).map((x) => `  ${x}`)]
        : []),
      '',
      ...table(
        ['', 'p50', 'p95', 'p99', 'max', 'target', ''],
        [
          [
            'frame ms (updates + Ink output)',
            fixed(f.frameMs.p50, 2),
            fixed(f.frameMs.p95, 2),
            fixed(f.frameMs.p99, 2),
            fixed(f.frameMs.max, 2),
            `p95 < ${TARGET_FRAME_P95_MS}`,
            met(targets.frameP95Ms),
          ],
          [
            '  store update ms (React + layout)',
            fixed(f.updateMs.p50, 2),
            fixed(f.updateMs.p95, 2),
            fixed(f.updateMs.p99, 2),
            fixed(f.updateMs.max, 2),
            '',
            `${int(f.updates)} updates`,
          ],
          ...Object.entries(f.updateMsBy).map(([k, d]) => [
            `    after ${k === 'key' ? 'a key' : k === 'tick' ? 'the tick' : k === 'snapshot' ? 'a new snapshot' : 'an events batch'}`,
            fixed(d.p50, 2),
            fixed(d.p95, 2),
            fixed(d.p99, 2),
            fixed(d.max, 2),
            '',
            `${int(d.count)} updates`,
          ]),
          [
            '  Ink output ms (renderTime)',
            fixed(f.outputMs.p50, 2),
            fixed(f.outputMs.p95, 2),
            fixed(f.outputMs.p99, 2),
            fixed(f.outputMs.max, 2),
            '',
            '',
          ],
          [
            'key to screen ms',
            fixed(r.keys.latencyMs.p50, 1),
            fixed(r.keys.latencyMs.p95, 1),
            fixed(r.keys.latencyMs.p99, 1),
            fixed(r.keys.latencyMs.max, 1),
            `p95 < ${TARGET_KEY_P95_MS}`,
            `${met(targets.keyToScreenP95Ms)} (${r.keys.shown} of ${r.keys.sent} shown)`,
          ],
        ],
      ),
      '',
      ...table(
        ['', 'value', 'target', ''],
        [
          [
            'heap MB after GC, end of run',
            fixed(r.heap.endMB, 1),
            `< ${TARGET_HEAP_MB}`,
            met(targets.heapMB),
          ],
          ['heap MB peak (sampled, no GC)', fixed(r.heap.peakSampledMB, 1), '', ''],
          [
            'heap MB before data / with data / running',
            `${fixed(r.heap.baselineMB, 1)} / ${fixed(r.heap.withDataMB, 1)} / ${fixed(r.heap.startMB, 1)}`,
            '',
            '',
          ],
          [
            'heap MB kept per minute (per 100k events)',
            `${fixed(r.heap.growthMBPerMin, 1)} (${fixed(r.heap.growthMBPer100kEvents, 1)})`,
            '<= 60 per 100k (T8)',
            '',
          ],
          ['RSS MB end / peak', `${fixed(r.heap.rssEndMB, 1)} / ${fixed(r.heap.rssPeakMB, 1)}`, '', ''],
          [
            'performance.measure entries held',
            int(r.heap.measureEntries),
            '',
            reactBuild === 'development' ? "React's development build logs every component render" : '',
          ],
          [
            'frames drawn per s (rendered)',
            `${fixed(f.writtenPerSec, 1)} (${fixed(f.renderedPerSec, 1)})`,
            `<= ${p.maxFps}`,
            '',
          ],
          ['bytes per frame', int(f.bytesPerFrame), '', ''],
          ['mount ms', fixed(r.mountMs, 1), '', ''],
          ['main thread busy %', fixed(r.mainThreadBusyPct, 1), '', ''],
          ['event loop delay p99 ms', fixed(r.eventLoopDelayP99Ms, 1), '', ''],
        ],
      ),
      '',
      'key to screen by key (ms)',
      ...table(
        ['key', 'n', 'p50', 'max', 'missed'],
        Object.entries(r.keys.byKey).map(([k, d]) => [
          k,
          String(d.count),
          fixed(d.p50, 1),
          fixed(d.max, 1),
          String(d.missed),
        ]),
      ),
    ];
    return { json, lines };
  },
};
