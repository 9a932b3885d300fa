import {
  byId,
  COMMANDS,
  disabledReason,
  runCommand,
  say,
  tableOf,
  type CommandContext,
  type CommandTable,
  type Scope,
} from './commands.js';
import { logKey } from './logview.js';
import type { ConsoleState, Modal, UiState } from './store.js';

/** The parts of an Ink key event the console reads. */
export interface KeyInfo {
  upArrow?: boolean;
  downArrow?: boolean;
  leftArrow?: boolean;
  rightArrow?: boolean;
  pageUp?: boolean;
  pageDown?: boolean;
  home?: boolean;
  end?: boolean;
  return?: boolean;
  escape?: boolean;
  tab?: boolean;
  shift?: boolean;
  ctrl?: boolean;
  backspace?: boolean;
  delete?: boolean;
}

/** One name per key press: "j", "G", "enter", "shift+tab", "ctrl+c", "pagedown"... */
export const keyName = (input: string, key: KeyInfo): string => {
  if (key.tab) return key.shift ? 'shift+tab' : 'tab';
  if (key.return) return 'enter';
  if (key.escape) return 'escape';
  if (key.upArrow) return 'up';
  if (key.downArrow) return 'down';
  if (key.leftArrow) return 'left';
  if (key.rightArrow) return 'right';
  if (key.pageUp) return 'pageup';
  if (key.pageDown) return 'pagedown';
  if (key.home) return 'home';
  if (key.end) return 'end';
  if (key.backspace || key.delete) return 'backspace';
  if (key.ctrl && input) return `ctrl+${input.toLowerCase()}`;
  return input;
};

/** Splits a command line into the command and its arguments. */
export const parseCommandLine = (line: string): { name: string; args: string[] } => {
  const words = line.trim().replace(/^:/, '').split(/\s+/).filter(Boolean);
  return { name: words[0] ?? '', args: words.slice(1) };
};

/** Command names that start with what was typed (for tab completion). */
export const completions = (prefix: string, table: CommandTable = COMMANDS): string[] =>
  table
    .map((c) => c.id)
    .filter((id) => id.startsWith(prefix) && !id.endsWith('!'))
    .sort();

const edit = (value: string, name: string, text: string): string | undefined => {
  if (name === 'backspace') return value.slice(0, -1);
  if (text.length === 1 && text >= ' ' && !name.startsWith('ctrl+')) return value + text;
  if (text.length > 1 && !/[\u0000-\u001f]/.test(text)) return value + text;
  return undefined;
};

/** One key press on its way through the steps: the state it found, its command table, its name. */
interface Press {
  ctx: CommandContext;
  s: ConsoleState;
  table: CommandTable;
  /** The key's name (keyName). */
  name: string;
  /** The text it typed. */
  input: string;
}

/**
 * A step's answer: undefined when the key is not its to handle; else taken, with the id of the
 * command that ran and, for a command still running, its work (handleKey waits for it).
 */
type Outcome = { ran?: string; work?: Promise<void> } | undefined;
type Step = (p: Press) => Outcome | Promise<Outcome>;
const TAKEN: Outcome = {};

const setUi = (ctx: CommandContext, patch: Partial<UiState>) =>
  ctx.store.setState((x) => ({ ui: { ...x.ui, ...patch } }));
const closeModal = (ctx: CommandContext): Outcome => (setUi(ctx, { modal: undefined }), TAKEN);

/** +1 for a key that scrolls down, -1 for one that scrolls up, else 0. */
const scrollOf = (name: string): number =>
  name === 'j' || name === 'down' ? 1 : name === 'k' || name === 'up' ? -1 : 0;

type ModalOf<K extends Modal['kind']> = Extract<Modal, { kind: K }>;

/** Ctrl+C quits from anywhere but a confirmation (where it answers no). */
const quitKey: Step = ({ ctx, s, table, name }) => {
  if (name !== 'ctrl+c' || s.ui.modal?.kind === 'confirm') return undefined;
  setUi(ctx, { modal: undefined, filtering: undefined });
  return { ran: 'quit', work: runCommand(ctx, byId('quit', table)!) };
};

/** The help overlay: j/k scroll, any other key closes it. */
const helpKey = ({ ctx, name }: Press, modal: ModalOf<'help'>): Outcome => {
  const by = scrollOf(name);
  if (!by) return closeModal(ctx);
  setUi(ctx, { modal: { ...modal, scroll: Math.max(0, modal.scroll + by) } });
  return TAKEN;
};

