import { isTerminalAgent } from '../model/agent.js';
import { isTerminalMission } from '../model/mission.js';
import { resolveAgentRef, resolveIdPrefix } from '../model/resolve.js';
import { parseFlags } from '../services/flags.js';
import { spawnRequest, SPAWN_FLAGS } from '../services/spawn.js';
import type { ConsoleActions } from './actions.js';
import { openLog } from './logview.js';
import { agentRows, helpRows, missionRows, rowIds, selectedIndex, taskRows } from './rows.js';
import { PANES, type ConsoleState, type ConsoleStore, type Modal, type PaneId } from './store.js';

export type Scope = 'global' | PaneId;

export interface CommandContext {
  store: ConsoleStore;
  actions: ConsoleActions;
  now(): number;
  quit(): void;
  /** Opens the detail view of the selected row. */
  detail(): void;
  /** Opens the "why is this not assigned?" view of the selected row. */
  why(): void;
}

/**
 * One console command. The same table drives key dispatch, the footer hints, the `?` help, the
 * `:` command line and read-only mode.
 */
export interface ConsoleCommand {
  readonly id: string;
  readonly title: string;
  readonly keys: readonly string[];
  readonly scope: Scope;
  /** Changes the town: disabled while disconnected, gone in read-only mode. */
  readonly mutates?: boolean;
  /** Asks for confirmation first. */
  readonly dangerous?: boolean;
  /** Shown in the footer when it applies. */
  readonly hint?: string;
  /** Why it cannot run now, or undefined. */
  disabled?(s: ConsoleState): string | undefined;
  run(ctx: CommandContext, args: string[]): void | Promise<void>;
}

/** A table of console commands: the defaults (COMMANDS), or the defaults with the user's keys. */
export type CommandTable = readonly ConsoleCommand[];

const set = (ctx: CommandContext, f: (s: ConsoleState) => Partial<ConsoleState>) =>
  ctx.store.setState(f(ctx.store.getState()));
const ui = (ctx: CommandContext, f: (u: ConsoleState['ui']) => Partial<ConsoleState['ui']>) =>
  set(ctx, (s) => ({ ui: { ...s.ui, ...f(s.ui) } }));
export const say = (
  ctx: Pick<CommandContext, 'store' | 'now'>,
  text: string,
  kind: 'info' | 'error' = 'info',
) => ctx.store.setState((s) => ({ ui: { ...s.ui, footer: { text, kind, at: ctx.now() } } }));
const open = (ctx: CommandContext, modal: Modal) => ui(ctx, () => ({ modal }));

/** The selected row of a pane: the rows are indexed once, not searched per row. */
const selectedRow = <R>(s: ConsoleState, pane: PaneId, rows: R[]): R | undefined =>
  rows[selectedIndex(s, pane, rowIds(s, pane))];
export const selectedAgent = (s: ConsoleState) => selectedRow(s, 'agents', agentRows(s));
export const selectedTask = (s: ConsoleState) => selectedRow(s, 'tasks', taskRows(s));
export const selectedMissionRow = (s: ConsoleState) => selectedRow(s, 'missions', missionRows(s));
export const selectedHelp = (s: ConsoleState) => selectedRow(s, 'help', helpRows(s));

/** Runs an action, reporting its outcome (or its error) in the footer. */
const act = async (ctx: CommandContext, work: () => Promise<string>) => {
  try {
    say(ctx, await work());
  } catch (e) {
    say(ctx, (e as Error).message, 'error');
  }
};

const move = (ctx: CommandContext, delta: number | 'top' | 'bottom') =>
  set(ctx, (s) => {
    const pane = s.ui.pane;
    const ids = rowIds(s, pane);
    if (ids.length === 0) return {};
    const at = selectedIndex(s, pane, ids);
    const page = Math.max(1, Math.floor(s.size.rows / 3));
    const to =
      delta === 'top'
        ? 0
        : delta === 'bottom'
          ? ids.length - 1
          : Math.max(
              0,
              Math.min(ids.length - 1, at + (Math.abs(delta) === 99 ? Math.sign(delta) * page : delta)),
            );
    const follow = pane === 'events' ? to === ids.length - 1 && delta !== 'top' : s.ui.follow;
    return {
      ui: {
        ...s.ui,
        selected: { ...s.ui.selected, [pane]: ids[to] },
        follow,
        ...(pane === 'events' && follow ? { unseen: 0 } : {}),
      },
    };
  });

