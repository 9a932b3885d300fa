import { UsageError } from '../model/errors.js';
import { openTown, readTown } from '../services/context.js';
import type { Command, Ctx } from './command.js';
import { eventsCmd } from './status.js';

export const consoleFlags = {
  dispatch: {
    type: 'boolean' as const,
    default: true,
    description: 'run the mission dispatcher in this console (--no-dispatch: watch only)',
  },
  readOnly: { type: 'boolean' as const, description: 'no command that changes the town' },
  mono: { type: 'boolean' as const, description: 'no colours (also when NO_COLOR is set)' },
  plain: {
    type: 'boolean' as const,
    description:
      'a line-oriented event stream instead of the full screen (the default when stdout is not a terminal)',
  },
};

/** Opens the full-screen console, or the plain event stream when there is no terminal. */
export const openConsole = async (ctx: Ctx, town?: string): Promise<number> => {
  const where = town ? { ...ctx.where, town } : ctx.where;
  const term = ctx.io.terminal;
  if (ctx.flags.plain || !term || !term.stdout.isTTY || !term.stdin.isTTY) {
    return (await eventsCmd.run({ ...ctx, where, flags: { ...ctx.flags, follow: true, count: 20 } })) ?? 0;
  }
  // Key bindings are config: a bad one is refused before anything starts.
  const { applyKeyBindings } = await import('../console/commands.js');
  const bound = applyKeyBindings(readTown(where).config.console.keys);
  if (bound.problem !== undefined) throw new UsageError(`tt.config.json: ${bound.problem}`);
  const t = await openTown(where, 'console');
  try {
    // On a terminal the operator wants the full screen, even with CI set in the environment
    // (Ink reads CI when it loads and then draws only a last frame).
    for (const k of ['CI', 'CONTINUOUS_INTEGRATION', 'BUILD_NUMBER', 'RUN_ID']) delete process.env[k];
    // React's production build unless asked otherwise: the development build keeps a
    // performance.measure entry for every component render, and the heap grows without end.
    process.env.NODE_ENV ??= 'production';
    const { runConsole } = await import('../console/run.js');
    await runConsole(t, {
      dispatch: ctx.flags.dispatch !== false,
      readOnly: Boolean(ctx.flags.readOnly),
      mono: Boolean(ctx.flags.mono) || t.config.console.mono,
      stdout: term.stdout,
      stdin: term.stdin,
      commands: bound.commands,
    });
    return 0;
  } finally {
    await t.close();
  }
};

export const consoleCmd: Command = {
  name: 'console',
  summary: 'the full-screen operator console (what tt alone opens in a town)',
  description: 'Runs the mission dispatcher in-process unless --no-dispatch. Keys: ? lists them all.',
  flags: consoleFlags,
  maxArgs: 0,
  run: (ctx) => openConsole(ctx),
};
