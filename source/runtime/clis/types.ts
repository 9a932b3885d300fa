import type { AttemptEventInput, ErrorClass } from '../../model/attempt.js';

/**
 * What tt knows about one coding-agent CLI: how to run it non-interactively with structured
 * output, what it needs around it, how to read what it prints, and how to tell why it failed.
 * Adding a CLI is adding one adapter (and its test against the real release).
 */

/**
 * How an attempt's outcome is judged. `report`: only the agent's own `tt task complete|fail`
 * counts, so an exit 0 without one is a failed attempt ("exited without reporting"): a coding
 * agent exits 0 after being denied its tools or deciding not to act. `exit`: the exit code
 * decides (plain commands such as `make test`, and CLIs that cannot run `tt` themselves).
 */
export type Judge = 'report' | 'exit';

/**
 * How the adapter is checked: `e2e` against the pinned release driven by a stand-in model,
 * `contract` against the pinned release's `--help` and its documented output shapes only,
 * `none` for a plain command.
 */
export type Verify = 'e2e' | 'contract' | 'none';

/** An environment variable the CLI needs to work unattended, and why. */
export interface EnvNeed {
  name: string;
  value: string;
  /** Set only when tt runs as root (uid 0). */
  rootOnly?: boolean;
  /** One line for `tt doctor`: what goes wrong without it. */
  why: string;
}

/** Where a CLI's credentials may be, for a hint in `tt doctor` (never read, only looked for). */
export interface CredentialHints {
  env: readonly string[];
  /** Paths under $HOME. */
  files: readonly string[];
}

export interface ParseContext {
  /** The CLI's working directory: paths under it are shown relative to it. */
  cwd?: string;
}

/**
 * Reads one attempt's output, a line at a time, into normalized events. Never throws: a line
 * that is not what the CLI usually prints becomes a message (or nothing, when blank), and an
 * event type it does not know is ignored.
 */
export interface OutputParser {
  /** One line of output, without its newline. */
  line(text: string): AttemptEventInput[];
  /** The output ended: whatever was held back (a message being assembled). */
  end(): AttemptEventInput[];
}

/** How a run ended, as the classifier sees it. */
export interface RunEnd {
  /** null when killed by a signal. */
  exitCode: number | null;
  signal: string | null;
  /** Every event the parser produced for this run, in order. */
  events: readonly AttemptEventInput[];
  /** The last lines of combined stdout and stderr. */
  tail: string;
}

/** Why an attempt failed: a class to act on and one line for a person. */
export interface Failure {
  class: ErrorClass;
  reason: string;
}

export interface CliAdapter {
  /** The preset name (`tt spawn --cli claude`). */
  readonly name: string;
  /** The executable, looked up on PATH. */
  readonly bin: string;
  /** Arguments after `bin`: non-interactive, structured output, tools allowed; the prompt on stdin. */
  readonly args: readonly string[];
  /** Other preset names for the same CLI with extra arguments (`codex-mini`). */
  readonly variants?: Readonly<Record<string, readonly string[]>>;
  readonly env: readonly EnvNeed[];
  /** One line: what the user must set up (keys, logins). */
  readonly setup: string;
  /** The command that installs the release this adapter is verified against. */
  readonly install: string;
  /** That release (`2.1.197`). */
  readonly release: string;
  readonly judge: Judge;
  readonly verify: Verify;
  readonly versionArgs: readonly string[];
  /** Arguments that print the help listing the flags in `args` (the contract test reads it). */
  readonly helpArgs: readonly string[];
  readonly credentials?: CredentialHints;
  parser(ctx?: ParseContext): OutputParser;
  classify(end: RunEnd): Failure | undefined;
}
