import type { LogAttempt, LogEnd } from './actions.js';
import type { CommandContext } from './commands.js';
import type { ConsoleState, ConsoleStore, LogView } from './store.js';

/**
 * The log view (k9s `l`): an attempt's normalized events, one a line, followed as they are
 * written (services/logs.ts through the console's actions; the console never reads Redis
 * itself). j/k/PgUp/PgDn/g scroll and pause following, G/End follow again, p and n step to the
 * previous and next attempt, r toggles the raw log, esc/q close it and stop the follower.
 */

/** Lines a log view keeps (the oldest go first). */
export const LOG_LINES_MAX = 5000;
/** Lines arriving within this long are drawn in one store write. */
const FLUSH_MS = 50;

/** One follower per console: its signal, and lines not yet in the store. */
interface Follower {
  abort: AbortController;
  pending: string[];
  timer?: ReturnType<typeof setTimeout>;
}
const followers = new WeakMap<ConsoleStore, Follower>();

/** Rows of log text on screen: the terminal less Ink's spare row, header, footer, frame and title. */
export const logRows = (size: ConsoleState['size']): number => Math.max(1, size.rows - 1 - 3 - 3);

/** The first line on screen. */
export const logTop = (log: LogView, rows: number): number => {
  const last = Math.max(0, log.lines.length - rows);
  return log.follow ? last : Math.min(log.top, last);
};

/** Lines below the screen (while scrolled up). */
export const logBelow = (log: LogView, rows: number): number =>
  Math.max(0, log.lines.length - logTop(log, rows) - rows);

/** The log view's title: whose attempt, which one of how many, and whether it is followed. */
export const logTitle = (log: LogView, rows: number): string => {
  const a = log.attempt;
  const what = !a
    ? log.subject
    : a.task
      ? `task ${a.task.slice(0, 8)}, attempt ${a.number} of ${a.of}, ${a.agent} round ${a.round}`
      : `${a.agent} round ${a.number} of ${a.of}`;
  const below = logBelow(log, rows);
  const more = below ? `, ${below} more below` : '';
  const state =
    log.status === 'loading'
      ? 'loading'
      : log.status === 'live'
        ? log.follow
          ? 'following'
          : `paused${more}`
        : log.status === 'finished'
          ? `finished${more}`
          : log.status === 'none'
            ? 'no attempt'
            : 'error';
  const raw = log.raw ? `raw log${a?.file ? ` ${a.file}` : ''}: ` : 'log: ';
  return `${raw}${what} (${state})`;
};

/** What the view says when it has no lines. */
export const logEmpty = (log: LogView): string => {
  switch (log.status) {
    case 'loading':
      return 'loading...';
    case 'none':
    case 'error':
      return log.note ?? '';
    case 'live':
      return log.raw ? 'no output yet' : 'no events yet: waiting for the agent';
    case 'finished':
      return log.raw ? 'the raw log is empty' : 'no events stored (none written, or expired)';
  }
};

const update = (store: ConsoleStore, f: Follower, patch: (log: LogView) => Partial<LogView>) =>
  store.setState((s) => {
    const m = s.ui.modal;
    // A follower that was replaced (p, n, r) or stopped (closed) changes nothing.
    if (m?.kind !== 'log' || followers.get(store) !== f) return s;
    return { ui: { ...s.ui, modal: { kind: 'log', log: { ...m.log, ...patch(m.log) } } } };
  });

/** Lines added at the end, the oldest dropped past LOG_LINES_MAX (a paused window keeps its place). */
const appended = (log: LogView, more: string[]): Partial<LogView> => {
  const all = log.lines.concat(more);
  const drop = Math.max(0, all.length - LOG_LINES_MAX);
  return { lines: drop ? all.slice(drop) : all, top: Math.max(0, log.top - drop) };
};

const flush = (store: ConsoleStore, f: Follower) => {
  if (f.timer) clearTimeout(f.timer);
  f.timer = undefined;
  if (!f.pending.length) return;
  const batch = f.pending;
  f.pending = [];
  update(store, f, (log) => appended(log, batch));
};

/** Stops the log view's follower, if one runs (its late lines are dropped). */
export const stopLog = (store: ConsoleStore): void => {
  const f = followers.get(store);
  if (!f) return;
  followers.delete(store);
  if (f.timer) clearTimeout(f.timer);
  f.abort.abort();
};

