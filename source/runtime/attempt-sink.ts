import type { AttemptEventInput } from '../model/attempt.js';
import {
  ATTEMPT_LIMITS,
  appendAttemptEvents,
  openAttempt,
  type AttemptLimits,
  type AttemptRef,
} from '../store/attempts.js';
import type { Db } from '../store/db.js';

/**
 * Writes one attempt's events to its stream (store/attempts.ts) in small batches while the CLI
 * runs: a batch goes when it holds `batchSize` events or `flushMs` after its first event, one
 * write at a time, in order. A write that fails is logged (once) and its batch dropped: the raw
 * log keeps everything, and a Redis outage must not fail the round. While writes fail, at most
 * `maxQueued` events wait; older ones are dropped. `close` writes the last events (the attempt's
 * `finished`) with a few retries and waits for everything before it.
 */
export class AttemptSink {
  private queue: AttemptEventInput[] = [];
  private chain: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private failures = 0;
  private dropped = 0;

  constructor(
    private readonly db: Db,
    private readonly ref: AttemptRef,
    private readonly say: (line: string) => void,
    private readonly o: {
      limits?: AttemptLimits;
      batchSize?: number;
      flushMs?: number;
      maxQueued?: number;
    } = {},
  ) {}

  private get limits(): AttemptLimits {
    return this.o.limits ?? ATTEMPT_LIMITS;
  }

  /** Registers the attempt in its tasks' and its agent's indexes. Never throws. */
  async open(taskIds: readonly string[]): Promise<void> {
    try {
      await openAttempt(this.db, this.ref, taskIds, this.limits);
    } catch (e) {
      this.failed('could not register the attempt', e);
    }
  }

  /** Queues events; they are written soon, in order. */
  push(events: readonly AttemptEventInput[]): void {
    if (events.length === 0) return;
    this.queue.push(...events);
    const max = this.o.maxQueued ?? 5000;
    if (this.queue.length > max) {
      this.dropped += this.queue.length - max;
      this.queue.splice(0, this.queue.length - max);
    }
    if (this.queue.length >= (this.o.batchSize ?? 50)) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.o.flushMs ?? 200);
  }

  /** Writes the queued events and then `last`, retrying the last write a few times. Never throws. */
  async close(last: readonly AttemptEventInput[]): Promise<void> {
    this.queue.push(...last);
    this.flush(3);
    await this.chain;
    if (this.dropped > 0) this.say(`attempt ${this.ref.round}: ${this.dropped} event(s) not stored`);
  }

  private flush(tries = 1): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.queue.length === 0) return;
    const batch = this.queue.splice(0);
    this.chain = this.chain.then(() => this.write(batch, tries));
  }

  private async write(batch: AttemptEventInput[], tries: number): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        const r = await appendAttemptEvents(this.db, this.ref, batch, this.limits);
        for (const m of r.rejected) this.say(`attempt event left out: ${m.key}: ${m.problem}`);
        return;
      } catch (e) {
        if (attempt >= tries) {
          this.dropped += batch.length;
          this.failed('could not store attempt events', e);
          return;
        }
        await new Promise((r) => setTimeout(r, 200 * attempt));
      }
    }
  }

  private failed(what: string, e: unknown): void {
    // One line per kind of trouble is enough: the raw log has the output either way.
    if (this.failures++ === 0) this.say(`${what} (${(e as Error).message}); the raw log keeps the output`);
  }
}
