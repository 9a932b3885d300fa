import { Box, Text } from 'ink';
import { memo } from 'react';
import { useStore } from 'zustand';
import type { TownEvent } from '../model/event.js';
import type { Task } from '../model/task.js';
import {
  AGENT_COLUMNS,
  EVENT_COLUMNS,
  HELP_COLUMNS,
  headerLine,
  layout,
  MISSION_COLUMNS,
  rowLine,
  TASK_COLUMNS,
  type CellContext,
  type Table,
} from './columns.js';
import { disabledReason, tableOf } from './commands.js';
import { age, cell } from './format.js';
import {
  agentNames,
  agentRows,
  eventRows,
  helpRows,
  missionRows,
  selectedIndex,
  taskRows,
  windowStart,
} from './rows.js';
import { logEmpty, logRows, logTitle, logTop } from './logview.js';
import { PANES, type ConsoleState, type ConsoleStore, type LogView, type PaneId } from './store.js';
import type { Theme } from './theme.js';

/** The smallest terminal the console lays out in. */
export const MIN_SIZE = { columns: 60, rows: 16 };

const TITLES: Record<PaneId, string> = {
  agents: 'Agents',
  tasks: 'Task queue',
  missions: 'Missions',
  events: 'Events',
  help: 'Help prompts',
};

/** One row of a pane as drawn. */
interface RowView {
  id: string;
  text: string;
  color?: string | undefined;
}

/**
 * A pane as drawn: only what is on screen. Components get small props (never the state or a whole
 * list), so a frame costs in proportion to the visible rows, and a pane whose rows did not change
 * is not rendered again.
 */
interface FrameProps {
  theme: Theme;
  focused: boolean;
  width: number;
  height: number;
  title: string;
  /** The column titles (after the selection marker's place). */
  header: string;
  /** The visible rows, at most the body height. */
  rows: RowView[];
  /** Index of the selected row within `rows`, or -1. */
  selected: number;
  position: string;
}

const sameRows = (a: RowView[], b: RowView[]): boolean =>
  a === b ||
  (a.length === b.length &&
    a.every((r, i) => r.id === b[i]!.id && r.text === b[i]!.text && r.color === b[i]!.color));

/**
 * A line of text without its trailing padding: Ink turns every character it is given into a
 * styled cell each frame, and the cells it is not given are blank anyway. Never empty, so the
 * line keeps its row.
 */
const line = (text: string): string => text.trimEnd() || ' ';

/** A framed pane: title with its number, a header row, the visible rows, a position line. */
const Frame = memo(
  ({ theme, focused, width, height, title, header, rows, selected, position }: FrameProps) => {
    const inner = Math.max(1, width - 2);
    // Two border rows, the title, the column header and the position line.
    const body = Math.max(0, height - 5);
    const dim = theme.dim ? { color: theme.dim } : {};
    return (
      <Box
        flexDirection="column"
        width={width}
        height={height}
        borderStyle="classic"
        {...(theme.border || theme.focus ? { borderColor: focused ? theme.focus : theme.border } : {})}
      >
        <Text bold={focused} wrap="truncate-end">
          {line(cell(`${focused ? '>' : ' '}${title}`, inner))}
        </Text>
        <Text {...dim} wrap="truncate-end">
          {line(cell(` ${header}`, inner))}
        </Text>
        {rows.map((r, i) => {
          const isSelected = i === selected;
          const text = cell(`${isSelected ? '>' : ' '}${r.text}`, inner);
          // The selected row of the focused pane is drawn inverse: its padding shows.
          return (
            <Text
              key={r.id}
              inverse={isSelected && focused}
              bold={isSelected && !focused}
              {...(r.color ? { color: r.color } : {})}
              wrap="truncate-end"
            >
              {isSelected && focused ? text : line(text)}
            </Text>
          );
        })}
        {new Array(Math.max(0, body - rows.length)).fill(0).map((_, i) => (
          <Text key={`pad-${i}`}> </Text>
        ))}
        <Box justifyContent="flex-end">
          <Text {...dim} wrap="truncate-end">
            {position.length > inner ? cell(position, inner) : position}
          </Text>
        </Box>
      </Box>
    );
  },
  (a, b) =>
    a.theme === b.theme &&
    a.focused === b.focused &&
    a.width === b.width &&
    a.height === b.height &&
    a.title === b.title &&
    a.header === b.header &&
    a.selected === b.selected &&
    a.position === b.position &&
    sameRows(a.rows, b.rows),
);

