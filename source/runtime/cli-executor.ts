import { failureReason, lastLine, runCli } from './cli-runner.js';
import type { Executor } from './executor.js';

/** The last non-empty output line, as a task's result. */
const resultLine = (tail: string): string => (lastLine(tail) ?? 'exited 0').slice(0, 500);

/**
 * Runs a coding-agent CLI for a round: the prompt on its stdin, its output in the round's log.
 * Exit 0 with readable output completes the round's tasks (unless the CLI already reported
 * them with `tt task complete` / `tt task fail`, which then stands); anything else fails them
 * with the reason, and the retry policy takes over.
 */
export const cliExecutor =
  (command: string, cwd: string, timeoutMs: number): Executor =>
  async (work) => {
    const outcome = await runCli({
      command,
      prompt: await work.prompt(),
      cwd,
      env: work.env,
      logFile: work.logFile,
      timeoutMs,
      signal: work.signal,
    });
    const why = failureReason(outcome, timeoutMs);
    const result = why ? { ok: false, text: why } : { ok: true, text: resultLine(outcome.tail) };
    return {
      results: new Map(work.tasks.map(({ task }) => [task.id, result])),
      summary: why ? `CLI failed: ${why}` : `CLI exited 0 in ${Math.round(outcome.durationMs / 100) / 10}s`,
    };
  };
