import type { EventScope, TownEvent } from '../model/event.js';
import { lastEventId, recentEvents, waitForEvents } from '../store/events.js';
import type { Town } from './context.js';
import { report } from './report.js';

/** A follower of one event stream (the town's, an agent's or a mission's) on its own connection. */
export interface EventFollower {
  /** The newest `count` events (oldest first) and where to continue from. */
  start(count: number): Promise<{ events: TownEvent[]; after: string }>;
  /** Blocks up to `blockMs` for events after `after`. */
  next(after: string, blockMs: number): Promise<TownEvent[]>;
  close(): void;
}

export const followEvents = async (t: Town, scope: EventScope = 'town'): Promise<EventFollower> => {
  const blocking = await t.connect('blocking');
  return {
    async start(count) {
      const events = count > 0 ? report(t, await recentEvents(t.db, scope, count)) : [];
      return { events, after: events.at(-1)?.id ?? (await lastEventId(t.db, scope)) };
    },
    async next(after, blockMs) {
      return report(t, await waitForEvents(blocking, t.db, scope, after, blockMs));
    },
    close: () => blocking.disconnect(),
  };
};
