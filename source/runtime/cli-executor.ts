import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ATTEMPT_TEXT_MAX, type AttemptEventInput } from '../model/attempt.js';
import { classifiedError } from '../model/report.js';
import type { AttemptLimits } from '../store/attempts.js';
import type { Db } from '../store/db.js';
import { claimTokens } from '../store/tasks.js';
import { AttemptSink } from './attempt-sink.js';
import { duration, failureReason, lastLine, runCli, type CliOutcome } from './cli-runner.js';
import { adapterEnv, adapterFor, attemptFailure, command as plainCommand } from './clis/index.js';
import { clip, lastFinished } from './clis/common.js';
import type { CliAdapter, Failure, Judge } from './clis/types.js';
import type { Executor, RoundResult, RoundWork, TaskResult } from './executor.js';
import { prepareWorkspace, type RoundSpace, type WorkspaceOptions } from './workspace.js';

/**
 * Runs a coding-agent CLI for a round through its adapter (runtime/clis/): the adapter's command
 * line and environment, the prompt on stdin, the output in the round's raw log and, parsed into
 * normalized events, in the attempt's stream (store/attempts.ts), which always ends with a
 * `finished` event (after a classified `error` when the attempt failed).
 *
 * The outcome is honest: a CLI judged by its `report` succeeds only when the agent ended the
 * round's task itself with `tt task complete|fail` (which then stands); exit 0 without that is a
 * failed attempt ("exited without reporting", class no_report). A plain command is judged by its
 * exit code. A failure's text is the adapter's classified one-line reason with its class in
 * front (`api: API error 500`), which the task keeps as its lastError for the next prompt. A run
 * past the task timeout, or silent for the stall timeout, has its process group killed (class
 * timeout or stalled).
 */

/** How a CLI is run and judged: from the town's config and the agent's CLI (`cliSettings`). */
export interface CliSettings {
  /** The command line, run with `sh -c`. */
  command: string;
  adapter: CliAdapter;
  judge: Judge;
  /** Kill a round after this long; 0 = never. */
  timeoutMs: number;
  /** Kill a round that prints nothing for this long; 0 = never. */
  stallMs: number;
}

/** The config the settings come from (`agent` in tt.config.json). */
export interface CliConfig {
  taskTimeoutSecs?: number | undefined;
  stallTimeoutSecs?: number | undefined;
  judge?: Readonly<Record<string, Judge>> | undefined;
}

/** Defaults for a CLI judged by its report (a coding agent): an hour a round, ten minutes of silence. */
export const AGENT_TIMEOUT_SECS = 3600;
export const AGENT_STALL_SECS = 600;

/**
 * How an agent's CLI runs: its adapter (a built-in preset's; any other command is a plain
 * command), the judge (`agent.judge[<cli>]`, else the adapter's), and the timeouts (set in
 * config, else an hour and ten minutes for a CLI judged by its report, none for a command).
 */
export const cliSettings = (cli: string, command: string, c: CliConfig = {}): CliSettings => {
  const adapter = adapterFor(cli);
  const judge = c.judge?.[cli] ?? adapter.judge;
  const agentLike = judge === 'report';
  const ms = (secs: number | undefined, dflt: number) => Math.round((secs ?? (agentLike ? dflt : 0)) * 1000);
  return {
    command,
    adapter,
    judge,
    timeoutMs: ms(c.taskTimeoutSecs, AGENT_TIMEOUT_SECS),
    stallMs: ms(c.stallTimeoutSecs, AGENT_STALL_SECS),
  };
};

export interface CliExecutorOptions extends CliSettings {
  /** The town's directory: where the CLI runs without a worktree. */
  townRoot: string;
  /** Attempts, reports and branches are read and written here; without it, none are. */
  db?: Db;
  /** Worktrees (git/): without them, the CLI runs in `townRoot`. */
  workspace?: WorkspaceOptions;
  /** The tt the agent runs (the worker's shim, absolute): in the prompt and in TT_BIN. */
  ttBin?: string;
  /** tt runs as root (claude then needs IS_SANDBOX=1). Default: this process's uid is 0. */
  root?: boolean;
  /** SIGTERM to SIGKILL (default the runner's). */
  killGraceMs?: number;
  attemptLimits?: AttemptLimits;
}

