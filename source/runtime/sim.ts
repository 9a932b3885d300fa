import { type SimSettings } from '../model/sim.js';
import type { Executor } from './executor.js';

/** A small seeded PRNG (mulberry32), so simulated runs repeat. */
export const seededRandom = (seed: number): (() => number) => {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (ms <= 0 || signal.aborted) return resolve();
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });

/**
 * The simulated agent: runs inside the worker process, no LLM. Each task takes `durationMs`,
 * then fails (the first `failFirst` attempts, or at `failRate`) or completes; it may ask the
 * supervisor a question on the way, and it answers the questions sent to it.
 */
export const simExecutor = (settings: SimSettings): Executor => {
  const random = seededRandom(settings.seed);
  return async (work) => {
    const results = new Map<string, { ok: boolean; text: string }>();
    for (const { task } of work.tasks) {
      if (settings.queryRate > 0 && random() < settings.queryRate) {
        await work.send('supervisor', {
          type: 'query',
          question: `sim ${work.agent.name}: is "${task.description.split('\n', 1)[0]}" still wanted?`,
        });
      }
      await sleep(settings.durationMs, work.signal);
      if (work.signal.aborted)
        results.set(task.id, { ok: false, text: 'the worker stopped during this attempt' });
      else if (
        task.attempts <= settings.failFirst ||
        (settings.failRate > 0 && random() < settings.failRate)
      ) {
        results.set(task.id, { ok: false, text: `sim: simulated failure on attempt ${task.attempts}` });
      } else
        results.set(task.id, {
          ok: true,
          text: `sim: done "${task.description.split('\n', 1)[0]!.slice(0, 60)}"`,
        });
    }
    for (const { message } of work.messages) {
      if (message.type === 'query' || message.type === 'status_request') {
        await work.send(message.from, {
          type: 'informational',
          summary: `sim ${work.agent.name}: ${work.tasks.length ? 'busy with my task' : 'nothing to report'}`,
        });
      }
    }
    return {
      results,
      summary: `sim round: ${[...results.values()].filter((r) => r.ok).length} done, ${[...results.values()].filter((r) => !r.ok).length} failed`,
    };
  };
};