interface PaneArgs {
  s: ConsoleState;
  theme: Theme;
  width: number;
  height: number;
  now: number;
}

/** A pane's title: its number and name, whether events follow, the filter being typed. */
const paneTitle = (s: ConsoleState, pane: PaneId): string => {
  const filter = s.ui.filter[pane];
  const typing = s.ui.filtering === pane;
  const unseen = s.ui.unseen ? `, ${s.ui.unseen} new` : '';
  const follow = pane === 'events' ? (s.ui.follow ? ' (follow)' : ` (paused${unseen})`) : '';
  const filtered = filter || typing ? ` /${filter ?? ''}${typing ? '_' : ''}` : '';
  return ` ${PANES.indexOf(pane) + 1} ${TITLES[pane]}${follow}${filtered} `;
};

/**
 * A pane's frame: its rows laid out by its column table, the selection and its window over them;
 * a row is drawn only when it is visible.
 */
const frameOf = <R extends { id: string }>(
  { s, theme, width, height, now }: PaneArgs,
  pane: PaneId,
  table: Table<R>,
  rows: readonly R[],
  color: (row: R) => string | undefined,
  note: string,
): FrameProps => {
  const c: CellContext = { s, now, names: agentNames(s), width: width - 3 };
  const laid = layout(table, c.width);
  const body = Math.max(0, height - 5);
  const at = selectedIndex(s, pane);
  const start = windowStart(at, rows.length, body);
  const end = Math.min(rows.length, start + body);
  const shown: RowView[] = [];
  for (let i = start; i < end; i++) {
    const row = rows[i]!;
    shown.push({ id: row.id, color: color(row), text: rowLine(laid, row, c) });
  }
  return {
    theme,
    focused: s.ui.pane === pane,
    width,
    height,
    title: paneTitle(s, pane),
    header: headerLine(laid, c),
    rows: shown,
    selected: at - start,
    position: rows.length ? `${Math.min(at + 1, rows.length)} of ${rows.length}` : note,
  };
};

const stateColor = (theme: Theme, state: string): string | undefined =>
  ['error', 'failed', 'stopped', 'dead', 'quarantined'].includes(state)
    ? theme.bad
    : ['paused', 'draining', 'blocked'].includes(state)
      ? theme.warn
      : ['working', 'running', 'done', 'completed'].includes(state)
        ? theme.ok
        : undefined;

const eventColor = (theme: Theme, e: TownEvent): string | undefined =>
  /dead|failed|reaped|help/.test(e.type) || e.state === 'quarantined'
    ? theme.bad
    : /retry|paused|blocked/.test(`${e.type} ${e.state ?? ''}`)
      ? theme.warn
      : undefined;

/** What an empty pane says: what it waits for, or how to fill it. */
const loadingOr = (s: ConsoleState, empty: string) => (s.snapshot ? empty : 'loading');

const FRAMES: Record<PaneId, (a: PaneArgs) => FrameProps> = {
  agents: (a) =>
    frameOf(
      a,
      'agents',
      AGENT_COLUMNS,
      agentRows(a.s),
      (x) => stateColor(a.theme, x.state),
      loadingOr(a.s, 'no agents: :spawn <name> --cli sim'),
    ),
  tasks: (a) => {
    const c = a.s.snapshot?.taskCounts;
    const color = (t: Task) =>
      t.state === 'failed' ? a.theme.bad : t.priority === 'critical' ? a.theme.warn : undefined;
    const note = c ? `${c.completed} done, nothing queued` : 'loading';
    return frameOf(a, 'tasks', TASK_COLUMNS, taskRows(a.s), color, note);
  },
  missions: (a) =>
    frameOf(
      a,
      'missions',
      MISSION_COLUMNS,
      missionRows(a.s),
      (r) => stateColor(a.theme, r.kind === 'mission' ? r.mission.state : r.item.status),
      loadingOr(a.s, 'no missions: tt mission start'),
    ),
  events: (a) =>
    frameOf(a, 'events', EVENT_COLUMNS, eventRows(a.s), (e) => eventColor(a.theme, e), 'no events yet'),
  help: (a) => frameOf(a, 'help', HELP_COLUMNS, helpRows(a.s), () => a.theme.warn, 'no help prompts'),
};

