import { EventEmitter } from 'node:events';
import { render as inkRender } from 'ink';
import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import {
  appendEvents,
  createConsoleStore,
  initialState,
  type ConsoleState,
} from '../../source/console/store.js';
import { MONO } from '../../source/console/theme.js';
import { ConsoleView, footerHints } from '../../source/console/view.js';
import { agent, item, NOW, snapshot, task } from '../helpers/console.js';

const view = (state: Partial<ConsoleState>, size: { columns: number; rows: number }) => {
  const store = createConsoleStore({
    ...initialState({ size }),
    link: 'linked',
    snapshot: snapshot(),
    ...state,
    size,
  });
  return { store, tree: <ConsoleView store={store} theme={MONO} now={() => NOW} /> };
};

/** ink-testing-library's stdout is 100 columns wide; wider layouts render into one of our own size. */
const renderWide = (tree: React.ReactElement, columns: number) => {
  const stdout = Object.assign(new EventEmitter(), {
    columns,
    frames: [] as string[],
    write(f: string) {
      this.frames.push(f);
    },
  });
  const stdin = Object.assign(new EventEmitter(), {
    isTTY: true,
    setEncoding() {},
    setRawMode() {},
    resume() {},
    pause() {},
    ref() {},
    unref() {},
    read: () => null,
  });
  const instance = inkRender(tree, {
    stdout: stdout as never,
    stdin: stdin as never,
    debug: true,
    exitOnCtrlC: false,
    patchConsole: false,
  });
  return { lastFrame: () => stdout.frames.at(-1) ?? '', unmount: () => instance.unmount() };
};

const lines = (frame: string | undefined) => (frame ?? '').split('\n');

