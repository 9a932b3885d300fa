import { shortId } from '../model/ids.js';
import { UsageError } from '../model/errors.js';
import {
  attemptLine,
  attemptLog,
  findAttempt,
  followAttempt,
  followRawLog,
  rawLog,
  shownLogFile,
  type AttemptView,
  type StoredAttemptEvent,
} from '../services/logs.js';
import type { Town } from '../services/context.js';
import type { Command, Ctx } from './command.js';
import { displaySafe } from './format.js';
import { withTown } from './with-town.js';

/** "attempt 2 of 2 of task 1a2b3c4d: Bob [worker] round 1 (.tt/logs/bob_round_1.log)" */
const header = (t: Town, a: AttemptView): string => {
  const what = a.task
    ? `attempt ${a.number} of ${a.of} of task ${shortId(a.task)}: ${a.agent} round ${a.round}`
    : `${a.agent} round ${a.round} of ${a.of}`;
  const file = shownLogFile(t, a);
  return file ? `${what} (${file})` : what;
};

const eventJson = (a: AttemptView, e: StoredAttemptEvent): string =>
  JSON.stringify({ id: e.id, ts: e.ts, agent: a.agentId, round: a.round, event: e.event });

const showRaw = async (ctx: Ctx, t: Town, a: AttemptView): Promise<void> => {
  if (!ctx.flags.follow) {
    const text = displaySafe(await rawLog(a));
    if (text) ctx.io.out(text.endsWith('\n') ? text.slice(0, -1) : text);
    return;
  }
  const print = (line: string) => ctx.io.out(displaySafe(line));
  await followRawLog(t, a, print, ctx.io.signal ? { signal: ctx.io.signal } : {});
};

export const logs: Command = {
  name: 'logs',
  summary: "an attempt's events: what an agent's CLI did (--follow to watch)",
  args: '<agent|task>',
  description: [
    'Shows one attempt: for a task its latest attempt, for an agent its latest round. An attempt',
    "is one round of an agent: its CLI's normalized events (messages, tool calls and results,",
    'usage, cost, rate limits, errors) beside the raw log .tt/logs/<agent>_round_<n>.log.',
    "--attempt N picks the task's Nth attempt, or the agent's round N.",
    '--follow prints new events until the attempt finishes (or Ctrl+C).',
  ].join('\n'),
  flags: {
    follow: { type: 'boolean', shortFlag: 'f', description: 'keep printing until the attempt finishes' },
    attempt: {
      type: 'number',
      shortFlag: 'a',
      description: "the task's Nth attempt, or the agent's round N (default: the latest)",
      value: 'n',
    },
    raw: {
      type: 'boolean',
      description: "print the CLI's raw log file instead of the events (terminal escapes dropped)",
    },
  },
  json: true,
  minArgs: 1,
  maxArgs: 1,
  run: (ctx) =>
    withTown(ctx, async (t) => {
      if (ctx.flags.raw && ctx.json) throw new UsageError('--raw prints the log file; it has no --json');
      const found = await findAttempt(t, ctx.args[0]!, ctx.flags.attempt as number | undefined);
      // No attempt is not an error; with --json it goes to stderr, so stdout stays JSON lines.
      if ('none' in found) return void (ctx.json ? ctx.io.err(found.none) : ctx.io.out(found.none));
      const a = found.attempt;
      if (ctx.flags.raw) return showRaw(ctx, t, a);
      const print = (e: StoredAttemptEvent) => ctx.io.out(ctx.json ? eventJson(a, e) : attemptLine(e));
      if (!ctx.json) ctx.io.out(header(t, a));
      const log = await attemptLog(t, a);
      log.events.forEach(print);
      if (!ctx.flags.follow || log.finished) {
        if (!log.events.length && !ctx.json) ctx.io.out('no events stored (none written yet, or expired)');
        return;
      }
      await followAttempt(t, a, log.after, print, ctx.io.signal ? { signal: ctx.io.signal } : {});
    }),
};

export const logsCommands = [logs];