const linkText = (s: ConsoleState): string =>
  s.link === 'linked'
    ? 'linked'
    : s.link === 'connecting'
      ? 'connecting...'
      : `DISCONNECTED (retry ${s.retries})`;

/** The dispatcher's pulse, read from the missions' last ticks. */
const dispatcherText = (s: ConsoleState, now: number): string => {
  if (!s.dispatching) return 'dispatcher off (--no-dispatch)';
  let lastTick = 0;
  let tick = 0;
  let wake = Infinity;
  for (const m of s.snapshot?.missions ?? []) {
    lastTick = Math.max(lastTick, m.lastTickAt ?? 0);
    tick = Math.max(tick, m.lastTick ?? 0);
    if (m.nextWakeAt) wake = Math.min(wake, m.nextWakeAt);
  }
  if (!lastTick) return 'dispatcher idle';
  const next = Number.isFinite(wake) ? `  next ${age(wake - now)}` : '';
  return `dispatcher ok ${age(now - lastTick)} ago  tick ${tick}${next}`;
};

/** How many of `list` are in each of `states`, in that order. */
const countIn = <T,>(list: readonly T[], stateOf: (x: T) => string, states: readonly string[]): number[] => {
  const n = states.map(() => 0);
  for (const x of list) {
    const i = states.indexOf(stateOf(x));
    if (i >= 0) n[i]!++;
  }
  return n;
};

/** The second header line: agents, tasks and missions counted by state. */
const countsLine = (s: ConsoleState): string => {
  const agents = s.snapshot?.agents ?? [];
  const [working, idle, paused, quarantined] = countIn(agents, (a) => a.state, [
    'working',
    'idle',
    'paused',
    'quarantined',
  ]);
  const [running, blocked] = countIn(s.snapshot?.missions ?? [], (m) => m.state, ['running', 'blocked']);
  const c = s.snapshot?.taskCounts;
  const tasks = c
    ? `${c.pending} queued ${c.assigned + c.running} running ${c.completed} done ${c.failed} dead`
    : '-';
  return (
    ` agents ${agents.length}: ${working} working ${idle} idle ${paused} paused` +
    `${quarantined ? ` ${quarantined} quarantined` : ''}   tasks ${tasks}` +
    `   missions ${running} running ${blocked} blocked`
  );
};

/** The two header lines. */
const headerLines = (s: ConsoleState, now: number): [string, string] => {
  const where = `town ${s.snapshot?.town ?? '?'}  redis ${s.snapshot?.endpoint ?? '?'} (${linkText(s)})`;
  const line1 = ` tt  ${where}  ${dispatcherText(s, now)}${s.readOnly ? '  [READ-ONLY]' : ''}`;
  return [line1, countsLine(s)];
};

const Header = memo(
  ({
    line1,
    line2,
    bad,
    width,
  }: {
    line1: string;
    line2: string;
    bad: string | undefined;
    width: number;
  }) => (
    <Box flexDirection="column" width={width}>
      <Text bold {...(bad ? { color: bad } : {})} wrap="truncate-end">
        {line(cell(line1, width))}
      </Text>
      <Text wrap="truncate-end">{line(cell(line2, width))}</Text>
    </Box>
  ),
);

/** The keys of the log view (console/logview.ts logKey). */
export const LOG_HINTS = 'j/k scroll  g top  G follow  p previous  n next attempt  r raw  esc close';

/** Every key, from the command registry, grouped by where it works. */
export const helpLines = (s: ConsoleState): string[] => {
  const scopes: (PaneId | 'global')[] = ['global', ...PANES];
  const lines = scopes.flatMap((sc) => {
    const cs = tableOf(s).filter((c) => c.scope === sc && c.keys.length && !(s.readOnly && c.mutates));
    return cs.length
      ? [
          `${sc === 'global' ? 'everywhere' : `${TITLES[sc]} pane`}:`,
          ...cs.map((c) => `  ${cell(c.keys.join(' '), 16)} ${c.title}${c.dangerous ? ' (asks first)' : ''}`),
        ]
      : [];
  });
  return [
    ...lines,
    '',
    `log view (l): ${LOG_HINTS}`,
    'command line (:): every command by its name, e.g. :note resume, :assign <text>, :spawn ada --cli sim',
  ];
};

