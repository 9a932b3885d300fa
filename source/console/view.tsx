import { Box, Text } from 'ink';
import { memo } from 'react';
import { useStore } from 'zustand';
import { AGENT_GLYPH, ITEM_GLYPH, MISSION_GLYPH, TASK_GLYPH } from '../model/glyphs.js';
import { disabledReason, tableOf } from './commands.js';
import { age, cell, hhmmss, sparkline } from './format.js';
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
import { PANES, type ConsoleState, type ConsoleStore, type PaneId } from './store.js';
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
          {line(cell(header, inner))}
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

/**
 * A pane's frame: the selection and its window over `count` rows, and a row drawn only when it is
 * visible (`rowAt`).
 */
const frameOf = (
  { s, theme, width, height }: PaneArgs,
  pane: PaneId,
  count: number,
  rowAt: (i: number) => RowView,
  header: string,
  note?: string,
): FrameProps => {
  const focused = s.ui.pane === pane;
  const body = Math.max(0, height - 5);
  const at = selectedIndex(s, pane);
  const start = windowStart(at, count, body);
  const end = Math.min(count, start + body);
  const rows: RowView[] = [];
  for (let i = start; i < end; i++) rows.push(rowAt(i));
  const filter = s.ui.filter[pane];
  const typing = s.ui.filtering === pane;
  const title = ` ${PANES.indexOf(pane) + 1} ${TITLES[pane]}${pane === 'events' ? (s.ui.follow ? ' (follow)' : ` (paused${s.ui.unseen ? `, ${s.ui.unseen} new` : ''})`) : ''}${filter || typing ? ` /${filter ?? ''}${typing ? '_' : ''}` : ''} `;
  const position = count ? `${Math.min(at + 1, count)} of ${count}` : (note ?? 'empty');
  return { theme, focused, width, height, title, header, rows, selected: at - start, position };
};

const stateColor = (theme: Theme, state: string): string | undefined =>
  ['error', 'failed', 'stopped', 'dead'].includes(state)
    ? theme.bad
    : ['paused', 'draining', 'blocked'].includes(state)
      ? theme.warn
      : ['working', 'running', 'done', 'completed'].includes(state)
        ? theme.ok
        : undefined;

const NO_THROUGHPUT: number[] = new Array(12).fill(0);

const agentsFrame = (a: PaneArgs): FrameProps => {
  const { s, theme, width } = a;
  const w = width - 3;
  // Narrow panes drop the role and the sparkline before the name gets squeezed.
  const full = w >= 80;
  const name = Math.max(10, w - (full ? 56 : 34));
  const rows = agentRows(s);
  const header = ` ${cell('STATE', 10)} ${cell('NAME', name)} ${full ? `${cell('ROLE', 9)} ` : ''}${cell('TASK', 6)} ${cell('HB', 4)} ${cell('IN', 3)}${full ? ` ${cell('RND', 4)} DONE/2m` : ''}`;
  return frameOf(
    a,
    'agents',
    rows.length,
    (i) => {
      const x = rows[i]!;
      return {
        id: x.id,
        color: stateColor(theme, x.state),
        text: `${cell(`${AGENT_GLYPH[x.state]} ${x.state}`, 10)} ${cell(x.label, name)} ${full ? `${cell(x.role ?? '-', 9)} ` : ''}${cell(x.currentTask?.slice(0, 6) ?? '-', 6)} ${cell(x.heartbeatAgeMs !== undefined ? age(x.heartbeatAgeMs) : '-', 4)} ${cell(String(x.inbox), 3)}${full ? ` ${cell(String(x.rounds), 4)} ${sparkline(s.throughput[x.id] ?? NO_THROUGHPUT)}` : ''}`,
      };
    },
    header,
    s.snapshot ? 'no agents: :spawn <name> --cli sim' : 'loading',
  );
};

