import { UsageError } from '../model/errors.js';
import { parseTags } from '../model/task.js';
import { SimSettings } from '../model/sim.js';
import type { SpawnOptions } from './agents.js';
import { str, type Flags, type FlagSpec } from './flags.js';

/**
 * The flags of `tt spawn`, in one place: the verb parses argv with them and the console's
 * `:spawn` parses its command line with them, so both take the same flags and read them the
 * same way (spawnRequest). They live here, not in commands/, because the console may import
 * services but not commands.
 */

export const SIM_FLAGS: Record<string, FlagSpec> = {
  simDuration: { type: 'number', description: 'sim: milliseconds each task takes', value: 'ms' },
  simFailRate: { type: 'number', description: 'sim: chance 0..1 that an attempt fails', value: 'p' },
  simFailFirst: { type: 'number', description: 'sim: the first N attempts of each task fail', value: 'n' },
  simQueryRate: {
    type: 'number',
    description: 'sim: chance 0..1 of asking the supervisor a question',
    value: 'p',
  },
};

/** How a worker starts: shared by spawn and restart. */
export const START_FLAGS: Record<string, FlagSpec> = {
  maxRounds: {
    type: 'number',
    description: 'rounds before the worker stops (0: no limit; default from config)',
    value: 'n',
  },
  foreground: {
    type: 'boolean',
    description: 'run the worker here, attached to this terminal, until it stops',
  },
  start: {
    type: 'boolean',
    default: true,
    description: 'start the worker process (--no-start: register only)',
  },
};

export const SPAWN_FLAGS: Record<string, FlagSpec> = {
  cli: {
    type: 'string',
    shortFlag: 'c',
    description: 'CLI preset (claude, codex, aider, gemini, sim, ...) or a shell command',
    value: 'cli',
  },
  role: { type: 'string', description: 'role: worker, reviewer, tester, backend, ...', value: 'role' },
  nickname: {
    type: 'string',
    description: 'display name (default: a 1920s name from the id)',
    value: 'nick',
  },
  parent: { type: 'string', description: 'the agent that delegated to this one', value: 'agent' },
  cap: { type: 'string', description: 'capabilities, comma separated', value: 'a,b' },
  worktree: {
    type: 'boolean',
    default: true,
    description: "in a git town, work in a git worktree of its own (--no-worktree: in the town's directory)",
  },
  ...START_FLAGS,
  ...SIM_FLAGS,
};

/** The simulated CLI's settings from the --sim-* flags, if any was given. */
export const simSettingsOf = (flags: Flags): SimSettings | undefined => {
  const given = Object.keys(SIM_FLAGS).filter((k) => flags[k] !== undefined);
  if (given.length === 0) return undefined;
  const raw = {
    ...(flags.simDuration !== undefined ? { durationMs: flags.simDuration } : {}),
    ...(flags.simFailRate !== undefined ? { failRate: flags.simFailRate } : {}),
    ...(flags.simFailFirst !== undefined ? { failFirst: flags.simFailFirst } : {}),
    ...(flags.simQueryRate !== undefined ? { queryRate: flags.simQueryRate } : {}),
  };
  const r = SimSettings.safeParse(raw);
  if (!r.success)
    throw new UsageError(`--sim-*: ${r.error.issues[0]!.path.join('.')}: ${r.error.issues[0]!.message}`);
  return r.data;
};

/** --max-rounds, checked. */
export const maxRoundsOf = (flags: Flags): number | undefined => {
  const n = flags.maxRounds as number | undefined;
  if (n !== undefined && (!Number.isInteger(n) || n < 0))
    throw new UsageError('--max-rounds must be a whole number, 0 or more');
  return n;
};

/** What spawning an agent asks for: the agent, and whether and where its worker starts. */
export interface SpawnRequest {
  options: SpawnOptions;
  /** Start the worker process (--no-start: register only). */
  start: boolean;
  /** Run the worker in this process, attached to the terminal (--foreground). */
  foreground: boolean;
}

/** Reads spawn's flags (parsed with SPAWN_FLAGS) into a request; a bad value is a UsageError. */
export const spawnRequest = (name: string, flags: Flags): SpawnRequest => {
  const sim = simSettingsOf(flags);
  const maxRounds = maxRoundsOf(flags);
  const cli = str(flags, 'cli');
  const role = str(flags, 'role');
  const nickname = str(flags, 'nickname');
  const parent = str(flags, 'parent');
  return {
    options: {
      name,
      ...(cli ? { cli } : sim ? { cli: 'sim' } : {}),
      ...(role ? { role } : {}),
      ...(nickname ? { nickname } : {}),
      ...(parent ? { parent } : {}),
      caps: parseTags(str(flags, 'cap')),
      ...(maxRounds !== undefined ? { maxRounds } : {}),
      ...(sim ? { sim } : {}),
      ...(flags.worktree === false ? { noWorktree: true } : {}),
      // A worker about to start needs its CLI on PATH; --no-start only registers the agent.
      checkCli: Boolean(flags.start),
    },
    start: Boolean(flags.start),
    foreground: Boolean(flags.foreground),
  };
};
