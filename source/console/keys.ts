import {
  byId,
  COMMANDS,
  commandsFor,
  disabledReason,
  runCommand,
  say,
  tableOf,
  type CommandContext,
  type CommandTable,
} from './commands.js';

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

/**
 * Routes one key press: to the open modal, to the filter being typed, or to the command its key
 * names in the focused pane. Returns the id of the command that ran (for tests), if any.
 */
export const handleKey = async (
  ctx: CommandContext,
  input: string,
  key: KeyInfo,
  whole = false,
): Promise<string | undefined> => {
  const s = ctx.store.getState();
  // Several keys can arrive in one read (typed fast, pasted, or sent by a script): Enter and Tab
  // inside the chunk are keys of their own; outside a text field every character is a key press,
  // in one the characters are typed text.
  if (
    !whole &&
    input.length > 1 &&
    !key.ctrl &&
    /^[\r\t\x20-\x7e]+$/.test(input) &&
    /[\r\t]|[\x20-\x7e]{2}/.test(input)
  ) {
    let last: string | undefined;
    for (const part of input.match(/[\r\t]|[\x20-\x7e]+/g) ?? []) {
      if (part === '\r') last = (await handleKey(ctx, '', { return: true })) ?? last;
      else if (part === '\t') last = (await handleKey(ctx, '', { tab: true })) ?? last;
      else {
        const st = ctx.store.getState();
        const typing =
          st.ui.filtering !== undefined || st.ui.modal?.kind === 'input' || st.ui.modal?.kind === 'command';
        if (typing) last = (await handleKey(ctx, part, {}, true)) ?? last;
        else for (const ch of part) last = (await handleKey(ctx, ch, {})) ?? last;
      }
    }
    return last;
  }
  const name = keyName(input, key);
  const setUi = (patch: Partial<typeof s.ui>) => ctx.store.setState((x) => ({ ui: { ...x.ui, ...patch } }));
  const modal = s.ui.modal;

  if (name === 'ctrl+c' && modal?.kind !== 'confirm') {
    setUi({ modal: undefined, filtering: undefined });
    await runCommand(ctx, byId('quit', tableOf(s))!);
    return 'quit';
  }

  if (modal) {
    switch (modal.kind) {
      case 'help':
        if (name === 'j' || name === 'down') setUi({ modal: { ...modal, scroll: modal.scroll + 1 } });
        else if (name === 'k' || name === 'up')
          setUi({ modal: { ...modal, scroll: Math.max(0, modal.scroll - 1) } });
        else setUi({ modal: undefined });
        return undefined;
      case 'detail':
        if (name === 'j' || name === 'down')
          setUi({
            modal: { ...modal, scroll: Math.min(modal.scroll + 1, Math.max(0, modal.lines.length - 1)) },
          });
        else if (name === 'k' || name === 'up')
          setUi({ modal: { ...modal, scroll: Math.max(0, modal.scroll - 1) } });
        else if (name === 'escape' || name === 'q' || name === 'enter') setUi({ modal: undefined });
        return undefined;
      case 'confirm':
        if (name === 'y' || name === 'Y' || name === 'enter') {
          setUi({ modal: undefined });
          const c = byId(modal.command, tableOf(s));
          if (c) await runCommand(ctx, c, modal.args, true);
          return modal.command;
        }
        if (name === 'n' || name === 'N' || name === 'escape' || name === 'q' || name === 'ctrl+c')
          setUi({ modal: undefined });
        return undefined;
      case 'input': {
        if (name === 'escape') return void setUi({ modal: undefined });
        if (name === 'enter') {
          setUi({ modal: undefined });
          if (!modal.value.trim()) return undefined;
          const c = byId(modal.command, tableOf(s));
          if (c) await runCommand(ctx, c, [...modal.args, ...modal.value.trim().split(/\s+/)], true);
          return modal.command;
        }
        const value = edit(modal.value, name, input);
        if (value !== undefined) setUi({ modal: { ...modal, value } });
        return undefined;
      }
      case 'command': {
        if (name === 'escape') return void setUi({ modal: undefined });
        if (name === 'tab') {
          const { name: typed, args } = parseCommandLine(modal.value);
          const options = completions(typed, tableOf(s));
          if (args.length === 0 && options.length === 1)
            setUi({ modal: { ...modal, value: `${options[0]} ` } });
          else if (options.length > 1) say(ctx, options.join('  '));
          return undefined;
        }
        if (name === 'up' || name === 'down') {
          const h = s.ui.history;
          if (!h.length) return undefined;
          const i =
            name === 'up'
              ? Math.min(h.length - 1, modal.historyIndex + 1)
              : Math.max(-1, modal.historyIndex - 1);
          setUi({ modal: { ...modal, historyIndex: i, value: i < 0 ? '' : h[h.length - 1 - i]! } });
          return undefined;
        }
        if (name === 'enter') {
          setUi({ modal: undefined, history: [...s.ui.history, modal.value].slice(-50) });
          const { name: cmd, args } = parseCommandLine(modal.value);
          if (!cmd) return undefined;
          const c = byId(cmd, tableOf(s));
          if (!c) {
            say(ctx, `no command "${cmd}" (tab completes; ? lists them)`, 'error');
            return undefined;
          }
          if (c.scope !== 'global' && c.scope !== s.ui.pane) setUi({ pane: c.scope });
          await runCommand(ctx, c, args);
          return c.id;
        }
        const value = edit(modal.value, name, input);
        if (value !== undefined) setUi({ modal: { ...modal, value } });
        return undefined;
      }
    }
  }

  if (s.ui.filtering) {
    const pane = s.ui.filtering;
    if (name === 'escape')
      return void setUi({ filtering: undefined, filter: { ...s.ui.filter, [pane]: '' } });
    if (name === 'enter') return void setUi({ filtering: undefined });
    const value = edit(s.ui.filter[pane] ?? '', name, input);
    if (value !== undefined) setUi({ filter: { ...s.ui.filter, [pane]: value } });
    return undefined;
  }

  if (name === 'escape') {
    if (s.ui.filter[s.ui.pane]) setUi({ filter: { ...s.ui.filter, [s.ui.pane]: '' } });
    return undefined;
  }

  const [command] = commandsFor(s, name);
  if (!command) {
    if (name.length === 1 && name !== ' ') {
      const elsewhere = tableOf(s).find((c) => c.keys.includes(name) && c.scope !== 'global');
      say(
        ctx,
        elsewhere
          ? `"${name}" ${elsewhere.title} in the ${elsewhere.scope} pane`
          : `"${name}" does nothing here (? lists the keys)`,
        'error',
      );
    }
    return undefined;
  }
  const why = disabledReason(s, command);
  if (why) {
    say(ctx, `${command.title}: ${why}`, 'error');
    return undefined;
  }
  await runCommand(ctx, command);
  return command.id;
};
