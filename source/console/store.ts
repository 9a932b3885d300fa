import { createStore } from 'zustand/vanilla';
import type { TownEvent } from '../model/event.js';
import type { ConsoleSnapshot } from '../services/console.js';
import type { LogAttempt } from './actions.js';
import type { CommandTable } from './commands.js';

/** The console's panes, in focus order (1-5). */
export const PANES = ['agents', 'tasks', 'missions', 'events', 'help'] as const;
export type PaneId = (typeof PANES)[number];

/** What a log view shows and where it is (console/logview.ts drives it). */
export interface LogView {
  /** The agent id or task id whose attempt it shows. */
  ref: string;
  /** Who or what, before the attempt is found: "Ada [backend]", "task 1a2b3c4d". */
  subject: string;
  /** The raw log file instead of the events. */
  raw: boolean;
  /** The attempt asked for (tt logs --attempt); the latest when absent. */
  number?: number;
  attempt?: LogAttempt;
  /** The lines kept (the newest LOG_LINES_MAX). */
  lines: string[];
  /** First line on screen when not following. */
  top: number;
  /** Pinned to the newest line. */
  follow: boolean;
  /** loading; live (being followed); finished; none (no attempt); error. */
  status: 'loading' | 'live' | 'finished' | 'none' | 'error';
  /** Why there is no attempt, or the error. */
  note?: string;
}

export type Modal =
  | { kind: 'help'; scroll: number }
  | { kind: 'log'; log: LogView }
  | { kind: 'confirm'; title: string; detail: string; command: string; args: string[] }
  | { kind: 'input'; title: string; value: string; command: string; args: string[] }
  | { kind: 'detail'; title: string; lines: string[]; scroll: number }
  | { kind: 'command'; value: string; historyIndex: number };

export interface Footer {
  text: string;
  kind: 'info' | 'error';
  at: number;
}

export interface UiState {
  pane: PaneId;
  /** Selection by id, per pane (stable across live re-sorts). */
  selected: Partial<Record<PaneId, string>>;
  filter: Partial<Record<PaneId, string>>;
  /** The pane whose filter is being typed. */
  filtering?: PaneId;
  /** Events pane pinned to the newest entry. */
  follow: boolean;
  /** Events that arrived while not following. */
  unseen: number;
  modal?: Modal;
  footer?: Footer;
  history: string[];
}

export type LinkState = 'connecting' | 'linked' | 'disconnected';

/** Events kept in memory for the events pane (a ring: the oldest go first). */
export const EVENT_RING = 10_000;

export interface ConsoleState {
  link: LinkState;
  retries: number;
  linkError?: string;
  snapshot?: ConsoleSnapshot;
  events: TownEvent[];
  eventsTotal: number;
  /** Completed tasks per agent over the last minutes (1 bucket = 10 s), for sparklines. */
  throughput: Record<string, number[]>;
  ui: UiState;
  readOnly: boolean;
  dispatching: boolean;
  /** Control notes sent from this console, with their receipts when applied. */
  receipts: {
    note: string;
    mission: string;
    body: string;
    state: 'queued' | 'applied';
    effect?: string;
    tick?: number;
  }[];
  size: { columns: number; rows: number };
  /** The command table with the user's key bindings; the defaults (COMMANDS) when absent. */
  commands?: CommandTable;
}

export const SPARK_BUCKETS = 12;
export const SPARK_BUCKET_MS = 10_000;

export const initialState = (
  o: {
    readOnly?: boolean;
    dispatching?: boolean;
    size?: { columns: number; rows: number };
    commands?: CommandTable;
  } = {},
): ConsoleState => ({
  link: 'connecting',
  retries: 0,
  events: [],
  eventsTotal: 0,
  throughput: {},
  ui: { pane: 'agents', selected: {}, filter: {}, follow: true, unseen: 0, history: [] },
  readOnly: o.readOnly ?? false,
  dispatching: o.dispatching ?? true,
  receipts: [],
  size: o.size ?? { columns: 120, rows: 40 },
  ...(o.commands ? { commands: o.commands } : {}),
});

export const createConsoleStore = (init: ConsoleState = initialState()) =>
  createStore<ConsoleState>()(() => init);
export type ConsoleStore = ReturnType<typeof createConsoleStore>;

/** Adds events to the ring; counts completions for the sparklines; follows receipts. */
export const appendEvents = (s: ConsoleState, batch: TownEvent[], now: number): Partial<ConsoleState> => {
  if (batch.length === 0) return {};
  const events = s.events.concat(batch);
  const throughput = { ...s.throughput };
  const bucket = Math.floor(now / SPARK_BUCKET_MS);
  for (const e of batch) {
    if (e.type !== 'task.completed' || !e.agent) continue;
    const age = bucket - Math.floor(e.ts / SPARK_BUCKET_MS);
    if (age < 0 || age >= SPARK_BUCKETS) continue;
    const row = (throughput[e.agent] ?? new Array(SPARK_BUCKETS).fill(0)).slice();
    row[SPARK_BUCKETS - 1 - age]! += 1;
    throughput[e.agent] = row;
  }
  let receipts = s.receipts;
  for (const e of batch) {
    if (e.type !== 'mission.note' || e.state !== 'applied') continue;
    const i = receipts.findIndex((r) => r.state === 'queued' && r.mission === e.mission);
    if (i >= 0) {
      const m = /^at tick (\d+): (.*)$/.exec(e.text ?? '');
      receipts = receipts.map((r, j) =>
        j === i
          ? {
              ...r,
              state: 'applied' as const,
              ...(m ? { tick: Number(m[1]), effect: m[2]! } : { effect: e.text ?? '' }),
            }
          : r,
      );
    }
  }
  return {
    events: events.length > EVENT_RING ? events.slice(events.length - EVENT_RING) : events,
    eventsTotal: s.eventsTotal + batch.length,
    throughput,
    receipts,
    ui: s.ui.follow ? s.ui : { ...s.ui, unseen: s.ui.unseen + batch.length },
  };
};

/** Slides every sparkline along when time has moved a bucket or more. */
export const ageThroughput = (t: Record<string, number[]>, shift: number): Record<string, number[]> => {
  if (shift <= 0) return t;
  const out: Record<string, number[]> = {};
  for (const [k, row] of Object.entries(t)) {
    const next = row
      .slice(Math.min(shift, SPARK_BUCKETS))
      .concat(new Array(Math.min(shift, SPARK_BUCKETS)).fill(0));
    if (next.some((n) => n > 0)) out[k] = next;
  }
  return out;
};