/**
 * On the command line a mission or an agent may be named first (:note 9c1e resume,
 * :assign ada write the docs); without one, the selected row is meant.
 */
export const namedMission = (s: ConsoleState, args: string[]): { id?: string; rest: string[] } =>
  named(args, (first) =>
    resolveIdPrefix(
      'mission',
      first,
      (s.snapshot?.missions ?? []).map((m) => m.id),
    ),
  );
/** An agent named as the CLI resolves it (name, nickname, label, or 4+ digits of its id). */
export const namedAgent = (s: ConsoleState, args: string[]): { id?: string; rest: string[] } =>
  named(args, (first) =>
    resolveAgentRef(
      first,
      (s.snapshot?.agents ?? []).map((a) => ({ ...a, nickname: a.nickname ?? '' })),
      { allowSupervisor: false },
    ),
  );
/** The first word names something when it resolves to exactly one; else it is part of the text. */
const named = (args: string[], resolve: (first: string) => string): { id?: string; rest: string[] } => {
  if (!args[0]) return { rest: args };
  try {
    return { id: resolve(args[0]), rest: args.slice(1) };
  } catch {
    return { rest: args };
  }
};

const missionOf = (s: ConsoleState): string | undefined => {
  const row = selectedMissionRow(s);
  if (row) return row.mission.id;
  const h = selectedHelp(s);
  return h?.mission;
};

const needMission = (s: ConsoleState) => (missionOf(s) ? undefined : 'select a mission first (pane 3)');
const needAgent = (s: ConsoleState) => (selectedAgent(s) ? undefined : 'select an agent first (pane 1)');
const needTask = (s: ConsoleState) => (selectedTask(s) ? undefined : 'select a task first (pane 2)');