const tasksFrame = (a: PaneArgs): FrameProps => {
  const { s, theme, width, now } = a;
  const w = width - 3;
  const labels = agentNames(s);
  const rows = taskRows(s);
  const c = s.snapshot?.taskCounts;
  return frameOf(
    a,
    'tasks',
    rows.length,
    (i) => {
      const t = rows[i]!;
      return {
        id: t.id,
        color: t.state === 'failed' ? theme.bad : t.priority === 'critical' ? theme.warn : undefined,
        text: `${cell(t.priority.slice(0, 4), 4)} ${cell(`${TASK_GLYPH[t.state]} ${t.state === 'failed' ? 'dead' : t.state}`, 10)} ${cell(t.description.split('\n', 1)[0]!, Math.max(8, w - 36))} ${cell(t.assignedTo ? (labels.get(t.assignedTo) ?? t.assignedTo.slice(0, 6)) : '-', 8)} ${cell(age(now - t.createdAt), 4)} ${cell(`${t.attempts}/${t.maxAttempts}`, 5)}`,
      };
    },
    ` ${cell('PRI', 4)} ${cell('STATE', 10)} ${cell('TASK', Math.max(8, w - 36))} ${cell('AGENT', 8)} ${cell('AGE', 4)} TRY`,
    c ? `${c.completed} done, nothing queued` : 'loading',
  );
};

const missionsFrame = (a: PaneArgs): FrameProps => {
  const { s, theme, width } = a;
  const labels = agentNames(s);
  const rows = missionRows(s);
  return frameOf(
    a,
    'missions',
    rows.length,
    (i) => {
      const r = rows[i]!;
      return r.kind === 'mission'
        ? {
            id: r.id,
            color: stateColor(theme, r.mission.state),
            text: `${MISSION_GLYPH[r.mission.state]} ${r.id.slice(0, 4)} ${cell(r.mission.state, 9)} ${cell(r.mission.title, Math.max(8, width - 40))} ${r.mission.itemsDone}/${r.mission.itemsTotal} done`,
          }
        : {
            id: r.id,
            color: stateColor(theme, r.item.status),
            text: `    ${ITEM_GLYPH[r.item.status]} ${cell(r.item.title, Math.max(8, width - 38))} ${cell(r.item.status, 8)} ${cell(r.item.assignedTo ? (labels.get(r.item.assignedTo) ?? '?') : r.item.deps.length && r.item.status === 'pending' ? 'waits' : '-', 8)}`,
          };
    },
    ' MISSION / WORK ITEM',
    s.snapshot ? 'no missions: tt mission start' : 'loading',
  );
};

const eventsFrame = (a: PaneArgs): FrameProps => {
  const { s, theme } = a;
  const labels = agentNames(s);
  const rows = eventRows(s);
  return frameOf(
    a,
    'events',
    rows.length,
    (i) => {
      const e = rows[i]!;
      return {
        id: e.id,
        color: /dead|failed|reaped|help/.test(e.type)
          ? theme.bad
          : /retry|paused|blocked/.test(`${e.type} ${e.state ?? ''}`)
            ? theme.warn
            : undefined,
        text: `${hhmmss(e.ts)} ${cell(e.type, 15)} ${cell(e.agent ? (labels.get(e.agent) ?? e.agent.slice(0, 6)) : e.mission ? `m ${e.mission.slice(0, 4)}` : '', 8)} ${e.task ? `${e.task.slice(0, 4)} ` : ''}${e.state ? `${e.prev ? `${e.prev}->` : ''}${e.state} ` : ''}${e.text ?? ''}`,
      };
    },
    ` TIME     TYPE            WHO      (${s.eventsTotal} seen)`,
    'no events yet',
  );
};

const helpFrame = (a: PaneArgs): FrameProps => {
  const { s, theme, now } = a;
  const rows = helpRows(s);
  return frameOf(
    a,
    'help',
    rows.length,
    (i) => {
      const h = rows[i]!;
      return {
        id: h.id,
        color: theme.warn,
        text: `! ${cell(age(now - h.createdAt), 4)} ${h.mission ? `mission ${h.mission.slice(0, 4)}: ` : ''}${h.text.replace(/^\[Mission Help Needed\] Mission \S+\s*/, '').split('\n', 1)[0]}`,
      };
    },
    ' AGE  QUESTION (a answer, r resume, p pause)',
    'no help prompts',
  );
};

const FRAMES: Record<PaneId, (a: PaneArgs) => FrameProps> = {
  agents: agentsFrame,
  tasks: tasksFrame,
  missions: missionsFrame,
  events: eventsFrame,
  help: helpFrame,
};

