import { Box, Text } from 'ink';
import { useStore } from 'zustand';
import { AGENT_GLYPH, ITEM_GLYPH, MISSION_GLYPH, TASK_GLYPH } from '../model/glyphs.js';
import { COMMANDS, disabledReason } from './commands.js';
import { age, cell, hhmmss, sparkline } from './format.js';
import { agentRows, eventRows, helpRows, missionRows, selectedIndex, taskRows, windowStart } from './rows.js';
import { PANES, type ConsoleState, type ConsoleStore, type PaneId } from './store.js';
import type { Theme } from './theme.js';

/** The smallest terminal the console lays out in. */
export const MIN_SIZE = { columns: 60, rows: 16 };

const TITLES: Record<PaneId, string> = { agents: 'Agents', tasks: 'Task queue', missions: 'Missions', events: 'Events', help: 'Help prompts' };

interface PaneProps {
  s: ConsoleState;
  theme: Theme;
  width: number;
  height: number;
  now: number;
}

/** A framed pane: title with its number, a header row, windowed rows, a position line. */
const Frame = ({ s, theme, pane, width, height, header, rows, note }: { s: ConsoleState; theme: Theme; pane: PaneId; width: number; height: number; header: string; rows: { id: string; text: string; color?: string | undefined }[]; note?: string }) => {
  const focused = s.ui.pane === pane;
  const inner = Math.max(1, width - 2);
  // Two border rows, the title, the column header and the position line.
  const body = Math.max(0, height - 5);
  const ids = rows.map((r) => r.id);
  const at = selectedIndex(s, pane, ids);
  const start = windowStart(at, rows.length, body);
  const visible = rows.slice(start, start + body);
  const filter = s.ui.filter[pane];
  const typing = s.ui.filtering === pane;
  const title = ` ${PANES.indexOf(pane) + 1} ${TITLES[pane]}${pane === 'events' ? (s.ui.follow ? ' (follow)' : ` (paused${s.ui.unseen ? `, ${s.ui.unseen} new` : ''})`) : ''}${filter || typing ? ` /${filter ?? ''}${typing ? '_' : ''}` : ''} `;
  const position = rows.length ? `${Math.min(at + 1, rows.length)} of ${rows.length}` : note ?? 'empty';
  return (
    <Box flexDirection="column" width={width} height={height} borderStyle="classic" {...(theme.border || theme.focus ? { borderColor: focused ? theme.focus : theme.border } : {})}>
      <Text bold={focused} wrap="truncate-end">{cell(`${focused ? '>' : ' '}${title}`, inner)}</Text>
      <Text {...(theme.dim ? { color: theme.dim } : {})} wrap="truncate-end">{cell(header, inner)}</Text>
      {visible.map((r, i) => {
        const selected = start + i === at;
        return (
          <Text key={r.id} inverse={selected && focused} bold={selected && !focused} {...(r.color ? { color: r.color } : {})} wrap="truncate-end">
            {cell(`${selected ? '>' : ' '}${r.text}`, inner)}
          </Text>
        );
      })}
      {new Array(Math.max(0, body - visible.length)).fill(0).map((_, i) => (
        <Text key={`pad-${i}`}> </Text>
      ))}
      <Text {...(theme.dim ? { color: theme.dim } : {})} wrap="truncate-end">{cell(position.padStart(inner), inner)}</Text>
    </Box>
  );
};

const stateColor = (theme: Theme, state: string): string | undefined =>
  ['error', 'failed', 'stopped', 'dead'].includes(state) ? theme.bad : ['paused', 'draining', 'blocked'].includes(state) ? theme.warn : ['working', 'running', 'done', 'completed'].includes(state) ? theme.ok : undefined;