const DEFAULTS: ConsoleCommand[] = [
  // Global
  {
    id: 'quit',
    title: 'quit (asks when the dispatcher has work in flight)',
    keys: ['q', 'ctrl+c'],
    scope: 'global',
    hint: 'quit',
    run: (ctx) => quitCommand(ctx),
  },
  {
    id: 'help',
    title: 'show every key',
    keys: ['?'],
    scope: 'global',
    hint: 'help',
    run: (ctx) => open(ctx, { kind: 'help', scroll: 0 }),
  },
  {
    id: 'command',
    title: 'command line',
    keys: [':'],
    scope: 'global',
    hint: 'command',
    run: (ctx) => open(ctx, { kind: 'command', value: '', historyIndex: -1 }),
  },
  {
    id: 'filter',
    title: 'filter the focused pane (!text excludes)',
    keys: ['/'],
    scope: 'global',
    hint: 'filter',
    run: (ctx) => ui(ctx, (u) => ({ filtering: u.pane })),
  },
  {
    id: 'next-pane',
    title: 'next pane',
    keys: ['tab'],
    scope: 'global',
    hint: 'pane',
    run: (ctx) => ui(ctx, (u) => ({ pane: PANES[(PANES.indexOf(u.pane) + 1) % PANES.length]! })),
  },
  {
    id: 'prev-pane',
    title: 'previous pane',
    keys: ['shift+tab'],
    scope: 'global',
    run: (ctx) =>
      ui(ctx, (u) => ({ pane: PANES[(PANES.indexOf(u.pane) + PANES.length - 1) % PANES.length]! })),
  },
  ...PANES.map((p, i): ConsoleCommand => ({
    id: `focus-${p}`,
    title: `focus the ${p} pane`,
    keys: [String(i + 1)],
    scope: 'global',
    run: (ctx) => ui(ctx, () => ({ pane: p })),
  })),
  {
    id: 'down',
    title: 'move down',
    keys: ['j', 'down'],
    scope: 'global',
    hint: 'move',
    run: (ctx) => move(ctx, 1),
  },
  { id: 'up', title: 'move up', keys: ['k', 'up'], scope: 'global', run: (ctx) => move(ctx, -1) },
  {
    id: 'page-down',
    title: 'page down',
    keys: ['pagedown', 'ctrl+d'],
    scope: 'global',
    run: (ctx) => move(ctx, 99),
  },
  {
    id: 'page-up',
    title: 'page up',
    keys: ['pageup', 'ctrl+u'],
    scope: 'global',
    run: (ctx) => move(ctx, -99),
  },
  { id: 'top', title: 'first row', keys: ['g', 'home'], scope: 'global', run: (ctx) => move(ctx, 'top') },
  {
    id: 'bottom',
    title: 'last row (in events: follow again)',
    keys: ['G', 'end'],
    scope: 'global',
    run: (ctx) => move(ctx, 'bottom'),
  },
  {
    id: 'open',
    title: 'open the selected row',
    keys: ['enter'],
    scope: 'global',
    hint: 'open',
    run: (ctx) => ctx.detail(),
  },

  // Missions (also from a help prompt that names one)
  {
    id: 'resume',
    title: 'resume the mission (:resume [<mission>])',
    keys: ['r'],
    scope: 'missions',
    mutates: true,
    hint: 'resume',
    disabled: needMission,
    run: (ctx, args) =>
      act(ctx, () =>
        ctx.actions.resumeMission(
          namedMission(ctx.store.getState(), args).id ?? missionOf(ctx.store.getState())!,
        ),
      ),
  },
  {
    id: 'pause',
    title: 'pause the mission (:pause [<mission>])',
    keys: ['p'],
    scope: 'missions',
    mutates: true,
    hint: 'pause',
    disabled: needMission,
    run: (ctx, args) =>
      act(ctx, () =>
        ctx.actions.pauseMission(
          namedMission(ctx.store.getState(), args).id ?? missionOf(ctx.store.getState())!,
        ),
      ),
  },
  {
    id: 'note',
    title: 'send the mission a control note (:note [<mission>] <text>)',
    keys: ['n'],
    scope: 'missions',
    mutates: true,
    hint: 'note',
    disabled: needMission,
    run: (ctx, args) => {
      const named = namedMission(ctx.store.getState(), args);
      if (!named.rest.length)
        return open(ctx, {
          kind: 'input',
          title: 'note (resume | pause | redirect [<item>] to <agent> | text)',
          value: '',
          command: 'note',
          args: named.id ? [named.id] : [],
        });
      return act(ctx, () =>
        ctx.actions.noteMission(named.id ?? missionOf(ctx.store.getState())!, named.rest.join(' ')),
      );
    },
  },
  {
    id: 'redirect',
    title: 'redirect the selected work item to an agent',
    keys: ['d'],
    scope: 'missions',
    mutates: true,
    hint: 'redirect',
    disabled: (s) => (selectedMissionRow(s)?.kind === 'item' ? undefined : 'select a work item first'),
    run: (ctx, args) => {
      const row = selectedMissionRow(ctx.store.getState());
      if (row?.kind !== 'item') return;
      if (args.length)
        return act(ctx, () => ctx.actions.redirectItem(row.mission.id, row.item.id, args.join(' ')));
      open(ctx, {
        kind: 'input',
        title: `redirect "${row.item.title}" to agent`,
        value: '',
        command: 'redirect',
        args: [],
      });
    },
  },
  {
    id: 'stop',
    title: 'stop the mission',
    keys: ['S'],
    scope: 'missions',
    mutates: true,
    dangerous: true,
    disabled: (s) =>
      needMission(s) ??
      (isTerminalMission(s.snapshot?.missions.find((m) => m.id === missionOf(s))?.state ?? 'running')
        ? 'the mission has ended'
        : undefined),
    run: (ctx) => act(ctx, () => ctx.actions.stopMission(missionOf(ctx.store.getState())!, false)),
  },
  {
    id: 'why',
    title: 'why is this work item not assigned?',
    keys: ['w'],
    scope: 'missions',
    hint: 'why',
    disabled: (s) => (selectedMissionRow(s)?.kind === 'item' ? undefined : 'select a work item first'),
    run: (ctx) => ctx.why(),
  },
  {
    id: 'task-why',
    title: 'why is this task not assigned?',
    keys: ['w'],
    scope: 'tasks',
    hint: 'why',
    disabled: (s) =>
      selectedTask(s)?.state === 'pending' ? undefined : 'only a queued task waits for an agent',
    run: (ctx) => ctx.why(),
  },

  // Help prompts
  {
    id: 'answer',
    title: 'answer the help prompt (becomes a control note)',
    keys: ['a'],
    scope: 'help',
    mutates: true,
    hint: 'answer',
    disabled: (s) => (selectedHelp(s) ? undefined : 'no help prompt selected'),
    run: (ctx, args) => {
      const h = selectedHelp(ctx.store.getState());
      if (!h) return;
      if (args.length) return act(ctx, () => ctx.actions.answerHelp(h, args.join(' ')));
      open(ctx, {
        kind: 'input',
        title: 'answer (resume | pause | redirect ... | text)',
        value: '',
        command: 'answer',
        args: [],
      });
    },
  },
  {
    id: 'help-resume',
    title: 'resume the mission of the prompt',
    keys: ['r'],
    scope: 'help',
    mutates: true,
    disabled: needMission,
    run: (ctx) => act(ctx, () => ctx.actions.resumeMission(missionOf(ctx.store.getState())!)),
  },
  {
    id: 'help-pause',
    title: 'pause the mission of the prompt',
    keys: ['p'],
    scope: 'help',
    mutates: true,
    disabled: needMission,
    run: (ctx) => act(ctx, () => ctx.actions.pauseMission(missionOf(ctx.store.getState())!)),
  },

  // Agents
  {
    id: 'interrupt',
    title: 'pause the agent',
    keys: ['i'],
    scope: 'agents',
    mutates: true,
    hint: 'interrupt',
    disabled: needAgent,
    run: (ctx) => act(ctx, () => ctx.actions.interruptAgent(selectedAgent(ctx.store.getState())!.id)),
  },
  {
    id: 'agent-resume',
    title: 'resume the agent',
    keys: ['r'],
    scope: 'agents',
    mutates: true,
    hint: 'resume',
    disabled: needAgent,
    run: (ctx) => act(ctx, () => ctx.actions.resumeAgent(selectedAgent(ctx.store.getState())!.id)),
  },
  {
    id: 'kill',
    title: 'stop the agent now',
    keys: ['K'],
    scope: 'agents',
    mutates: true,
    dangerous: true,
    disabled: needAgent,
    run: (ctx) => act(ctx, () => ctx.actions.killAgent(selectedAgent(ctx.store.getState())!.id)),
  },
  {
    id: 'logs',
    title: "follow the log of the agent's latest attempt (:logs [<agent|task>])",
    keys: ['l'],
    scope: 'agents',
    hint: 'logs',
    disabled: needAgent,
    run: (ctx, args) => {
      const a = selectedAgent(ctx.store.getState())!;
      openLog(ctx, args.length ? { ref: args[0]!, subject: args[0]! } : { ref: a.id, subject: a.label });
    },
  },
  {
    id: 'restart',
    title: 'restart the stopped agent and its worker (tt restart)',
    keys: ['R'],
    scope: 'agents',
    mutates: true,
    hint: 'restart',
    disabled: (s) =>
      needAgent(s) ??
      (isTerminalAgent(selectedAgent(s)!.state) ? undefined : 'only a stopped agent is restarted'),
    run: (ctx) => act(ctx, () => ctx.actions.restartAgent(selectedAgent(ctx.store.getState())!.id)),
  },
  {
    id: 'send',
    title: 'send the agent a message (:send <text>; urgent with :send! <text>)',
    keys: ['m'],
    scope: 'agents',
    mutates: true,
    hint: 'message',
    disabled: needAgent,
    run: (ctx, args) =>
      args.length
        ? act(ctx, () =>
            ctx.actions.sendMessage(selectedAgent(ctx.store.getState())!.id, args.join(' '), false),
          )
        : open(ctx, { kind: 'input', title: 'message', value: '', command: 'send', args: [] }),
  },
  {
    id: 'send!',
    title: 'send the agent an urgent message',
    keys: ['M'],
    scope: 'agents',
    mutates: true,
    disabled: needAgent,
    run: (ctx, args) =>
      args.length
        ? act(ctx, () =>
            ctx.actions.sendMessage(selectedAgent(ctx.store.getState())!.id, args.join(' '), true),
          )
        : open(ctx, { kind: 'input', title: 'urgent message', value: '', command: 'send!', args: [] }),
  },
  {
    id: 'assign',
    title: 'assign the agent a new task (:assign [<agent>] <text>)',
    keys: ['A'],
    scope: 'agents',
    mutates: true,
    hint: 'assign',
    disabled: needAgent,
    run: (ctx, args) => {
      const named = namedAgent(ctx.store.getState(), args);
      if (!named.rest.length)
        return open(ctx, {
          kind: 'input',
          title: 'task for the agent',
          value: '',
          command: 'assign',
          args: named.id ? [named.id] : [],
        });
      return act(ctx, () =>
        ctx.actions.assignTask(named.id ?? selectedAgent(ctx.store.getState())!.id, named.rest.join(' ')),
      );
    },
  },

  // Tasks
  {
    id: 'retry',
    title: 'retry the dead-lettered task',
    keys: ['r'],
    scope: 'tasks',
    mutates: true,
    hint: 'retry',
    disabled: (s) =>
      needTask(s) ?? (selectedTask(s)!.state === 'failed' ? undefined : 'only a failed task is retried'),
    run: (ctx) => act(ctx, () => ctx.actions.retryTask(selectedTask(ctx.store.getState())!.id)),
  },
  {
    id: 'cancel',
    title: 'cancel the task',
    keys: ['C'],
    scope: 'tasks',
    mutates: true,
    dangerous: true,
    disabled: needTask,
    run: (ctx) => act(ctx, () => ctx.actions.cancelTask(selectedTask(ctx.store.getState())!.id)),
  },
  {
    id: 'reassign',
    title: 'reassign the task to an agent',
    keys: ['R'],
    scope: 'tasks',
    mutates: true,
    hint: 'reassign',
    disabled: needTask,
    run: (ctx, args) =>
      args.length
        ? act(ctx, () => ctx.actions.reassignTask(selectedTask(ctx.store.getState())!.id, args.join(' ')))
        : open(ctx, { kind: 'input', title: 'reassign to agent', value: '', command: 'reassign', args: [] }),
  },

  {
    id: 'task-logs',
    title: "follow the log of the task's latest attempt",
    keys: ['l'],
    scope: 'tasks',
    hint: 'logs',
    disabled: needTask,
    run: (ctx) => {
      const t = selectedTask(ctx.store.getState())!;
      openLog(ctx, { ref: t.id, subject: `task ${t.id.slice(0, 8)}` });
    },
  },

  // Command-line only
  {
    id: 'spawn',
    title: 'spawn an agent (:spawn <name> --cli sim ...)',
    keys: [],
    scope: 'global',
    mutates: true,
    run: (ctx, args) => spawnCommand(ctx, args),
  },
  { id: 'quit!', title: 'quit now', keys: [], scope: 'global', run: (ctx) => ctx.quit() },
];

