import type { AttemptEventInput } from '../../model/attempt.js';
import { aider } from './aider.js';
import { auggie } from './auggie.js';
import { claude } from './claude.js';
import { codex } from './codex.js';
import { command } from './command.js';
import { commandLine } from './common.js';
import { copilot } from './copilot.js';
import { gemini } from './gemini.js';
import type { CliAdapter, Failure, ParseContext, RunEnd } from './types.js';

export type * from './types.js';
export { command } from './command.js';
export { commandProgram, findExecutable } from './which.js';

/** The coding-agent CLIs tt knows, in the order `tt doctor` lists them. */
export const ADAPTERS: readonly CliAdapter[] = [claude, codex, gemini, aider, copilot, auggie];

/** The built-in simulated agent: no process, no adapter. */
export const SIM = 'sim';
const SIM_COMMAND = '(built in: a simulated agent, no LLM)';

/** Each preset name (variants included) with its adapter and command line. */
export const PRESETS: readonly { name: string; adapter: CliAdapter; command: string }[] = ADAPTERS.flatMap(
  (a) => [
    { name: a.name, adapter: a, command: commandLine(a.bin, a.args) },
    ...Object.entries(a.variants ?? {}).map(([name, extra]) => ({
      name,
      adapter: a,
      command: commandLine(a.bin, [...a.args, ...extra]),
    })),
  ],
);

/** Built-in presets: a name for each non-interactive command line, and `sim`. */
export const CLI_PRESETS: Readonly<Record<string, string>> = Object.freeze({
  ...Object.fromEntries(PRESETS.map((p) => [p.name, p.command])),
  [SIM]: SIM_COMMAND,
});

/** The adapter of a preset name (`codex-mini` is codex's); any other CLI is a plain command. */
export const adapterFor = (cli: string): CliAdapter =>
  PRESETS.find((p) => p.name === cli)?.adapter ?? command;

/** The environment a CLI needs on top of the agent's (IS_SANDBOX only as root). */
export const adapterEnv = (a: CliAdapter, host: { root: boolean }): Record<string, string> =>
  Object.fromEntries(a.env.filter((e) => !e.rootOnly || host.root).map((e) => [e.name, e.value]));

/** A whole output at once (what the line-by-line parser makes of it). */
export const parseOutput = (a: CliAdapter, text: string, ctx: ParseContext = {}): AttemptEventInput[] => {
  const p = a.parser(ctx);
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return [...lines.flatMap((l) => p.line(l)), ...p.end()];
};

/**
 * Why an attempt failed, or undefined when it did not: the adapter's classifier, then its judge.
 * A CLI judged by its report that exited cleanly without `tt task complete|fail` failed.
 */
export const attemptFailure = (a: CliAdapter, end: RunEnd & { reported: boolean }): Failure | undefined =>
  a.classify(end) ??
  (a.judge === 'report' && !end.reported
    ? { class: 'no_report', reason: 'exited without reporting (no tt task complete or tt task fail)' }
    : undefined);