/** The two header lines. */
const headerLines = (s: ConsoleState, now: number): [string, string] => {
  const snap = s.snapshot;
  const missions = snap?.missions ?? [];
  const link =
    s.link === 'linked'
      ? 'linked'
      : s.link === 'connecting'
        ? 'connecting...'
        : `DISCONNECTED (retry ${s.retries})`;
  let lastTick = 0;
  let tick = 0;
  let wake = Infinity;
  let running = 0;
  let blocked = 0;
  for (const m of missions) {
    lastTick = Math.max(lastTick, m.lastTickAt ?? 0);
    tick = Math.max(tick, m.lastTick ?? 0);
    if (m.nextWakeAt) wake = Math.min(wake, m.nextWakeAt);
    if (m.state === 'running') running++;
    else if (m.state === 'blocked') blocked++;
  }
  const dispatcher = !s.dispatching
    ? 'dispatcher off (--no-dispatch)'
    : lastTick
      ? `dispatcher ok ${age(now - lastTick)} ago  tick ${tick}${Number.isFinite(wake) ? `  next ${age(wake - now)}` : ''}`
      : 'dispatcher idle';
  const a = snap?.agents ?? [];
  let working = 0;
  let idle = 0;
  let paused = 0;
  for (const x of a) {
    if (x.state === 'working') working++;
    else if (x.state === 'idle') idle++;
    else if (x.state === 'paused') paused++;
  }
  const c = snap?.taskCounts;
  const line1 = ` tt  town ${snap?.town ?? '?'}  redis ${snap?.endpoint ?? '?'} (${link})  ${dispatcher}${s.readOnly ? '  [READ-ONLY]' : ''}`;
  const line2 = ` agents ${a.length}: ${working} working ${idle} idle ${paused} paused   tasks ${c ? `${c.pending} queued ${c.assigned + c.running} running ${c.completed} done ${c.failed} dead` : '-'}   missions ${running} running ${blocked} blocked`;
  return [line1, line2];
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
  const receipt = s.receipts.at(-1);
  const text = f
    ? f.text
    : receipt
      ? `note "${receipt.body}": ${receipt.state === 'queued' ? 'queued' : `applied at tick ${receipt.tick ?? '?'}: ${receipt.effect}`}   ${footerHints(s)}`
      : footerHints(s);
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

/** The whole console, laid out for the terminal size in the store (one row shorter than the terminal: Ink 6.8 repaints fully otherwise). */
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
  const wide = columns >= 100;
  const helpH = Math.max(4, Math.min(7, Math.floor(body / 6) + 2));
  const rest = body - helpH;
  const topH = Math.ceil(rest / 2);
  const midH = rest - topH;
  const left = Math.floor(columns / 2);
  const pane = (id: PaneId, width: number, h: number) => (
    <Frame {...FRAMES[id]({ s, theme, width, height: h, now: t })} />
  );
  const overlay = overlayOf(s);
  const [line1, line2] = headerLines(s, t);
  const footer = footerText(s, t);
  return (
    <Box flexDirection="column" width={columns} height={height}>
      <Header line1={line1} line2={line2} bad={s.link !== 'linked' ? theme.bad : undefined} width={columns} />
      {overlay ? (
        <Box height={body} width={columns} justifyContent="center" alignItems="center">
          <Overlay title={overlay.title} lines={overlay.lines} theme={theme} width={columns} height={body} />
        </Box>
      ) : wide ? (
        <Box flexDirection="column" height={body}>
          <Box height={topH}>
            {pane('agents', left, topH)}
            {pane('tasks', columns - left, topH)}
          </Box>
          <Box height={midH}>
            {pane('missions', left, midH)}
            {pane('events', columns - left, midH)}
          </Box>
          {pane('help', columns, helpH)}
        </Box>
      ) : (
        <Box flexDirection="column" height={body}>
          {narrowPanes({ s, theme, width: columns, height: body, now: t })}
        </Box>
      )}
      <Footer text={footer.text} bad={footer.error ? theme.bad : undefined} width={columns} />
    </Box>
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