const freeze = (c: ConsoleCommand): ConsoleCommand =>
  Object.freeze({ ...c, keys: Object.freeze([...c.keys]) });

/**
 * The default command table. Frozen: user key bindings make a new table (applyKeyBindings), so
 * every console and test starts from the same defaults.
 */
export const COMMANDS: CommandTable = Object.freeze(DEFAULTS.map(freeze));

/** The command table a console runs with: its own (the user's key bindings) or the defaults. */
export const tableOf = (s: Pick<ConsoleState, 'commands'>): CommandTable => s.commands ?? COMMANDS;

/** Why a command cannot run now: read-only, disconnected, or its own reason. */
export const disabledReason = (s: ConsoleState, c: ConsoleCommand): string | undefined => {
  if (c.mutates && s.readOnly) return 'read-only console';
  if (c.mutates && s.link !== 'linked') return 'Redis is disconnected; changes are disabled until it is back';
  return c.disabled?.(s);
};

export const byId = (id: string, table: CommandTable = COMMANDS): ConsoleCommand | undefined =>
  table.find((c) => c.id === id);

/** Runs a command (asking first when it is dangerous); a disabled one says why. */
export const runCommand = async (
  ctx: CommandContext,
  c: ConsoleCommand,
  args: string[] = [],
  confirmed = false,
): Promise<void> => {
  const s = ctx.store.getState();
  const why = disabledReason(s, c);
  if (why) return say(ctx, `${c.title}: ${why}`, 'error');
  if (c.dangerous && !confirmed) {
    const target =
      c.scope === 'agents'
        ? selectedAgent(s)?.label
        : c.scope === 'tasks'
          ? selectedTask(s)?.description.split('\n', 1)[0]
          : selectedMissionRow(s)?.mission.title;
    return open(ctx, { kind: 'confirm', title: `${c.title}?`, detail: target ?? '', command: c.id, args });
  }
  await c.run(ctx, args);
};

