import { open } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { displayLabel, displayName, type Agent } from '../model/agent.js';
import { attemptEventLine } from '../model/attempt.js';
import { flatLine, hhmmss } from '../model/format.js';
import { TtError, UsageError } from '../model/errors.js';
import { shortId, isIdPrefix, isUuid } from '../model/ids.js';
import { resolveIdPrefix } from '../model/resolve.js';
import {
  attemptsOfAgent,
  attemptsOfTask,
  followAttemptEvents,
  rawLogName,
  readAttemptEvents,
  type AttemptRef,
  type StoredAttemptEvent,
} from '../store/attempts.js';
import { taskIds } from '../store/tasks.js';
import { agents, pickAgent } from './agents.js';
import type { Town } from './context.js';
import { report } from './report.js';
import { logsDir } from './workers.js';

export type { StoredAttemptEvent };

/** One attempt as `tt logs` shows it: whose round it is, which attempt of what, its raw log. */
export interface AttemptView extends AttemptRef {
  /** The agent's label, or its short id when the agent record is gone. */
  agent: string;
  /** The task the reference named; absent when it named an agent. */
  task?: string;
  /** Its place among the task's attempts (1-based), or the round for an agent. */
  number: number;
  /** How many attempts the task has, or the agent's latest round. */
  of: number;
  /** When the attempt began (ms), when the task's index says. */
  startedAt?: number;
  /** The raw log file; absent when the agent record is gone (its name, so the file's, is unknown). */
  logFile?: string;
  /** The `n` (for --attempt) of the attempt before this one and after it, when there is one. */
  prev?: number;
  next?: number;
}

/** An attempt, or why there is none to show (a line for the operator). */
export type AttemptLookup = { attempt: AttemptView } | { none: string };

type Subject = { agent: Agent } | { task: string };

/**
 * Resolves what a user typed to an agent (name, nickname, label, id or id prefix) or a task (id
 * or id prefix). An agent's name or nickname wins; a bare id prefix that fits both an agent and a
 * task is ambiguous.
 */
const subjectOf = async (t: Town, ref: string, all: readonly Agent[]): Promise<Subject> => {
  const r = ref.trim();
  const ids = isIdPrefix(r) || isUuid(r) ? await taskIds(t.db) : [];
  const taskHits = ids.filter((id) => id.toLowerCase().startsWith(r.toLowerCase()));
  let agent: Agent | undefined;
  let agentError: unknown;
  try {
    agent = pickAgent(r, all);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    agentError = e;
  }
  if (agent) {
    const lower = r.toLowerCase();
    const byName = [agent.name, displayName(agent), displayLabel(agent), agent.id].some(
      (n) => n.toLowerCase() === lower,
    );
    if (byName || taskHits.length === 0) return { agent };
    throw new UsageError(
      `"${r}" is ambiguous: agent ${agent.name} (${shortId(agent.id)}) and task ${shortId(taskHits[0])}; give a name or a longer id`,
    );
  }
  if (taskHits.length > 0) return { task: resolveIdPrefix('task', r, ids) };
  if ((agentError as Error).message.includes('ambiguous')) throw agentError;
  throw new UsageError(`no agent or task matches "${r}" (try tt list, tt tasks)`);
};

const viewOf = (t: Town, all: readonly Agent[], ref: AttemptRef): Omit<AttemptView, 'number' | 'of'> => {
  const a = all.find((x) => x.id === ref.agentId);
  return {
    agentId: ref.agentId,
    round: ref.round,
    agent: a ? displayLabel(a) : shortId(ref.agentId),
    ...(a ? { logFile: join(logsDir(t), rawLogName(a.name, ref.round)) } : {}),
  };
};

const checkNumber = (n: number | undefined): void => {
  if (n !== undefined && (!Number.isInteger(n) || n < 1))
    throw new UsageError('--attempt must be a whole number, 1 or more');
};

/**
 * The attempt a reference names: for a task its latest attempt, or its `n`-th (in the order they
 * began); for an agent its latest round, or round `n`. An `n` out of range is a usage error.
 */
export const findAttempt = async (t: Town, ref: string, n?: number): Promise<AttemptLookup> => {
  checkNumber(n);
  const all = await agents(t);
  const subject = await subjectOf(t, ref, all);
  if ('task' in subject) {
    const task = subject.task;
    const list = report(t, await attemptsOfTask(t.db, task));
    const short = shortId(task);
    if (list.length === 0) return { none: `task ${short} has no attempt yet` };
    if (n !== undefined && n > list.length)
      throw new UsageError(`task ${short} has ${list.length} attempt(s); there is no attempt ${n}`);
    const i = (n ?? list.length) - 1;
    const a = list[i]!;
    return {
      attempt: {
        ...viewOf(t, all, a),
        task,
        number: i + 1,
        of: list.length,
        startedAt: a.startedAt,
        ...(i > 0 ? { prev: i } : {}),
        ...(i + 1 < list.length ? { next: i + 2 } : {}),
      },
    };
  }
  const agent = subject.agent;
  const rounds = await attemptsOfAgent(t.db, agent.id);
  if (rounds.length === 0) return { none: `${displayLabel(agent)} has no attempt yet` };
  const latest = rounds.at(-1)!;
  const round = n ?? latest;
  if (!rounds.includes(round)) {
    const kept = rounds.length > 1 ? `rounds ${rounds[0]}-${latest}` : `round ${latest}`;
    throw new UsageError(`${displayLabel(agent)} has no attempt ${round} (its attempts: ${kept})`);
  }
  const k = rounds.indexOf(round);
  return {
    attempt: {
      ...viewOf(t, all, { agentId: agent.id, round }),
      number: round,
      of: latest,
      ...(k > 0 ? { prev: rounds[k - 1]! } : {}),
      ...(k + 1 < rounds.length ? { next: rounds[k + 1]! } : {}),
    },
  };
};