/** The keys that apply now, from the command registry. */
export const footerHints = (s: ConsoleState): string => {
  if (s.ui.filtering) return 'type to filter  enter keep  esc clear';
  const shown = tableOf(s).filter(
    (c) =>
      c.hint &&
      (c.scope === 'global' || c.scope === s.ui.pane) &&
      !(s.readOnly && c.mutates) &&
      !disabledReason(s, c),
  );
  return shown.map((c) => `${c.keys[0] === 'tab' ? 'tab' : c.keys[0]} ${c.hint}`).join('  ');
};

/** The footer's text: a recent message, else the last note's receipt and the keys that apply. */
const footerText = (s: ConsoleState, now: number): { text: string; error: boolean } => {
  const f = s.ui.footer && now - s.ui.footer.at < 8000 ? s.ui.footer : undefined;
  if (s.ui.modal?.kind === 'log') return { text: f ? f.text : LOG_HINTS, error: f?.kind === 'error' };
  const r = s.receipts.at(-1);
  const receipt =
    r &&
    `note "${r.body}": ${r.state === 'queued' ? 'queued' : `applied at tick ${r.tick ?? '?'}: ${r.effect}`}`;
  const text = f ? f.text : receipt ? `${receipt}   ${footerHints(s)}` : footerHints(s);
  return { text, error: f?.kind === 'error' };
};

const Footer = memo(({ text, bad, width }: { text: string; bad: string | undefined; width: number }) => (
  <Text {...(bad ? { color: bad } : {})} wrap="truncate-end">
    {line(cell(` ${text}`, width))}
  </Text>
));

/** The open modal's title and lines. */
const overlayOf = (s: ConsoleState): { title: string; lines: string[] } | undefined => {
  const m = s.ui.modal;
  if (!m) return undefined;
  if (m.kind === 'help')
    return { title: 'Keys (j/k scroll, any other key closes)', lines: helpLines(s).slice(m.scroll) };
  if (m.kind === 'confirm') return { title: m.title, lines: [m.detail, '', 'y / enter: yes    n / esc: no'] };
  if (m.kind === 'input')
    return { title: m.title, lines: [`> ${m.value}_`, '', 'enter: send    esc: cancel'] };
  if (m.kind === 'command')
    return { title: 'command (tab completes, up/down history, esc cancels)', lines: [`:${m.value}_`] };
  if (m.kind === 'log') return undefined;
  return { title: `${m.title} (j/k scroll, esc closes)`, lines: m.lines.slice(m.scroll) };
};

const Overlay = ({
  title,
  lines,
  theme,
  width,
  height,
}: {
  title: string;
  lines: string[];
  theme: Theme;
  width: number;
  height: number;
}) => {
  const w = Math.min(width - 4, 100);
  const max = Math.max(1, height - 6);
  return (
    <Box
      flexDirection="column"
      width={w}
      borderStyle="classic"
      {...(theme.focus ? { borderColor: theme.focus } : {})}
      paddingX={1}
    >
      <Text bold wrap="truncate-end">
        {cell(title, w - 4)}
      </Text>
      {lines.slice(0, max).map((l, i) => (
        <Text key={i} wrap="truncate-end">
          {cell(l, w - 4)}
        </Text>
      ))}
    </Box>
  );
};

/**
 * The log view over the whole body: a title (whose attempt, which, following or finished) and
 * the visible window of its lines, cut to the width. The lines were made display-safe when they
 * arrived (flatLine); cell() strips again on the way out.
 */