const AgentsPane = ({ s, theme, width, height }: PaneProps) => {
  const w = width - 3;
  // Narrow panes drop the role and the sparkline before the name gets squeezed.
  const full = w >= 80;
  const name = Math.max(10, w - (full ? 56 : 34));
  const rows = agentRows(s).map((a) => ({
    id: a.id,
    color: stateColor(theme, a.state),
    text: `${cell(`${AGENT_GLYPH[a.state]} ${a.state}`, 10)} ${cell(a.label, name)} ${full ? `${cell(a.role ?? '-', 9)} ` : ''}${cell(a.currentTask?.slice(0, 6) ?? '-', 6)} ${cell(a.heartbeatAgeMs !== undefined ? age(a.heartbeatAgeMs) : '-', 4)} ${cell(String(a.inbox), 3)}${full ? ` ${cell(String(a.rounds), 4)} ${sparkline(s.throughput[a.id] ?? new Array(12).fill(0))}` : ''}`,
  }));
  const header = ` ${cell('STATE', 10)} ${cell('NAME', name)} ${full ? `${cell('ROLE', 9)} ` : ''}${cell('TASK', 6)} ${cell('HB', 4)} ${cell('IN', 3)}${full ? ` ${cell('RND', 4)} DONE/2m` : ''}`;
  return <Frame s={s} theme={theme} pane="agents" width={width} height={height} header={header} rows={rows} note={s.snapshot ? 'no agents: :spawn <name> --cli sim' : 'loading'} />;
};

const TasksPane = ({ s, theme, width, height, now }: PaneProps) => {
  const w = width - 3;
  const labels = new Map((s.snapshot?.agents ?? []).map((a) => [a.id, a.name]));
  const rows = taskRows(s).map((t) => ({
    id: t.id,
    color: t.state === 'failed' ? theme.bad : t.priority === 'critical' ? theme.warn : undefined,
    text: `${cell(t.priority.slice(0, 4), 4)} ${cell(`${TASK_GLYPH[t.state]} ${t.state === 'failed' ? 'dead' : t.state}`, 10)} ${cell(t.description.split('\n', 1)[0]!, Math.max(8, w - 36))} ${cell(t.assignedTo ? (labels.get(t.assignedTo) ?? t.assignedTo.slice(0, 6)) : '-', 8)} ${cell(age(now - t.createdAt), 4)} ${cell(`${t.attempts}/${t.maxAttempts}`, 5)}`,
  }));
  const c = s.snapshot?.taskCounts;
  return <Frame s={s} theme={theme} pane="tasks" width={width} height={height} header={` ${cell('PRI', 4)} ${cell('STATE', 10)} ${cell('TASK', Math.max(8, w - 36))} ${cell('AGENT', 8)} ${cell('AGE', 4)} TRY`} rows={rows} note={c ? `${c.completed} done, nothing queued` : 'loading'} />;
};

const MissionsPane = ({ s, theme, width, height }: PaneProps) => {
  const labels = new Map((s.snapshot?.agents ?? []).map((a) => [a.id, a.name]));
  const rows = missionRows(s).map((r) =>
    r.kind === 'mission'
      ? { id: r.id, color: stateColor(theme, r.mission.state), text: `${MISSION_GLYPH[r.mission.state]} ${r.id.slice(0, 4)} ${cell(r.mission.state, 9)} ${cell(r.mission.title, Math.max(8, width - 40))} ${r.mission.itemsDone}/${r.mission.itemsTotal} done` }
      : { id: r.id, color: stateColor(theme, r.item.status), text: `    ${ITEM_GLYPH[r.item.status]} ${cell(r.item.title, Math.max(8, width - 38))} ${cell(r.item.status, 8)} ${cell(r.item.assignedTo ? (labels.get(r.item.assignedTo) ?? '?') : r.item.deps.length && r.item.status === 'pending' ? 'waits' : '-', 8)}` },
  );
  return <Frame s={s} theme={theme} pane="missions" width={width} height={height} header=" MISSION / WORK ITEM" rows={rows} note={s.snapshot ? 'no missions: tt mission start' : 'loading'} />;
};

const EventsPane = ({ s, theme, width, height }: PaneProps) => {
  const labels = new Map((s.snapshot?.agents ?? []).map((a) => [a.id, a.name]));
  const rows = eventRows(s).map((e) => ({
    id: e.id,
    color: /dead|failed|reaped|help/.test(e.type) ? theme.bad : /retry|paused|blocked/.test(`${e.type} ${e.state ?? ''}`) ? theme.warn : undefined,
    text: `${hhmmss(e.ts)} ${cell(e.type, 15)} ${cell(e.agent ? (labels.get(e.agent) ?? e.agent.slice(0, 6)) : e.mission ? `m ${e.mission.slice(0, 4)}` : '', 8)} ${e.task ? `${e.task.slice(0, 4)} ` : ''}${e.state ? `${e.prev ? `${e.prev}->` : ''}${e.state} ` : ''}${e.text ?? ''}`,
  }));
  return <Frame s={s} theme={theme} pane="events" width={width} height={height} header={` TIME     TYPE            WHO      (${s.eventsTotal} seen)`} rows={rows} note="no events yet" />;
};

