import { shortId } from '../model/ids.js';
import { displayLabel } from '../model/agent.js';
import { flatLine } from '../model/format.js';
import {
  interruptAgent,
  killAgent,
  registerNewAgent,
  restartAgent,
  resumeAgent,
  startWorker,
} from '../services/agents.js';
import { consoleSnapshot, type HelpPrompt } from '../services/console.js';
import type { Town } from '../services/context.js';
import { followEvents, type EventFollower } from '../services/events.js';
import {
  attemptLine,
  attemptLog,
  findAttempt,
  followAttempt,
  followRawLog,
  shownLogFile,
} from '../services/logs.js';
import { send } from '../services/messages.js';
import { noteMission, stopMission } from '../services/missions.js';
import { assignTask, cancelTask, reassignTask, retryTask } from '../services/tasks.js';
import type { ConsoleActions, LogEnd, LogRequest, LogSink } from './actions.js';
import { ageThroughput, appendEvents, SPARK_BUCKET_MS, type ConsoleStore } from './store.js';
import type { TownEvent } from '../model/event.js';

/** The console's actions over a town: each one a services call, as the CLI makes. */
export const townActions = (t: Town, store: ConsoleStore): ConsoleActions => {
  const note = async (mission: string, body: string) => {
    const n = await noteMission(t, mission, body, 'console');
    store.setState((s) => ({
      receipts: [...s.receipts, { note: n.id, mission, body, state: 'queued' as const }].slice(-20),
    }));
    return `note "${body}" queued for mission ${shortId(mission)}`;
  };
  return {
    pauseMission: (id) => note(id, 'pause'),
    resumeMission: (id) => note(id, 'resume'),
    noteMission: note,
    stopMission: async (id, force) => `mission ${shortId(id)} is ${(await stopMission(t, id, force)).state}`,
    redirectItem: (mission, item, agent) => note(mission, `redirect ${shortId(item)} to ${agent}`),
    interruptAgent: async (id) => `${displayLabel((await interruptAgent(t, id)).agent)} paused`,
    resumeAgent: async (id) => `${displayLabel((await resumeAgent(t, id)).agent)} resumed`,
    killAgent: async (id) => `${displayLabel((await killAgent(t, id)).agent)} stopped`,
    restartAgent: async (id) => {
      const r = await restartAgent(t, id);
      return `${displayLabel(r.agent)} restarted (was ${r.prev}); its worker is starting`;
    },
    sendMessage: async (agent, text, urgent) => {
      const m = await send(t, agent, text, { kind: 'task', urgent, from: 'supervisor' });
      return `sent ${m.id}${urgent ? ' (urgent)' : ''}`;
    },
    assignTask: async (agent, text) => {
      const task = await assignTask(t, agent, { description: text, from: 'supervisor' });
      return `assigned task ${shortId(task.id)}`;
    },
    retryTask: async (id) => `task ${shortId((await retryTask(t, id)).id)} is back on the backlog`,
    cancelTask: async (id) =>
      `task ${shortId((await cancelTask(t, id, 'cancelled from the console')).task.id)} cancelled`,
    reassignTask: async (id, agent) =>
      `task ${shortId((await reassignTask(t, id, agent)).id)} reassigned to ${agent}`,
    spawnAgent: async (request) => {
      const a = await registerNewAgent(t, request.options);
      if (!request.start) return `spawned ${displayLabel(a)} (worker not started: --no-start)`;
      const pid = await startWorker(t, a.id);
      return `spawned ${displayLabel(a)} (worker pid ${pid})`;
    },
    answerHelp: async (prompt: HelpPrompt, text: string) => {
      if (prompt.mission) return note(prompt.mission, text);
      await send(t, prompt.from, text, { kind: 'info', from: 'supervisor' });
      return `answered ${shortId(prompt.from)}`;
    },
    watchLog: (request, sink, signal) => watchLog(t, request, sink, signal),
  };
};

/** tt logs [--raw] --follow, into a sink: the stored events first, then each one as it comes. */
const watchLog = async (t: Town, r: LogRequest, sink: LogSink, signal: AbortSignal): Promise<LogEnd> => {
  const found = await findAttempt(t, r.ref, r.attempt);
  if ('none' in found) return { none: found.none };
  const a = found.attempt;
  const file = shownLogFile(t, a);
  sink.attempt({
    agent: a.agent,
    ...(a.task ? { task: a.task } : {}),
    number: a.number,
    of: a.of,
    round: a.round,
    ...(a.prev !== undefined ? { prev: a.prev } : {}),
    ...(a.next !== undefined ? { next: a.next } : {}),
    ...(file ? { file } : {}),
  });
  if (r.raw) return followRawLog(t, a, (line) => sink.lines([flatLine(line)]), { signal });
  const log = await attemptLog(t, a);
  sink.lines(log.events.map(attemptLine));
  if (log.finished || signal.aborted) return log.finished ? 'finished' : 'stopped';
  return followAttempt(t, a, log.after, (e) => sink.lines([attemptLine(e)]), { signal });
};