/** Events kept in memory for the classifier: the newest, plus the last errors and finished before them. */
const MEMORY = 2000;

class EventMemory {
  readonly all: AttemptEventInput[] = [];
  push(events: readonly AttemptEventInput[]): void {
    this.all.push(...events);
    if (this.all.length > MEMORY * 2) {
      const old = this.all.splice(0, this.all.length - MEMORY);
      this.all.unshift(...old.filter((e) => e.kind === 'error' || e.kind === 'finished').slice(-100));
    }
  }
}

/** Why the run did not get to be judged by its adapter: it never started, or tt stopped it. */
const stoppedFailure = (o: CliOutcome, s: CliSettings): Failure | undefined => {
  if (o.spawnError) return { class: 'crash', reason: clip(`could not start: ${o.spawnError}`) };
  if (o.aborted) return { class: 'crash', reason: 'stopped before it finished (the worker is stopping)' };
  if (o.timedOut) return { class: 'timeout', reason: `timed out after ${duration(s.timeoutMs)}` };
  if (o.stalled) return { class: 'stalled', reason: `no output for ${duration(s.stallMs)}` };
  if (o.unreadable) return { class: 'crash', reason: failureReason(o, s.timeoutMs) ?? o.unreadable };
  return undefined;
};

/** The text of a successful attempt: the CLI's own last words, never a raw line of its JSON stream. */
const resultText = (s: CliSettings, o: CliOutcome, events: readonly AttemptEventInput[]): string => {
  if (s.adapter === plainCommand) return clip(lastLine(o.tail) ?? 'exited 0', 500);
  const fin = lastFinished(events);
  const said = fin?.text ?? events.findLast((e) => e.kind === 'message')?.text;
  return clip(said?.trim() || `${s.adapter.name} exited 0`, ATTEMPT_TEXT_MAX);
};

/** Notes a line in the round's raw log (tt's own words, for `tt logs --raw`). Best effort. */
const noteInLog = (file: string, line: string): void => {
  try {
    mkdirSync(dirname(file), { recursive: true });
    appendFileSync(file, `[tt] ${line}\n`);
  } catch {
    // the stream and the worker log have it too
  }
};

const errText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** The CLI's environment: what it needs (its adapter's), then the worker's, then the round's. */
const envOf = (o: CliExecutorOptions, work: RoundWork, space: RoundSpace): Record<string, string> => ({
  ...adapterEnv(o.adapter, { root: o.root ?? process.getuid?.() === 0 }),
  ...work.env,
  ...(o.ttBin ? { TT_BIN: o.ttBin } : {}),
  ...(space.worktree ? { TT_WORKTREE: space.worktree } : {}),
});

/** Which of the round's tasks the agent (or anyone else) ended while the CLI ran: their token moved on. */
const endedElsewhere = async (o: CliExecutorOptions, work: RoundWork): Promise<boolean[]> => {
  if (!o.db || work.tasks.length === 0) return work.tasks.map(() => false);
  try {
    const now = await claimTokens(
      o.db,
      work.tasks.map((t) => t.task.id),
    );
    return work.tasks.map((t, i) => now[i] !== t.token);
  } catch (e) {
    // Unknown: judged as unreported. If the agent did report, its word stands anyway (the
    // round's end finds the attempt already ended and leaves it).
    work.log?.(`could not read whether the agent reported (${errText(e)})`);
    return work.tasks.map(() => false);
  }
};

const failedResult = (f: Failure): TaskResult => ({ ok: false, text: classifiedError(f.class, f.reason) });

const failedRound = (work: RoundWork, f: Failure, summary: string): RoundResult => {
  const r = failedResult(f);
  return { results: new Map(work.tasks.map(({ task }) => [task.id, r])), summary };
};

