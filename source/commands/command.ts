import type { Env } from '../config/load.js';
import type { Where } from '../services/context.js';

/** What a command can touch of the outside world: injected, so tests run commands in-process. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  cwd: string;
  env: Env;
  stdoutIsTTY?: boolean;
  /** Aborted when the process is asked to stop (SIGINT/SIGTERM) during a long command. */
  signal?: AbortSignal;
  /** This run owns the process: it may set the process title (not when run in-process by tests). */
  setTitle?: boolean;
  /** The standard input, for verbs that read a text from it (`--result -`); absent: there is none. */
  stdin?: () => AsyncIterable<Uint8Array | string>;
  /** The terminal, for the full-screen console. */
  terminal?: { stdout: NodeJS.WriteStream; stdin: NodeJS.ReadStream };
}

export type FlagType = 'string' | 'boolean' | 'number';

export interface FlagSpec {
  type: FlagType;
  shortFlag?: string;
  isMultiple?: boolean;
  choices?: readonly string[];
  default?: string | boolean | number;
  description: string;
  /** Shown in help as the value's name: --priority <level>. */
  value?: string;
}

export type Flags = Record<string, string | boolean | number | string[] | undefined>;

export interface Ctx {
  args: string[];
  flags: Flags;
  io: Io;
  where: Where;
  json: boolean;
  /** Prints a value as JSON (one document). */
  printJson(value: unknown): void;
}

export interface Command {
  /** "status", or "task complete" for a subcommand. */
  name: string;
  summary: string;
  /** Positional arguments as shown in help, e.g. "<agent> <task...>". */
  args?: string;
  /** Longer text shown by --help. */
  description?: string;
  flags?: Record<string, FlagSpec>;
  /** Whether --json applies (read verbs, and verbs that print a created record). */
  json?: boolean;
  minArgs?: number;
  maxArgs?: number;
  /** Left out of `tt --help` (internal verbs). */
  hidden?: boolean;
  /** Returns the exit code (0 when omitted). */
  run(ctx: Ctx): Promise<number | void>;
}

export const str = (flags: Flags, name: string): string | undefined => {
  const v = flags[name];
  return typeof v === 'string' ? v : undefined;
};