const HelpPane = ({ s, theme, width, height, now }: PaneProps) => {
  const rows = helpRows(s).map((h) => ({ id: h.id, color: theme.warn, text: `! ${cell(age(now - h.createdAt), 4)} ${h.mission ? `mission ${h.mission.slice(0, 4)}: ` : ''}${h.text.replace(/^\[Mission Help Needed\] Mission \S+\s*/, '').split('\n', 1)[0]}` }));
  return <Frame s={s} theme={theme} pane="help" width={width} height={height} header=" AGE  QUESTION (a answer, r resume, p pause)" rows={rows} note="no help prompts" />;
};

const Header = ({ s, theme, width, now }: { s: ConsoleState; theme: Theme; width: number; now: number }) => {
  const snap = s.snapshot;
  const link = s.link === 'linked' ? 'linked' : s.link === 'connecting' ? 'connecting...' : `DISCONNECTED (retry ${s.retries})`;
  const lastTick = Math.max(0, ...(snap?.missions ?? []).map((m) => m.lastTickAt ?? 0));
  const tick = Math.max(0, ...(snap?.missions ?? []).map((m) => m.lastTick ?? 0));
  const wake = Math.min(...(snap?.missions ?? []).filter((m) => m.nextWakeAt).map((m) => m.nextWakeAt!));
  const dispatcher = !s.dispatching ? 'dispatcher off (--no-dispatch)' : lastTick ? `dispatcher ok ${age(now - lastTick)} ago  tick ${tick}${Number.isFinite(wake) ? `  next ${age(wake - now)}` : ''}` : 'dispatcher idle';
  const a = snap?.agents ?? [];
  const count = (st: string) => a.filter((x) => x.state === st).length;
  const c = snap?.taskCounts;
  const line1 = ` tt  town ${snap?.town ?? '?'}  redis ${snap?.endpoint ?? '?'} (${link})  ${dispatcher}${s.readOnly ? '  [READ-ONLY]' : ''}`;
  const line2 = ` agents ${a.length}: ${count('working')} working ${count('idle')} idle ${count('paused')} paused   tasks ${c ? `${c.pending} queued ${c.assigned + c.running} running ${c.completed} done ${c.failed} dead` : '-'}   missions ${(snap?.missions ?? []).filter((m) => m.state === 'running').length} running ${(snap?.missions ?? []).filter((m) => m.state === 'blocked').length} blocked`;
  return (
    <Box flexDirection="column" width={width}>
      <Text bold {...(s.link !== 'linked' && theme.bad ? { color: theme.bad } : {})} wrap="truncate-end">{cell(line1, width)}</Text>
      <Text wrap="truncate-end">{cell(line2, width)}</Text>
    </Box>
  );
};

/** Every key, from the command registry, grouped by where it works. */
export const helpLines = (s: ConsoleState): string[] => {
  const scopes: (PaneId | 'global')[] = ['global', ...PANES];
  const lines = scopes.flatMap((sc) => {
    const cs = COMMANDS.filter((c) => c.scope === sc && c.keys.length && !(s.readOnly && c.mutates));
    return cs.length ? [`${sc === 'global' ? 'everywhere' : `${TITLES[sc]} pane`}:`, ...cs.map((c) => `  ${cell(c.keys.join(' '), 16)} ${c.title}${c.dangerous ? ' (asks first)' : ''}`)] : [];
  });
  return [...lines, '', 'command line (:): every command by its name, e.g. :note resume, :assign <text>, :spawn ada --cli sim'];
};

/** The keys that apply now, from the command registry. */
export const footerHints = (s: ConsoleState): string => {
  if (s.ui.filtering) return 'type to filter  enter keep  esc clear';
  const shown = COMMANDS.filter((c) => c.hint && (c.scope === 'global' || c.scope === s.ui.pane) && !(s.readOnly && c.mutates) && !disabledReason(s, c));
  return shown.map((c) => `${c.keys[0] === 'tab' ? 'tab' : c.keys[0]} ${c.hint}`).join('  ');
};

