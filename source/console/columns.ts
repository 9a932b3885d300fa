import { shortId } from '../model/ids.js';
import { AGENT_GLYPH, ITEM_GLYPH, MISSION_GLYPH, TASK_GLYPH } from '../model/glyphs.js';
import type { TownEvent } from '../model/event.js';
import type { Task } from '../model/task.js';
import type { HelpPrompt } from '../services/console.js';
import type { AgentStatus } from '../services/status.js';
import { age, cell, hhmmss, sparkline } from './format.js';
import type { MissionRow } from './rows.js';
import type { ConsoleState } from './store.js';

/**
 * Pane columns, declared once per pane as k9s declares a resource's render header: each column's
 * title, its width and its cell. The header line and every row are laid out from the same table,
 * so the two cannot drift apart.
 */

/** What a cell may read besides its row. */
export interface CellContext {
  s: ConsoleState;
  now: number;
  /** Agent names by id (agentNames). */
  names: ReadonlyMap<string, string>;
  /** The row's width: the pane's inside, less the selection marker. */
  width: number;
}

/** A flexible width: a share of what the fixed columns leave, never less than `min`. */
export interface Flex {
  share: number;
  min: number;
}

export interface Column<R> {
  /** The header title; a function for a title that counts something. */
  title: string | ((c: CellContext) => string);
  /** Characters, or a share of the width the others leave. */
  width: number | Flex;
  /**
   * Drawn as it is, neither padded nor cut: the end of a line (the pane's edge cuts it), or text
   * that is short already. Its width still counts when a flexible column takes the rest.
   */
  raw?: boolean;
  /** Padded on the left instead of the right. */
  alignRight?: boolean;
  /** Shown only in a wide pane (the table's `wideFrom`), as k9s's wide columns. */
  wide?: boolean;
  cell(row: R, c: CellContext): string;
}

export interface Table<R> {
  columns: readonly Column<R>[];
  /** The row width from which the wide columns show; never when absent. */
  wideFrom?: number;
  /** Characters left blank at the right of a row with a flexible column (narrow and wide panes). */
  slack?: number | { narrow: number; wide: number };
  /** Drawn at the start of every row, with no title over it. */
  mark?: string;
}

/** A table laid out for one row width: the columns that show, each with its width in characters. */
export interface Layout<R> {
  columns: readonly { column: Column<R>; width: number }[];
  mark: string;
}

/** A column's width: its own, or its share of what the fixed columns leave (`left`, in `shares`). */
const widthOf = (w: number | Flex, left: number, shares: number): number =>
  typeof w === 'number' ? w : Math.max(w.min, Math.floor((left * w.share) / shares));

const layOut = <R>(table: Table<R>, width: number): Layout<R> => {
  const wide = table.wideFrom !== undefined && width >= table.wideFrom;
  const shown = table.columns.filter((c) => !c.wide || wide);
  const slack = typeof table.slack === 'object' ? table.slack[wide ? 'wide' : 'narrow'] : (table.slack ?? 0);
  const mark = table.mark ?? '';
  let left = width - mark.length - (shown.length - 1) - slack;
  let shares = 0;
  for (const c of shown) {
    if (typeof c.width === 'number') left -= c.width;
    else shares += c.width.share;
  }
  return {
    mark,
    columns: shown.map((column) => ({ column, width: widthOf(column.width, left, shares) })),
  };
};

const layouts = new WeakMap<Table<never>, Map<number, Layout<never>>>();

/** A table laid out for a row width (remembered: a pane asks for the same width every frame). */
export const layout = <R>(table: Table<R>, width: number): Layout<R> => {
  let byWidth = layouts.get(table as Table<never>) as Map<number, Layout<R>> | undefined;
  if (!byWidth) {
    byWidth = new Map();
    layouts.set(table as Table<never>, byWidth as Map<number, Layout<never>>);
  }
  let l = byWidth.get(width);
  if (!l) {
    l = layOut(table, width);
    byWidth.set(width, l);
  }
  return l;
};

const fit = (text: string, width: number, right: boolean | undefined): string =>
  right ? cell(text, width).trimEnd().padStart(width) : cell(text, width);

/** The header line: each title over its column; the last one as it is. */
export const headerLine = <R>(l: Layout<R>, c: CellContext): string => {
  let out = '';
  l.columns.forEach(({ column, width }, i) => {
    const title = typeof column.title === 'string' ? column.title : column.title(c);
    out += i === 0 ? '' : ' ';
    out += i === l.columns.length - 1 ? title : fit(title, width, column.alignRight);
  });
  return out;
};

/** One row as a line: the table's mark, then each cell in its column. */
export const rowLine = <R>(l: Layout<R>, row: R, c: CellContext): string => {
  let out = l.mark;
  for (let i = 0; i < l.columns.length; i++) {
    const { column, width } = l.columns[i]!;
    const text = column.cell(row, c);
    out += i === 0 ? '' : ' ';
    out += column.raw ? text : fit(text, width, column.alignRight);
  }
  return out;
};

// ---------------------------------------------------------------------------------------------
// The panes' tables. Widths are the row's characters after the selection marker.

const NO_THROUGHPUT: number[] = new Array(12).fill(0);