const SPAWN_USAGE = 'usage: :spawn <name> [--cli sim] [--role r] ... (the flags of tt spawn --help)';

/**
 * :spawn reads its words with tt spawn's own flags (SPAWN_FLAGS), so it takes every flag the verb
 * takes; an unknown flag or a bad value is one line in the footer. --foreground would run the
 * worker inside the console and is refused.
 */
const spawnCommand = (ctx: CommandContext, words: string[]) => {
  const { args, flags, problem } = parseFlags(words, SPAWN_FLAGS, 'spawn');
  if (problem) return say(ctx, `:spawn: ${problem}`, 'error');
  if (args.length !== 1) return say(ctx, SPAWN_USAGE, 'error');
  if (flags.foreground)
    return say(ctx, ':spawn: --foreground runs the worker in a terminal of its own (tt spawn)', 'error');
  return act(ctx, () => ctx.actions.spawnAgent(spawnRequest(args[0]!, flags)));
};

/** What quitting stops: the in-process dispatcher with its missions in flight. */
const quitCommand = (ctx: CommandContext) => {
  const s = ctx.store.getState();
  const running = (s.snapshot?.missions ?? []).filter((m) => m.state === 'running').length;
  if (s.dispatching && running > 0 && s.ui.modal?.kind !== 'confirm') {
    return open(ctx, {
      kind: 'confirm',
      title: 'quit?',
      detail:
        `the dispatcher in this console stops; ${running} running mission(s) wait until a ` +
        'dispatcher runs again',
      command: 'quit!',
      args: [],
    });
  }
  ctx.quit();
};