describe('console view', () => {
  it.each([
    [100, 30],
    [80, 24],
  ])('fills exactly %ix%i less one row, every line within the width', (columns, rows) => {
    const { tree } = view({}, { columns, rows });
    const r = render(tree);
    const frame = lines(r.lastFrame());
    expect(frame).toHaveLength(rows - 1);
    expect(Math.max(...frame.map((l) => l.length))).toBeLessThanOrEqual(columns);
    r.unmount();
  });

  it('at 100x30 shows the header, all five panes with their rows, and the footer keys', () => {
    const { tree } = view({}, { columns: 100, rows: 30 });
    const r = render(tree);
    const f = r.lastFrame()!;
    expect(f).toMatch(/tt {2}town demo {2}redis unix:\/tmp\/demo\/\.tt\/redis\.sock \(linked\)/);
    expect(f).toMatch(/agents 2: 1 working 1 idle 0 paused/);
    for (const title of ['1 Agents', '2 Task queue', '3 Missions', '4 Events', '5 Help prompts'])
      expect(f).toContain(title);
    expect(f).toMatch(/\* working\s+Ada \[backend\]/);
    expect(f).toMatch(/! dead\s+task t3/);
    expect(f).toMatch(/> m1 running\s+mission m1\s+0\/2 done/);
    expect(f).toMatch(/! 2m\s+mission m1: Mission m1 has 1 ready work item/);
    expect(lines(f).at(-1)).toMatch(/q quit\s+\? help\s+: command/);
    r.unmount();
  });

  it('at 200x60 lays the panes out wide with room to spare', () => {
    const { tree } = view({}, { columns: 200, rows: 60 });
    const r = renderWide(tree, 200);
    const frame = lines(r.lastFrame());
    expect(frame).toHaveLength(59);
    expect(frame.some((l) => l.includes('1 Agents') && l.includes('2 Task queue'))).toBe(true);
    expect(Math.max(...frame.map((l) => l.length))).toBeLessThanOrEqual(200);
    r.unmount();
  });

  it('says what it is waiting for while loading, and what to do when empty', () => {
    const loading = render(
      view({ snapshot: undefined, link: 'connecting' }, { columns: 100, rows: 30 }).tree,
    );
    expect(loading.lastFrame()).toMatch(/connecting\.\.\./);
    expect(loading.lastFrame()).toMatch(/loading/);
    loading.unmount();
    const empty = render(
      view(
        { snapshot: snapshot({ agents: [], tasks: [], missions: [], items: {}, help: [] }) },
        { columns: 100, rows: 30 },
      ).tree,
    );
    expect(empty.lastFrame()).toMatch(/no agents: :spawn <name> --cli sim/);
    expect(empty.lastFrame()).toMatch(/no missions: tt mission start/);
    expect(empty.lastFrame()).toMatch(/no help prompts/);
    empty.unmount();
  });

  it('shows a disconnected banner with the retry count, and hides keys that cannot act', () => {
    const { tree, store } = view({ link: 'disconnected', retries: 3 }, { columns: 100, rows: 30 });
    const r = render(tree);
    expect(r.lastFrame()).toMatch(/DISCONNECTED \(retry 3\)/);
    expect(footerHints(store.getState())).not.toMatch(/interrupt/);
    expect(footerHints({ ...store.getState(), link: 'linked' })).toMatch(/interrupt/);
    r.unmount();
  });

  it('keeps its height with far more rows than fit: windows around the selection, counts them', () => {
    const many = Array.from({ length: 1000 }, (_, i) => agent(`agent${String(i).padStart(4, '0')}`));
    const tasks = Array.from({ length: 10_000 }, (_, i) => task(`task${i}`));
    const { tree, store } = view({ snapshot: snapshot({ agents: many, tasks }) }, { columns: 100, rows: 30 });
    store.setState((s) => ({ ui: { ...s.ui, selected: { agents: many[500]!.id } } }));
    const events = Array.from({ length: 20_000 }, (_, i) => ({
      id: `${i}-0`,
      type: 'task.created',
      ts: NOW,
      text: `event ${i}`,
    }));
    store.setState((s) => appendEvents(s, events, NOW));
    const r = render(tree);
    const frame = lines(r.lastFrame());
    expect(frame).toHaveLength(29);
    expect(r.lastFrame()).toMatch(/501 of 1000/);
    expect(r.lastFrame()).toMatch(/Agent0500 \[/);
    expect(r.lastFrame()).toMatch(/10000 of 10000|1 of 10000/);
    expect(r.lastFrame()).toMatch(/10000 of 10000 *\|/);
    expect(r.lastFrame()).toMatch(/event 19999/);
    r.unmount();
  });

  it('says so when the terminal is too small', () => {
    const r = render(view({}, { columns: 50, rows: 10 }).tree);
    expect(r.lastFrame()).toMatch(/terminal too small/);
    expect(r.lastFrame()).toMatch(/need 60x17, have 50x10/);
    r.unmount();
  });

  it('narrow terminals get the focused pane large and the rest as one line each', () => {
    const { tree, store } = view({}, { columns: 80, rows: 24 });
    store.setState((s) => ({ ui: { ...s.ui, pane: 'missions' } }));
    const r = render(tree);
    const f = r.lastFrame()!;
    expect(f).toMatch(/3 Missions/);
    expect(f).toMatch(/^ 1 Agents \(2\)/m);
    expect(f).toMatch(/^ 5 Help prompts \(1\)/m);
    expect(f).toContain('item i2');
    r.unmount();
  });

  it('overlays: help generated from the registry, a confirmation naming its target', async () => {
    const { tree, store } = view({}, { columns: 100, rows: 30 });
    const { helpLines } = await import('../../source/console/view.js');
    const keys = helpLines(store.getState());
    expect(keys).toContain('Agents pane:');
    expect(keys.some((l) => /^ {2}K +stop the agent now \(asks first\)$/.test(l))).toBe(true);
    store.setState((s) => ({ ui: { ...s.ui, modal: { kind: 'help', scroll: 0 } } }));
    const r = render(tree);
    expect(r.lastFrame()).toMatch(/Keys \(j\/k scroll/);
    expect(r.lastFrame()).toMatch(/q ctrl\+c +quit/);
    r.unmount();
    store.setState((s) => ({
      ui: {
        ...s.ui,
        modal: {
          kind: 'confirm',
          title: 'stop the agent now?',
          detail: 'Bob [tester]',
          command: 'kill',
          args: [],
        },
      },
    }));
    const c = render(tree);
    expect(c.lastFrame()).toMatch(/stop the agent now\?/);
    expect(c.lastFrame()).toMatch(/Bob \[tester\]/);
    c.unmount();
  });

  it('columns are declared once: titles stand over their cells, narrow panes drop wide ones', async () => {
    const { AGENT_COLUMNS, TASK_COLUMNS, headerLine, layout, rowLine } =
      await import('../../source/console/columns.js');
    const s: ConsoleState = { ...initialState(), snapshot: snapshot() };
    const names = new Map([['ada-0000-4000-8000-000000000000', 'ada']]);
    const offsets = (widths: number[]) =>
      widths.map((_, i) => widths.slice(0, i).reduce((n, w) => n + w + 1, 0));
    for (const [table, row, width] of [
      [AGENT_COLUMNS, s.snapshot!.agents[0]!, 97],
      [AGENT_COLUMNS, s.snapshot!.agents[0]!, 47],
      [TASK_COLUMNS, s.snapshot!.tasks[0]!, 77],
    ] as const) {
      const c = { s, now: NOW, names, width };
      const l = layout(table as typeof AGENT_COLUMNS, width);
      const header = headerLine(l, c);
      const line = rowLine(l, row as never, c);
      const at = offsets(l.columns.map((x) => x.width));
      l.columns.forEach(({ column, width: w }, i) => {
        expect(header.slice(at[i]!).startsWith(column.title as string)).toBe(true);
        expect(line.slice(at[i]!, at[i]! + w).trimEnd()).toBe(column.cell(row as never, c).trimEnd());
      });
      expect(line.length).toBeLessThanOrEqual(width);
    }
    expect(headerLine(layout(AGENT_COLUMNS, 97), { s, now: NOW, names, width: 97 })).toMatch(
      /ROLE.*DONE\/2m/,
    );
    expect(headerLine(layout(AGENT_COLUMNS, 47), { s, now: NOW, names, width: 47 })).not.toMatch(/ROLE|RND/);
  });

  it('status never by colour alone: states carry a glyph and a word', () => {
    const { tree } = view(
      { snapshot: snapshot({ items: { m1: [item('i1', 'm1', { status: 'blocked' })] } }) },
      { columns: 100, rows: 30 },
    );
    const r = render(tree);
    expect(r.lastFrame()).toMatch(/= item i1\s+blocked/);
    expect(r.lastFrame()).toMatch(/o idle\s+Bob/);
    r.unmount();
  });
});