const ended = (end: LogEnd): Partial<LogView> =>
  typeof end === 'object'
    ? { status: 'none', note: end.none }
    : end === 'finished'
      ? { status: 'finished' }
      : {};

/** Starts following the view's attempt (the store's modal must be that view). */
const follow = (ctx: CommandContext, view: LogView) => {
  const { store } = ctx;
  const f: Follower = { abort: new AbortController(), pending: [] };
  followers.set(store, f);
  const sink = {
    attempt: (a: LogAttempt) => update(store, f, () => ({ attempt: a, number: a.number, status: 'live' })),
    lines: (lines: string[]) => {
      f.pending.push(...lines);
      f.timer ??= setTimeout(() => flush(store, f), FLUSH_MS);
    },
  };
  const request = {
    ref: view.ref,
    raw: view.raw,
    ...(view.number !== undefined ? { attempt: view.number } : {}),
  };
  void ctx.actions.watchLog(request, sink, f.abort.signal).then(
    (end) => {
      flush(store, f);
      update(store, f, () => ended(end));
    },
    (e: unknown) => {
      flush(store, f);
      update(store, f, () => ({ status: 'error', note: (e as Error).message }));
    },
  );
};

/** Opens a log view (replacing one open already) and starts following it. */
export const openLog = (
  ctx: CommandContext,
  o: { ref: string; subject: string; number?: number; raw?: boolean },
): void => {
  stopLog(ctx.store);
  const view: LogView = {
    ref: o.ref,
    subject: o.subject,
    raw: o.raw ?? false,
    ...(o.number !== undefined ? { number: o.number } : {}),
    lines: [],
    top: 0,
    follow: true,
    status: 'loading',
  };
  ctx.store.setState((s) => ({ ui: { ...s.ui, modal: { kind: 'log', log: view } } }));
  follow(ctx, view);
};

/** The view scrolled by some lines, to the top, or to the end (following again). */
const scrolled = (log: LogView, rows: number, how: number | 'top' | 'end'): LogView => {
  if (how === 'end') return { ...log, follow: true };
  if (how === 'top') return { ...log, top: 0, follow: false };
  const last = Math.max(0, log.lines.length - rows);
  const top = Math.max(0, Math.min(last, logTop(log, rows) + how));
  // Moving down onto the last line follows again; any move up pauses.
  return { ...log, top, follow: how > 0 && top === last };
};

const SCROLL: Record<string, (rows: number) => number | 'top' | 'end'> = {
  j: () => 1,
  down: () => 1,
  k: () => -1,
  up: () => -1,
  pagedown: (rows) => rows,
  'ctrl+d': (rows) => rows,
  pageup: (rows) => -rows,
  'ctrl+u': (rows) => -rows,
  g: () => 'top',
  home: () => 'top',
  G: () => 'end',
  end: () => 'end',
};

/** The keys of an open log view: every key is its own while it is open. */
export const logKey = (ctx: CommandContext, log: LogView, name: string): void => {
  const { store } = ctx;
  const say = (text: string) =>
    store.setState((s) => ({ ui: { ...s.ui, footer: { text, kind: 'error', at: ctx.now() } } }));
  const scroll = SCROLL[name];
  if (scroll) {
    const how = scroll(logRows(store.getState().size));
    store.setState((s) => {
      const m = s.ui.modal;
      if (m?.kind !== 'log') return s;
      return { ui: { ...s.ui, modal: { kind: 'log', log: scrolled(m.log, logRows(s.size), how) } } };
    });
    return;
  }
  const again = (number: number | undefined, raw: boolean) =>
    openLog(ctx, { ref: log.ref, subject: log.subject, raw, ...(number !== undefined ? { number } : {}) });
  switch (name) {
    case 'escape':
    case 'q':
      stopLog(store);
      store.setState((s) => ({ ui: { ...s.ui, modal: undefined } }));
      return;
    case 'p':
      if (log.attempt?.prev !== undefined) return again(log.attempt.prev, log.raw);
      return say(log.attempt ? 'no earlier attempt' : 'no attempt shown');
    case 'n':
      if (log.attempt?.next !== undefined) return again(log.attempt.next, log.raw);
      return say(log.attempt ? 'no later attempt' : 'no attempt shown');
    case 'r':
      return again(log.attempt?.number ?? log.number, !log.raw);
  }
};