/** Key bindings over a table: the new table, or one line saying what is wrong. */
export type KeyBindingResult =
  { commands: CommandTable; problem?: undefined } | { commands?: undefined; problem: string };

/** Whether two commands' keys can meet: in the same pane, or one of them everywhere. */
const sharesKeys = (a: Scope, b: Scope): boolean => a === b || a === 'global' || b === 'global';

/**
 * Applies the user's key bindings (command id -> keys) over a table (the defaults unless given),
 * returning a new table; the given one is left as it was. A key given to a command is taken from
 * every command that had it where the two meet, unless that command is bound by the user too. An
 * unknown command id, or a key bound twice where the commands meet, is one line in `problem`.
 */
export const applyKeyBindings = (
  bindings: Readonly<Record<string, readonly string[]>>,
  base: CommandTable = COMMANDS,
): KeyBindingResult => {
  for (const id of Object.keys(bindings))
    if (!byId(id, base))
      return { problem: `console.keys: no console command "${id}" (the ids are listed by ? in the console)` };
  const bound = base.filter((c) => Object.hasOwn(bindings, c.id));
  const keysOf = (c: ConsoleCommand): string[] => {
    if (Object.hasOwn(bindings, c.id)) return [...bindings[c.id]!];
    const taken = bound.filter((b) => sharesKeys(b.scope, c.scope)).flatMap((b) => bindings[b.id]!);
    return c.keys.filter((k) => !taken.includes(k));
  };
  const commands = Object.freeze(base.map((c) => freeze({ ...c, keys: keysOf(c) })));
  const clash = keyClash(commands);
  return clash ? { problem: clash } : { commands };
};

/** A key bound to two commands that meet, as one line (each key against the last command seen with it). */
const keyClash = (table: CommandTable): string | undefined => {
  const seen = new Map<string, ConsoleCommand>();
  for (const c of table)
    for (const k of c.keys) {
      const other = seen.get(k);
      if (other && other.id !== c.id && sharesKeys(other.scope, c.scope))
        return `console.keys: "${k}" is bound to both ${other.id} and ${c.id}`;
      seen.set(k, c);
    }
  return undefined;
};