const LogFrame = ({
  log,
  rows,
  theme,
  width,
  height,
}: {
  log: LogView;
  rows: number;
  theme: Theme;
  width: number;
  height: number;
}) => {
  const inner = Math.max(1, width - 2);
  const top = logTop(log, rows);
  const shown = log.lines.length ? log.lines.slice(top, top + rows) : [logEmpty(log)];
  const bad = log.status === 'error' ? { color: theme.bad } : {};
  return (
    <Box
      flexDirection="column"
      width={width}
      height={height}
      borderStyle="classic"
      {...(theme.focus ? { borderColor: theme.focus } : {})}
    >
      <Text bold wrap="truncate-end" {...bad}>
        {line(cell(` ${logTitle(log, rows)}`, inner))}
      </Text>
      {shown.map((l, i) => (
        <Text key={top + i} wrap="truncate-end">
          {line(cell(` ${l}`, inner))}
        </Text>
      ))}
    </Box>
  );
};

/**
 * The whole console, laid out for the terminal size in the store (one row shorter than the
 * terminal: Ink 6.8 repaints fully otherwise).
 */
export const ConsoleView = ({
  store,
  theme,
  now,
}: {
  store: ConsoleStore;
  theme: Theme;
  now: () => number;
}) => {
  const s = useStore(store);
  const t = now();
  const { columns, rows } = s.size;
  const height = rows - 1;
  if (columns < MIN_SIZE.columns || height < MIN_SIZE.rows) {
    return (
      <Box flexDirection="column" width={columns} height={height} justifyContent="center" alignItems="center">
        <Text bold>terminal too small</Text>
        <Text>{`need ${MIN_SIZE.columns}x${MIN_SIZE.rows + 1}, have ${columns}x${rows}`}</Text>
      </Box>
    );
  }
  const body = height - 3;
  const panes: PaneArgs = { s, theme, width: columns, height: body, now: t };
  const overlay = overlayOf(s);
  const [line1, line2] = headerLines(s, t);
  const footer = footerText(s, t);
  return (
    <Box flexDirection="column" width={columns} height={height}>
      <Header line1={line1} line2={line2} bad={s.link !== 'linked' ? theme.bad : undefined} width={columns} />
      {s.ui.modal?.kind === 'log' ? (
        <LogFrame log={s.ui.modal.log} rows={logRows(s.size)} theme={theme} width={columns} height={body} />
      ) : overlay ? (
        <Box height={body} width={columns} justifyContent="center" alignItems="center">
          <Overlay title={overlay.title} lines={overlay.lines} theme={theme} width={columns} height={body} />
        </Box>
      ) : (
        <Box flexDirection="column" height={body}>
          {columns >= 100 ? widePanes(panes) : narrowPanes(panes)}
        </Box>
      )}
      <Footer text={footer.text} bad={footer.error ? theme.bad : undefined} width={columns} />
    </Box>
  );
};

/** Wide terminals: agents and tasks, then missions and events, side by side; help prompts below. */
const widePanes = ({ s, theme, width, height, now }: PaneArgs) => {
  const helpH = Math.max(4, Math.min(7, Math.floor(height / 6) + 2));
  const rest = height - helpH;
  const topH = Math.ceil(rest / 2);
  const midH = rest - topH;
  const left = Math.floor(width / 2);
  const pane = (id: PaneId, w: number, h: number) => (
    <Frame {...FRAMES[id]({ s, theme, width: w, height: h, now })} />
  );
  return (
    <>
      <Box height={topH}>
        {pane('agents', left, topH)}
        {pane('tasks', width - left, topH)}
      </Box>
      <Box height={midH}>
        {pane('missions', left, midH)}
        {pane('events', width - left, midH)}
      </Box>
      {pane('help', width, helpH)}
    </>
  );
};

/** Narrow terminals: the focused pane large, the others as one-line summaries. */
const narrowPanes = ({ s, theme, width, height, now }: PaneArgs) => {
  const others = PANES.filter((p) => p !== s.ui.pane);
  const focusedH = height - others.length;
  const counts: Record<PaneId, number> = {
    agents: agentRows(s).length,
    tasks: taskRows(s).length,
    missions: missionRows(s).length,
    events: eventRows(s).length,
    help: helpRows(s).length,
  };
  return (
    <>
      <Frame {...FRAMES[s.ui.pane]({ s, theme, width, height: focusedH, now })} />
      {others.map((p) => (
        <Text key={p} {...(theme.dim ? { color: theme.dim } : {})} wrap="truncate-end">
          {line(cell(` ${PANES.indexOf(p) + 1} ${TITLES[p]} (${counts[p]})`, width))}
        </Text>
      ))}
    </>
  );
};