/** A detail view: j/k scroll within its lines; escape, q or enter close it. */
const detailKey = ({ ctx, name }: Press, modal: ModalOf<'detail'>): Outcome => {
  const by = scrollOf(name);
  const last = Math.max(0, modal.lines.length - 1);
  if (by > 0) setUi(ctx, { modal: { ...modal, scroll: Math.min(modal.scroll + 1, last) } });
  else if (by < 0) setUi(ctx, { modal: { ...modal, scroll: Math.max(0, modal.scroll - 1) } });
  else if (name === 'escape' || name === 'q' || name === 'enter') return closeModal(ctx);
  return TAKEN;
};

const YES = new Set(['y', 'Y', 'enter']);
const NO = new Set(['n', 'N', 'escape', 'q', 'ctrl+c']);

/** A confirmation: yes runs the command it asks about, no closes it, other keys wait. */
const confirmKey = async ({ ctx, table, name }: Press, modal: ModalOf<'confirm'>): Promise<Outcome> => {
  if (NO.has(name)) return closeModal(ctx);
  if (!YES.has(name)) return TAKEN;
  setUi(ctx, { modal: undefined });
  const c = byId(modal.command, table);
  if (c) await runCommand(ctx, c, modal.args, true);
  return { ran: modal.command };
};

/** Typing into a text field (an input modal or the command line). */
const typeInto = ({ ctx, name, input }: Press, modal: ModalOf<'input' | 'command'>): Outcome => {
  const value = edit(modal.value, name, input);
  if (value !== undefined) setUi(ctx, { modal: { ...modal, value } });
  return TAKEN;
};

/** An input modal: enter gives the text to its command as arguments, escape drops it. */
const inputKey = async (p: Press, modal: ModalOf<'input'>): Promise<Outcome> => {
  if (p.name === 'escape') return closeModal(p.ctx);
  if (p.name !== 'enter') return typeInto(p, modal);
  setUi(p.ctx, { modal: undefined });
  const text = modal.value.trim();
  if (!text) return TAKEN;
  const c = byId(modal.command, p.table);
  if (c) await runCommand(p.ctx, c, [...modal.args, ...text.split(/\s+/)], true);
  return { ran: modal.command };
};

/** The open modal takes every key (the command line has a step of its own). */
const modalKey: Step = (p) => {
  const modal = p.s.ui.modal;
  switch (modal?.kind) {
    case 'help':
      return helpKey(p, modal);
    case 'detail':
      return detailKey(p, modal);
    case 'confirm':
      return confirmKey(p, modal);
    case 'input':
      return inputKey(p, modal);
    case 'log':
      logKey(p.ctx, modal.log, p.name);
      return TAKEN;
    default:
      return undefined;
  }
};

/** Tab on the command line: completes a command name that only one command starts with, else lists them. */
const completeLine = ({ ctx, table }: Press, modal: ModalOf<'command'>): Outcome => {
  const { name: typed, args } = parseCommandLine(modal.value);
  const options = completions(typed, table);
  if (args.length === 0 && options.length === 1) setUi(ctx, { modal: { ...modal, value: `${options[0]} ` } });
  else if (options.length > 1) say(ctx, options.join('  '));
  return TAKEN;
};

/** Up and down on the command line: the lines entered before, newest first. */
const recallLine = ({ ctx, s, name }: Press, modal: ModalOf<'command'>): Outcome => {
  const h = s.ui.history;
  if (!h.length) return TAKEN;
  const i =
    name === 'up' ? Math.min(h.length - 1, modal.historyIndex + 1) : Math.max(-1, modal.historyIndex - 1);
  setUi(ctx, { modal: { ...modal, historyIndex: i, value: i < 0 ? '' : h[h.length - 1 - i]! } });
  return TAKEN;
};

/** Enter on the command line: runs the command it names (focusing its pane), or says there is none. */
const runLine = async ({ ctx, s, table }: Press, modal: ModalOf<'command'>): Promise<Outcome> => {
  setUi(ctx, { modal: undefined, history: [...s.ui.history, modal.value].slice(-50) });
  const { name, args } = parseCommandLine(modal.value);
  if (!name) return TAKEN;
  const c = byId(name, table);
  if (!c) {
    say(ctx, `no command "${name}" (tab completes; ? lists them)`, 'error');
    return TAKEN;
  }
  if (c.scope !== 'global' && c.scope !== s.ui.pane) setUi(ctx, { pane: c.scope });
  await runCommand(ctx, c, args);
  return { ran: c.id };
};

/** The command line (:) takes every key while it is open. */
const commandLineKey: Step = (p) => {
  const modal = p.s.ui.modal;
  if (modal?.kind !== 'command') return undefined;
  switch (p.name) {
    case 'escape':
      return closeModal(p.ctx);
    case 'tab':
      return completeLine(p, modal);
    case 'up':
    case 'down':
      return recallLine(p, modal);
    case 'enter':
      return runLine(p, modal);
    default:
      return typeInto(p, modal);
  }
};