export const cliExecutor =
  (o: CliExecutorOptions): Executor =>
  async (work) => {
    const say = work.log ?? (() => {});
    const started = performance.now();
    const sink = o.db ? new AttemptSink(o.db, { agentId: work.agent.id, round: work.round }, say) : undefined;
    await sink?.open(work.tasks.map((t) => t.task.id));
    const elapsed = () => Math.round(performance.now() - started);
    /** Ends the attempt's stream: the classified error, if it failed, then `finished`. */
    const end = async (f: Failure | undefined, extra: { turns?: number; text?: string } = {}) => {
      const error: AttemptEventInput[] = f ? [{ kind: 'error', class: f.class, text: f.reason }] : [];
      await sink?.close([...error, { kind: 'finished', ok: !f, durationMs: elapsed(), ...extra }]);
    };

    let space: RoundSpace;
    try {
      space = o.workspace
        ? await prepareWorkspace(o.workspace, work, say)
        : { cwd: o.townRoot, setting: o.ttBin ? { tt: o.ttBin } : {}, finish: async () => {} };
    } catch (e) {
      const f: Failure = { class: 'tool', reason: clip(`could not prepare the workspace: ${errText(e)}`) };
      noteInLog(work.logFile, f.reason);
      await end(f);
      return failedRound(work, f, `CLI not run: ${f.reason}`);
    }

    const memory = new EventMemory();
    let outcome: CliOutcome;
    try {
      const prompt = await work.prompt(space.setting);
      const parser = o.adapter.parser({ cwd: space.cwd });
      // The CLI's own `finished` events (one per turn for some) stay out of the stream: the
      // attempt's one `finished` is tt's verdict, written last.
      const take = (events: AttemptEventInput[]) => {
        memory.push(events);
        sink?.push(events.filter((e) => e.kind !== 'finished'));
      };
      outcome = await runCli({
        command: o.command,
        prompt,
        cwd: space.cwd,
        env: envOf(o, work, space),
        logFile: work.logFile,
        timeoutMs: o.timeoutMs,
        stallMs: o.stallMs,
        signal: work.signal,
        reapGroup: true,
        onLine: (line) => take(parser.line(line)),
        ...(o.killGraceMs !== undefined ? { killGraceMs: o.killGraceMs } : {}),
      });
      take(parser.end());
    } catch (e) {
      // Only the prompt can throw here (the runner never does): the CLI did not run.
      await space.finish();
      const f: Failure = { class: 'crash', reason: clip(`could not build the prompt: ${errText(e)}`) };
      await end(f);
      return failedRound(work, f, `CLI not run: ${f.reason}`);
    }
    // The process group is dead: keep what the agent left, then judge.
    await space.finish();

    const events = memory.all;
    const stopped = stoppedFailure(outcome, o);
    const ended = await endedElsewhere(o, work);
    const judged = { ...o.adapter, judge: o.judge };
    const runEnd = { exitCode: outcome.exitCode, signal: outcome.signal, events, tail: outcome.tail };
    const verdict = (reported: boolean): Failure | undefined =>
      stopped ?? attemptFailure(judged, { ...runEnd, reported });
    // A round of messages only has no task to report: the exit code decides.
    const verdicts = work.tasks.length ? ended.map(verdict) : [verdict(true)];
    const failure = verdicts.find(Boolean);
    const fin = lastFinished(events);
    const ok = resultText(o, outcome, events);
    await end(failure, {
      ...(fin?.turns !== undefined ? { turns: fin.turns } : {}),
      ...(failure ? {} : { text: ok }),
    });
    const secs = Math.round(elapsed() / 100) / 10;
    const results = new Map(
      work.tasks.map(({ task }, i) => {
        const f = verdicts[i];
        const r: TaskResult = f ? failedResult(f) : { ok: true, text: ok };
        return [task.id, r] as const;
      }),
    );
    return {
      results,
      summary: failure
        ? `CLI failed: ${classifiedError(failure.class, failure.reason)}`
        : `${o.adapter === plainCommand ? 'CLI' : o.adapter.name} exited 0 in ${secs}s${ended.some(Boolean) ? ' (the agent reported)' : ''}`,
    };
  };