const Footer = ({ s, theme, width, now }: { s: ConsoleState; theme: Theme; width: number; now: number }) => {
  const f = s.ui.footer && now - s.ui.footer.at < 8000 ? s.ui.footer : undefined;
  const receipt = s.receipts.at(-1);
  const text = f ? f.text : receipt ? `note "${receipt.body}": ${receipt.state === 'queued' ? 'queued' : `applied at tick ${receipt.tick ?? '?'}: ${receipt.effect}`}   ${footerHints(s)}` : footerHints(s);
  return <Text {...(f?.kind === 'error' && theme.bad ? { color: theme.bad } : {})} wrap="truncate-end">{cell(` ${text}`, width)}</Text>;
};

const Overlay = ({ s, theme, width, height }: { s: ConsoleState; theme: Theme; width: number; height: number }) => {
  const m = s.ui.modal;
  if (!m) return null;
  const w = Math.min(width - 4, 100);
  let lines: string[] = [];
  let title = '';
  if (m.kind === 'help') {
    title = 'Keys (j/k scroll, any other key closes)';
    lines = helpLines(s).slice(m.scroll);
  } else if (m.kind === 'confirm') {
    title = m.title;
    lines = [m.detail, '', 'y / enter: yes    n / esc: no'];
  } else if (m.kind === 'input') {
    title = m.title;
    lines = [`> ${m.value}_`, '', 'enter: send    esc: cancel'];
  } else if (m.kind === 'command') {
    title = 'command (tab completes, up/down history, esc cancels)';
    lines = [`:${m.value}_`];
  } else {
    title = `${m.title} (j/k scroll, esc closes)`;
    lines = m.lines.slice(m.scroll);
  }
  const max = Math.max(1, height - 6);
  return (
    <Box flexDirection="column" width={w} borderStyle="classic" {...(theme.focus ? { borderColor: theme.focus } : {})} paddingX={1}>
      <Text bold wrap="truncate-end">{cell(title, w - 4)}</Text>
      {lines.slice(0, max).map((l, i) => (
        <Text key={i} wrap="truncate-end">{cell(l, w - 4)}</Text>
      ))}
    </Box>
  );
};

/** The whole console, laid out for the terminal size in the store (one row shorter than the terminal: Ink 6.8 repaints fully otherwise). */
export const ConsoleView = ({ store, theme, now }: { store: ConsoleStore; theme: Theme; now: () => number }) => {
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
  const props = { s, theme, now: t };
  const modalOpen = s.ui.modal !== undefined;
  return (
    <Box flexDirection="column" width={columns} height={height}>
      <Header s={s} theme={theme} width={columns} now={t} />
      {modalOpen ? (
        <Box height={body} width={columns} justifyContent="center" alignItems="center">
          <Overlay s={s} theme={theme} width={columns} height={body} />
        </Box>
      ) : wide ? (
        <Box flexDirection="column" height={body}>
          <Box height={topH}>
            <AgentsPane {...props} width={left} height={topH} />
            <TasksPane {...props} width={columns - left} height={topH} />
          </Box>
          <Box height={midH}>
            <MissionsPane {...props} width={left} height={midH} />
            <EventsPane {...props} width={columns - left} height={midH} />
          </Box>
          <HelpPane {...props} width={columns} height={helpH} />
        </Box>
      ) : (
        <Box flexDirection="column" height={body}>
          <NarrowPanes {...props} width={columns} height={body} />
        </Box>
      )}
      <Footer s={s} theme={theme} width={columns} now={t} />
    </Box>
  );
};

/** Narrow terminals: the focused pane large, the others as one-line summaries. */
const NarrowPanes = ({ s, theme, width, height, now }: PaneProps) => {
  const others = PANES.filter((p) => p !== s.ui.pane);
  const focusedH = height - others.length;
  const Pane = { agents: AgentsPane, tasks: TasksPane, missions: MissionsPane, events: EventsPane, help: HelpPane }[s.ui.pane];
  const counts: Record<PaneId, number> = { agents: agentRows(s).length, tasks: taskRows(s).length, missions: missionRows(s).length, events: eventRows(s).length, help: helpRows(s).length };
  return (
    <>
      <Pane s={s} theme={theme} width={width} height={focusedH} now={now} />
      {others.map((p) => (
        <Text key={p} {...(theme.dim ? { color: theme.dim } : {})} wrap="truncate-end">{cell(` ${PANES.indexOf(p) + 1} ${TITLES[p]} (${counts[p]})`, width)}</Text>
      ))}
    </>
  );
};

