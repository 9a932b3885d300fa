import type { Env } from '../config/load.js';
import type { Where } from '../services/context.js';
import type { Flags, FlagSpec } from '../services/flags.js';

// The flag grammar is shared with the console's command line (services/flags.ts).
export { str, type Flags, type FlagSpec, type FlagType } from '../services/flags.js';

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