/** Agents: a narrow pane drops the role, the rounds and the sparkline before the name gets squeezed. */
export const AGENT_COLUMNS: Table<AgentStatus> = {
  wideFrom: 80,
  slack: { narrow: 7, wide: 1 },
  columns: [
    { title: 'STATE', width: 10, cell: (a) => `${AGENT_GLYPH[a.state]} ${a.state}` },
    { title: 'NAME', width: { share: 1, min: 10 }, cell: (a) => a.label },
    { title: 'ROLE', width: 9, wide: true, cell: (a) => a.role ?? '-' },
    { title: 'TASK', width: 6, cell: (a) => shortId(a.currentTask, 6) },
    {
      title: 'HB',
      width: 4,
      cell: (a) => (a.heartbeatAgeMs !== undefined ? age(a.heartbeatAgeMs) : '-'),
    },
    { title: 'IN', width: 3, cell: (a) => String(a.inbox) },
    { title: 'RND', width: 4, wide: true, cell: (a) => String(a.rounds) },
    {
      title: 'DONE/2m',
      width: NO_THROUGHPUT.length,
      wide: true,
      cell: (a, c) => sparkline(c.s.throughput[a.id] ?? NO_THROUGHPUT),
    },
  ],
};

/** The name an agent goes by in a pane, or the start of its id. */
const agentName = (id: string, c: CellContext): string => c.names.get(id) ?? shortId(id, 6);

export const TASK_COLUMNS: Table<Task> = {
  columns: [
    { title: 'PRI', width: 4, cell: (t) => t.priority.slice(0, 4) },
    {
      title: 'STATE',
      width: 10,
      cell: (t) => `${TASK_GLYPH[t.state]} ${t.state === 'failed' ? 'dead' : t.state}`,
    },
    { title: 'TASK', width: { share: 1, min: 8 }, cell: (t) => t.description.split('\n', 1)[0]! },
    { title: 'AGENT', width: 8, cell: (t, c) => (t.assignedTo ? agentName(t.assignedTo, c) : '-') },
    { title: 'AGE', width: 4, cell: (t, c) => age(c.now - t.createdAt) },
    { title: 'TRY', width: 5, cell: (t) => `${t.attempts}/${t.maxAttempts}` },
  ],
};

type MissionLine = Extract<MissionRow, { kind: 'mission' }>;
type ItemLine = Extract<MissionRow, { kind: 'item' }>;

/** A mission's own row; the progress keeps room at the right of the title. */
const MISSION_LINE: Table<MissionLine> = {
  columns: [
    { title: '', width: 1, cell: (r) => MISSION_GLYPH[r.mission.state] },
    { title: 'ID', width: 4, raw: true, cell: (r) => shortId(r.id, 4) },
    { title: 'STATE', width: 9, cell: (r) => r.mission.state },
    { title: 'TITLE', width: { share: 1, min: 8 }, cell: (r) => r.mission.title },
    {
      title: 'DONE',
      width: 19,
      raw: true,
      cell: (r) => `${r.mission.itemsDone}/${r.mission.itemsTotal} done`,
    },
  ],
};

/** Who a work item waits for: its agent, its dependencies, or no one. */
const itemAgent = (r: ItemLine, c: CellContext): string =>
  r.item.assignedTo
    ? (c.names.get(r.item.assignedTo) ?? '?')
    : r.item.deps.length && r.item.status === 'pending'
      ? 'waits'
      : '-';

/** A work item's row, under its mission. */
const ITEM_LINE: Table<ItemLine> = {
  slack: 11,
  columns: [
    { title: '', width: 5, alignRight: true, cell: (r) => ITEM_GLYPH[r.item.status] },
    { title: 'TITLE', width: { share: 1, min: 8 }, cell: (r) => r.item.title },
    { title: 'STATUS', width: 8, cell: (r) => r.item.status },
    { title: 'AGENT', width: 8, cell: itemAgent },
  ],
};

/**
 * Missions: a tree, missions with their work items under them. The two kinds of row do not line
 * up, so each has a table of its own and the pane has one column, titled for both.
 */
export const MISSION_COLUMNS: Table<MissionRow> = {
  columns: [
    {
      title: 'MISSION / WORK ITEM',
      width: 0,
      raw: true,
      cell: (r, c) =>
        r.kind === 'mission'
          ? rowLine(layout(MISSION_LINE, c.width), r, c)
          : rowLine(layout(ITEM_LINE, c.width), r, c),
    },
  ],
};

/** What an event says after who: its task, its state change, its text. */
const eventWhat = (e: TownEvent): string => {
  const task = e.task ? `${shortId(e.task, 4)} ` : '';
  const state = e.state ? `${e.prev ? `${e.prev}->` : ''}${e.state} ` : '';
  return `${task}${state}${e.text ?? ''}`;
};

export const EVENT_COLUMNS: Table<TownEvent> = {
  columns: [
    { title: 'TIME', width: 8, cell: (e) => hhmmss(e.ts) },
    { title: 'TYPE', width: 15, cell: (e) => e.type },
    {
      title: 'WHO',
      width: 8,
      cell: (e, c) => (e.agent ? agentName(e.agent, c) : e.mission ? `m ${shortId(e.mission, 4)}` : ''),
    },
    { title: (c) => `(${c.s.eventsTotal} seen)`, width: 0, raw: true, cell: eventWhat },
  ],
};

/**
 * Help prompts. Every row starts with a "!" mark that has no place in the header, so the titles
 * stand two characters left of their cells (as they always have).
 */
/** A help prompt's first line, without the mission header the dispatcher writes. */
const question = (h: HelpPrompt): string =>
  h.text.replace(/^\[Mission Help Needed\] Mission \S+\s*/, '').split('\n', 1)[0]!;

export const HELP_COLUMNS: Table<HelpPrompt> = {
  mark: '! ',
  columns: [
    { title: 'AGE', width: 4, cell: (h, c) => age(c.now - h.createdAt) },
    {
      title: 'QUESTION (a answer, r resume, p pause)',
      width: 0,
      raw: true,
      cell: (h) => `${h.mission ? `mission ${shortId(h.mission, 4)}: ` : ''}${question(h)}`,
    },
  ],
};