interface AdapterOptions {
  snapshotMs: number;
  flushMs: number;
  signal: AbortSignal;
  onHelp?: () => void;
}

/** What the adapter's loops share: events waiting for the next flush, and a snapshot on demand. */
interface Feed {
  pending: TownEvent[];
  refreshNow?: () => void;
}

/** Redis trouble shows as the link state, with a count of the retries. */
const linkDown = (store: ConsoleStore, e: unknown) =>
  store.setState((s) => ({
    link: 'disconnected',
    retries: s.link === 'disconnected' ? s.retries + 1 : 1,
    linkError: (e as Error).message,
  }));

/** A snapshot every `snapshotMs`, or sooner when asked (feed.refreshNow), until aborted. */
const snapshotLoop = async (t: Town, store: ConsoleStore, o: AdapterOptions, feed: Feed) => {
  while (!o.signal.aborted) {
    try {
      const snap = await consoleSnapshot(t);
      const helpBefore = store.getState().snapshot?.help.length ?? 0;
      store.setState({ snapshot: snap, link: 'linked', retries: 0 });
      if (snap.help.length > helpBefore) o.onHelp?.();
    } catch (e) {
      linkDown(store, e);
    }
    await new Promise<void>((r) => {
      const done = () => {
        clearTimeout(timer);
        o.signal.removeEventListener('abort', done);
        r();
      };
      const timer = setTimeout(done, o.snapshotMs);
      feed.refreshNow = done;
      o.signal.addEventListener('abort', done, { once: true });
    });
  }
};

/** Follows the town's event stream into feed.pending; agent and mission events ask for a snapshot. */
const eventLoop = async (t: Town, store: ConsoleStore, o: AdapterOptions, feed: Feed) => {
  let follower: EventFollower | undefined;
  let after: string | undefined;
  while (!o.signal.aborted) {
    try {
      if (!follower) {
        follower = await followEvents(t);
        const start = await follower.start(after ? 0 : 500);
        if (!after) feed.pending.push(...start.events);
        after ??= start.after;
      }
      const batch = await follower.next(after!, 1000);
      if (batch.length) {
        after = batch.at(-1)!.id;
        feed.pending.push(...batch);
        if (batch.some((e) => /^(mission|agent)\./.test(e.type) || e.type === 'message.sent'))
          feed.refreshNow?.();
      }
    } catch (e) {
      if (o.signal.aborted) break;
      linkDown(store, e);
      follower?.close();
      follower = undefined;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  follower?.close();
};

/** Moves the pending events into the store every `flushMs`, ageing the sparklines as time passes. */
const startFlushing = (t: Town, store: ConsoleStore, o: AdapterOptions, feed: Feed, firstBucket: number) => {
  let lastBucket = firstBucket;
  const flush = setInterval(() => {
    const now = t.clock.now();
    const bucket = Math.floor(now / SPARK_BUCKET_MS);
    if (feed.pending.length === 0 && bucket === lastBucket) return;
    const batch = feed.pending;
    feed.pending = [];
    store.setState((s) => {
      const aged =
        bucket !== lastBucket ? { ...s, throughput: ageThroughput(s.throughput, bucket - lastBucket) } : s;
      return {
        ...(bucket !== lastBucket ? { throughput: aged.throughput } : {}),
        ...appendEvents(aged, batch, now),
      };
    });
    lastBucket = bucket;
  }, o.flushMs);
  o.signal.addEventListener('abort', () => clearInterval(flush), { once: true });
};

/**
 * Feeds the store: a snapshot every `snapshotMs` (and on demand), and the event stream, with
 * updates coalesced to at most one store write per `flushMs`. Redis trouble shows as the link
 * state, never as a crash; a resync happens on reconnect.
 */
export const startAdapter = (t: Town, store: ConsoleStore, o: AdapterOptions) => {
  const feed: Feed = { pending: [] };
  const firstBucket = Math.floor(t.clock.now() / SPARK_BUCKET_MS);
  const snapshots = snapshotLoop(t, store, o, feed);
  const events = eventLoop(t, store, o, feed);
  startFlushing(t, store, o, feed, firstBucket);
  return { done: Promise.all([snapshots, events]), refresh: () => feed.refreshNow?.() };
};