/** One event as a line of text: its time, then attemptEventLine made display-safe (flatLine). */
export const attemptLine = (e: StoredAttemptEvent): string =>
  `${hhmmss(e.ts)} ${flatLine(attemptEventLine(e.event))}`;

/** The attempt's raw log path relative to the town, for display. */
export const shownLogFile = (t: Town, a: AttemptView): string | undefined =>
  a.logFile && relative(t.root, a.logFile);

/** What the attempt's stream holds, malformed entries reported (once) and skipped. */
export interface AttemptLog {
  events: StoredAttemptEvent[];
  /** Where a follower goes on from. */
  after: string;
  finished: boolean;
}

const isFinished = (events: StoredAttemptEvent[]): boolean => events.some((e) => e.event.kind === 'finished');

/** The attempt's stored events, oldest first. */
export const attemptLog = async (t: Town, a: AttemptRef): Promise<AttemptLog> => {
  const batch = await readAttemptEvents(t.db, a);
  const events = report(t, batch);
  return { events, after: batch.last ?? '0-0', finished: isFinished(events) };
};

export interface FollowOptions {
  signal?: AbortSignal;
  /** How long one blocking read waits before the signal is checked again. */
  blockMs?: number;
}

/** Why a follower ended: the attempt finished, or the signal came. */
export type FollowEnd = 'finished' | 'stopped';

/**
 * Blocks on a connection of its own, aborted at once by the signal (the connection is closed).
 * Redis errors end the follow only when the signal is the reason.
 */
const withBlocking = async <T>(
  t: Town,
  ref: AttemptRef,
  signal: AbortSignal | undefined,
  fn: (read: (after: string, blockMs: number) => Promise<AttemptLog>) => Promise<T>,
): Promise<T | 'stopped'> => {
  if (signal?.aborted) return 'stopped';
  const blocking = await t.connect('blocking');
  const stop = () => blocking.disconnect();
  signal?.addEventListener('abort', stop, { once: true });
  try {
    return await fn(async (after, blockMs) => {
      const batch = await followAttemptEvents(blocking, t.db, ref, after, blockMs);
      const events = report(t, batch);
      return { events, after: batch.last ?? after, finished: isFinished(events) };
    });
  } catch (e) {
    if (signal?.aborted) return 'stopped';
    throw e;
  } finally {
    signal?.removeEventListener('abort', stop);
    blocking.disconnect();
  }
};

/**
 * Prints an attempt's events after `after` as they are written, until a `finished` event (printed
 * too) or the signal.
 */
export const followAttempt = (
  t: Town,
  a: AttemptRef,
  after: string,
  onEvent: (e: StoredAttemptEvent) => void,
  o: FollowOptions = {},
): Promise<FollowEnd> =>
  withBlocking(t, a, o.signal, async (read) => {
    let at = after;
    while (!o.signal?.aborted) {
      const batch = await read(at, o.blockMs ?? 1000);
      batch.events.forEach(onEvent);
      at = batch.after;
      if (batch.finished) return 'finished' as const;
    }
    return 'stopped' as const;
  });

/** Reads a file from `offset` to its end; a file shorter than `offset` (rewritten) is read whole. */
const readFrom = async (
  path: string,
  offset: number,
): Promise<{ data: Buffer; offset: number } | undefined> => {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  try {
    const { size } = await fh.stat();
    const from = size < offset ? 0 : offset;
    const data = Buffer.alloc(size - from);
    let got = 0;
    while (got < data.length) {
      const { bytesRead } = await fh.read(data, got, data.length - got, from + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return { data: data.subarray(0, got), offset: from + got };
  } finally {
    await fh.close();
  }
};

const rawPath = (a: AttemptView): string => {
  if (!a.logFile) throw new TtError(`the agent of this attempt is gone, so its raw log's name is unknown`);
  return a.logFile;
};

/** The attempt's raw log, whole. */
export const rawLog = async (a: AttemptView): Promise<string> => {
  const path = rawPath(a);
  const r = await readFrom(path, 0);
  if (!r) throw new TtError(`no raw log at ${path}`);
  return r.data.toString('utf8');
};

/**
 * `tail -f` of the attempt's raw log: its lines so far, then each new line as it is written
 * (a file not there yet is waited for), until the attempt's stream has a `finished` event (the
 * file is read to its end once more) or the signal. The attempt's stream is the clock: a blocking
 * read of it wakes the loop at each event, and after `blockMs` otherwise.
 */
export const followRawLog = (
  t: Town,
  a: AttemptView,
  onLine: (line: string) => void,
  o: FollowOptions = {},
): Promise<FollowEnd> => {
  const path = rawPath(a);
  const decoder = new StringDecoder('utf8');
  let offset = 0;
  let partial = '';
  const drain = async (): Promise<void> => {
    const r = await readFrom(path, offset);
    if (!r) return;
    if (r.offset < offset) partial = '';
    offset = r.offset;
    const lines = (partial + decoder.write(r.data)).split('\n');
    partial = lines.pop()!;
    lines.forEach(onLine);
  };
  const flush = () => {
    const rest = partial + decoder.end();
    partial = '';
    if (rest) onLine(rest);
  };
  return withBlocking(t, a, o.signal, async (read) => {
    let at = '0-0';
    try {
      for (;;) {
        await drain();
        if (o.signal?.aborted) return 'stopped' as const;
        const batch = await read(at, o.blockMs ?? 500);
        at = batch.after;
        if (batch.finished) {
          await drain();
          return 'finished' as const;
        }
      }
    } finally {
      flush();
    }
  });
};