/** The filter being typed takes every key: enter keeps it, escape clears it. */
const filterKey: Step = ({ ctx, s, name, input }) => {
  const pane = s.ui.filtering;
  if (!pane) return undefined;
  if (name === 'escape') setUi(ctx, { filtering: undefined, filter: { ...s.ui.filter, [pane]: '' } });
  else if (name === 'enter') setUi(ctx, { filtering: undefined });
  else {
    const value = edit(s.ui.filter[pane] ?? '', name, input);
    if (value !== undefined) setUi(ctx, { filter: { ...s.ui.filter, [pane]: value } });
  }
  return TAKEN;
};

/** Escape, with nothing open, clears the focused pane's filter. */
const clearFilterKey: Step = ({ ctx, s, name }) => {
  if (name !== 'escape') return undefined;
  if (s.ui.filter[s.ui.pane]) setUi(ctx, { filter: { ...s.ui.filter, [s.ui.pane]: '' } });
  return TAKEN;
};

/** Runs the command the key names in a scope; a disabled one says why instead. */
const commandIn = ({ ctx, s, table, name }: Press, scope: Scope): Outcome | Promise<Outcome> => {
  const command = table.find((c) => c.scope === scope && c.keys.includes(name) && !(s.readOnly && c.mutates));
  if (!command) return undefined;
  const why = disabledReason(s, command);
  if (!why) return { ran: command.id, work: runCommand(ctx, command) };
  say(ctx, `${command.title}: ${why}`, 'error');
  return TAKEN;
};

/** The focused pane's command for the key. */
const paneCommandKey: Step = (p) => commandIn(p, p.s.ui.pane);

/** A command for the key that works everywhere. */
const globalCommandKey: Step = (p) => commandIn(p, 'global');

/** A key bound to nothing here: says where it works, if anywhere. */
const unboundKey: Step = ({ ctx, table, name }) => {
  if (name.length === 1 && name !== ' ') {
    const elsewhere = table.find((c) => c.keys.includes(name) && c.scope !== 'global');
    say(
      ctx,
      elsewhere
        ? `"${name}" ${elsewhere.title} in the ${elsewhere.scope} pane`
        : `"${name}" does nothing here (? lists the keys)`,
      'error',
    );
  }
  return TAKEN;
};

/** Where a key goes, first taker first. */
const STEPS: readonly Step[] = [
  quitKey,
  modalKey,
  commandLineKey,
  filterKey,
  clearFilterKey,
  paneCommandKey,
  globalCommandKey,
  unboundKey,
];

/**
 * Several keys can arrive in one read (typed fast, pasted, or sent by a script): Enter and Tab
 * inside the chunk are keys of their own; outside a text field every character is a key press,
 * in one the characters are typed text.
 */
const isChunk = (input: string, key: KeyInfo): boolean =>
  input.length > 1 && !key.ctrl && /^[\r\t\x20-\x7e]+$/.test(input) && /[\r\t]|[\x20-\x7e]{2}/.test(input);

const typingText = (s: ConsoleState): boolean =>
  s.ui.filtering !== undefined || s.ui.modal?.kind === 'input' || s.ui.modal?.kind === 'command';

/** Presses the keys of a chunk one after another; returns the last command that ran. */
const pressEach = async (ctx: CommandContext, input: string): Promise<string | undefined> => {
  let last: string | undefined;
  for (const part of input.match(/[\r\t]|[\x20-\x7e]+/g) ?? []) {
    if (part === '\r') last = (await handleKey(ctx, '', { return: true })) ?? last;
    else if (part === '\t') last = (await handleKey(ctx, '', { tab: true })) ?? last;
    else if (typingText(ctx.store.getState())) last = (await handleKey(ctx, part, {}, true)) ?? last;
    else for (const ch of part) last = (await handleKey(ctx, ch, {})) ?? last;
  }
  return last;
};

/**
 * Routes one key press through the steps (STEPS): the open modal, the command line, the filter
 * being typed, the focused pane's command, a global one. Returns the id of the command that ran
 * (for tests), if any.
 */
export const handleKey = async (
  ctx: CommandContext,
  input: string,
  key: KeyInfo,
  whole = false,
): Promise<string | undefined> => {
  if (!whole && isChunk(input, key)) return pressEach(ctx, input);
  const s = ctx.store.getState();
  const press: Press = { ctx, s, table: tableOf(s), name: keyName(input, key), input };
  for (const step of STEPS) {
    const answer = step(press);
    const outcome = answer instanceof Promise ? await answer : answer;
    if (!outcome) continue;
    if (outcome.work) await outcome.work;
    return outcome.ran;
  }
  return undefined;
};
