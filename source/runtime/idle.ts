import type { Redis } from 'ioredis';
import { ackMessages } from '../store/messages.js';
import { moveAgent } from '../store/agents.js';
import { waitForWake, waitForWork, type Round } from '../store/worker.js';
import type { WorkerExit, WorkerRun } from './worker-run.js';

/**
 * A turn without work. Informational messages are acknowledged at once. After the idle timeout
 * the agent drains and the loop ends. Otherwise the worker blocks on its wake list and the
 * backlog's until a message or a backlog task comes, the next reap is due or the timeout nears.
 */
export const idle = async (w: WorkerRun, round: Round | undefined): Promise<WorkerExit | undefined> => {
  if (round?.messages.length) {
    await ackMessages(
      w.db,
      w.agentId,
      round.messages.map((e) => e.message.id),
    );
    w.say(`auto-handled ${round.messages.length} informational message(s)`);
    return undefined;
  }
  const idleFor = w.db.clock.now() - w.lastWork;
  if (w.config.idleTimeoutMs > 0 && idleFor >= w.config.idleTimeoutMs) {
    await drain(w, idleFor);
    return 'idle-timeout';
  }
  await waitForWork(w.db, w.o.blocking, w.agentId, idleWaitMs(w, idleFor));
  return undefined;
};

/** How long one idle block lasts: at most blockMs, until the next reap or the idle timeout. */
const idleWaitMs = (w: WorkerRun, idleFor: number): number => {
  const { blockMs, idleTimeoutMs } = w.config;
  const wait = Math.min(
    blockMs,
    Math.max(1, w.nextReap - w.db.clock.now()),
    idleTimeoutMs > 0 ? Math.max(1, idleTimeoutMs - idleFor) : Infinity,
  );
  return Math.max(wait, 10);
};

/** The agent idled out: it drains (best effort; the worker stops either way). */
const drain = async (w: WorkerRun, idleFor: number): Promise<void> => {
  await moveAgent(w.db, w.agentId, {
    to: 'draining',
    event: 'agent.state',
    text: `idle for ${Math.round(idleFor / 1000)}s`,
  }).catch(() => undefined);
};

/** A paused agent takes no work: block on its own wake list (a resume wakes it), not the backlog's. */
export const waitWhilePaused = (w: WorkerRun): Promise<void> =>
  waitForWake(w.db, w.o.blocking, w.agentId, w.config.blockMs);

/**
 * A blocked read does not see the abort: closing its connection ends it now. Returns the
 * function that stops listening.
 */
export const unblockOnAbort = (blocking: Redis, signal: AbortSignal): (() => void) => {
  const unblock = () => blocking.disconnect();
  signal.addEventListener('abort', unblock, { once: true });
  return () => signal.removeEventListener('abort', unblock);
};
