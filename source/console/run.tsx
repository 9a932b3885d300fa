import { render, useInput } from 'ink';
import { useEffect, useRef } from 'react';
import type { Town } from '../services/context.js';
import { dispatch } from '../services/missions.js';
import { say, type CommandContext, type CommandTable } from './commands.js';
import { detailOf, whyOf } from './detail.js';
import { handleKey } from './keys.js';
import { stopLog } from './logview.js';
import { townActions, startAdapter } from './session.js';
import { createConsoleStore, initialState, type ConsoleState, type ConsoleStore } from './store.js';
import { themeFor } from './theme.js';
import { ConsoleView } from './view.js';

/**
 * Ink throttles drawing to this rate. Commits come from keys and the adapter's 80 ms event flush,
 * so frames follow them; a lower cap (12) made a key wait up to two throttle windows (p95 157 ms in
 * `npm run bench -- console`, 34 ms at 60).
 */
export const MAX_FPS = 60;

export interface ConsoleOptions {
  dispatch: boolean;
  readOnly: boolean;
  mono: boolean;
  stdout: NodeJS.WriteStream;
  stdin: NodeJS.ReadStream;
  /** The command table with the user's key bindings (applyKeyBindings); the defaults if absent. */
  commands?: CommandTable;
}

const ALT_ON = '\u001b[?1049h\u001b[?25l';
const ALT_OFF = '\u001b[?25h\u001b[?1049l';

const App = ({
  store,
  ctx,
  now,
  theme,
}: {
  store: ConsoleStore;
  ctx: CommandContext;
  now: () => number;
  theme: ReturnType<typeof themeFor>;
}) => {
  // Keys are handled one after another: a command that awaits Redis must finish before the next
  // key reads the state it leaves (a filter opened by "/" receives the text typed after it).
  // A command stuck on an unreachable Redis holds the keys behind it; Ctrl+C pressed while one is
  // in flight quits at once.
  const queue = useRef(Promise.resolve());
  const inFlight = useRef(0);
  useInput((input, key) => {
    if (key.ctrl && input === 'c' && inFlight.current > 0) return ctx.quit();
    inFlight.current++;
    queue.current = queue.current
      .then(() => handleKey(ctx, input, key))
      .then(
        () => undefined,
        (e: unknown) => say(ctx, (e as Error).message, 'error'),
      )
      .finally(() => void inFlight.current--);
  });
  useEffect(() => {
    // Ages in the header and panes move once a second even when nothing else changes.
    const timer = setInterval(() => store.setState({}), 1000);
    return () => clearInterval(timer);
  }, [store]);
  return <ConsoleView store={store} theme={theme} now={now} />;
};

/** The command context over a town: its actions, the clock, quitting, the detail and why views. */
const commandContext = (t: Town, store: ConsoleStore, quit: () => void): CommandContext => {
  const now = () => t.clock.now();
  return {
    store,
    actions: townActions(t, store),
    now,
    quit,
    detail: () => {
      const m = detailOf(store.getState());
      if (m) store.setState((s) => ({ ui: { ...s.ui, modal: m } }));
      else say({ store, now }, 'nothing selected', 'error');
    },
    why: () => {
      const m = whyOf(store.getState());
      if (m) store.setState((s) => ({ ui: { ...s.ui, modal: m } }));
    },
  };
};

/**
 * SIGTERM and SIGHUP quit, a crash restores the terminal before it exits, a resize reaches the
 * store. Returns what takes the handlers off again.
 */
const watchProcess = (
  o: ConsoleOptions,
  store: ConsoleStore,
  size: () => ConsoleState['size'],
  quit: () => void,
) => {
  const onSignal = () => quit();
  const onCrash = (e: unknown) => {
    o.stdout.write(ALT_OFF);
    process.stderr.write(`tt console: ${(e as Error)?.stack ?? String(e)}\n`);
    process.exit(1);
  };
  const onResize = () => store.setState({ size: size() });
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
  process.on('uncaughtException', onCrash);
  o.stdout.on('resize', onResize);
  return () => {
    o.stdout.off('resize', onResize);
    process.off('SIGTERM', onSignal);
    process.off('SIGHUP', onSignal);
    process.off('uncaughtException', onCrash);
  };
};

/**
 * The console: the alternate screen, the store fed by the adapter, the dispatcher in this process
 * (unless told not to), every key through the command registry. Resolves when the operator quits
 * or a signal arrives; the terminal is restored on every path.
 */
export const runConsole = async (t: Town, o: ConsoleOptions): Promise<void> => {
  const size = () => ({ columns: o.stdout.columns || 120, rows: o.stdout.rows || 40 });
  const store = createConsoleStore(
    initialState({
      readOnly: o.readOnly,
      dispatching: o.dispatch,
      size: size(),
      ...(o.commands ? { commands: o.commands } : {}),
    }),
  );
  const abort = new AbortController();
  let resolveQuit!: () => void;
  const quitting = new Promise<void>((r) => (resolveQuit = r));
  const quit = () => {
    abort.abort();
    resolveQuit();
  };
  const ctx = commandContext(t, store, quit);
  const unwatch = watchProcess(o, store, size, quit);
  o.stdout.write(ALT_ON);
  const app = render(<App store={store} ctx={ctx} now={ctx.now} theme={themeFor(t.env, o.mono)} />, {
    stdout: o.stdout,
    stdin: o.stdin,
    exitOnCtrlC: false,
    patchConsole: true,
    maxFps: MAX_FPS,
    incrementalRendering: process.env.TT_INCREMENTAL === '1',
  });
  const adapter = startAdapter(t, store, {
    snapshotMs: 2000,
    flushMs: 80,
    signal: abort.signal,
    onHelp: () => o.stdout.write('\u0007'),
  });
  const dispatcher = o.dispatch
    ? dispatch(t, { once: false, signal: abort.signal, onTick: () => adapter.refresh() }).catch((e) =>
        say(ctx, `dispatcher stopped: ${(e as Error).message}`, 'error'),
      )
    : Promise.resolve();
  try {
    await quitting;
  } finally {
    stopLog(store);
    app.unmount();
    o.stdout.write(ALT_OFF);
    unwatch();
    await Promise.race([Promise.all([adapter.done, dispatcher]), new Promise((r) => setTimeout(r, 3000))]);
  }
};
