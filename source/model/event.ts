import { z } from 'zod';

/**
 * The one event vocabulary. Every state change appends one of these, in the same script as the
 * change, to the town stream and to the stream of the agent or mission it concerns.
 */
export const EVENT_TYPES = [
  'town.reset',
  'agent.spawned',
  'agent.state',
  'agent.interrupted',
  'agent.resumed',
  'agent.closing',
  'agent.killed',
  'agent.restarted',
  'agent.recovered',
  'agent.pruned',
  'agent.reaped',
  'task.created',
  'task.assigned',
  'task.started',
  'task.completed',
  'task.failed',
  'task.cancelled',
  'task.requeued',
  'task.retry',
  'task.dead',
  'task.deleted',
  'message.sent',
  'message.moved',
  'backlog.added',
  'backlog.claimed',
  'backlog.removed',
  'mission.created',
  'mission.state',
  'mission.item',
  'mission.watch',
  'mission.note',
  'mission.help',
] as const;
export type EventType = (typeof EVENT_TYPES)[number] | (string & {});

export const TownEvent = z.object({
  /** The stream entry id, e.g. "1732190000000-0". */
  id: z.string(),
  type: z.string(),
  ts: z.number(),
  agent: z.string().optional(),
  task: z.string().optional(),
  mission: z.string().optional(),
  from: z.string().optional(),
  to: z.string().optional(),
  state: z.string().optional(),
  prev: z.string().optional(),
  text: z.string().optional(),
  /** The dispatcher (its lease token) that wrote the change, for writes made under a lease. */
  by: z.string().optional(),
});
export type TownEvent = z.infer<typeof TownEvent>;

/** Which stream events are read from: the town's, or one agent's or mission's. */
export type EventScope = { agent: string } | { mission: string } | 'town';
