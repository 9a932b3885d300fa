import type { Redis } from 'ioredis';
import { TtError } from '../model/errors.js';
import type { Malformed } from '../model/hash.js';
import { Message, type MessageBody } from '../model/message.js';
import { messageBand, type MessagePriority } from '../model/priority.js';
import { script, scriptWith, type Db } from './db.js';
import type { Batch } from './records.js';

export interface Outgoing {
  from: string;
  to: string;
  body: MessageBody;
  priority: MessagePriority;
  correlationId?: string;
}

/** Queues a message in the recipient's inbox (served by priority band, FIFO within a band). */
export const sendMessage = async (db: Db, m: Outgoing, eventText: string): Promise<string> => {
  const wire = {
    ...m.body,
    from: m.from,
    priority: m.priority,
    ...(m.correlationId ? { correlationId: m.correlationId } : {}),
  };
  const [status, id = ''] = await scriptWith(db, 'message_send', {
    to: m.to,
    message: JSON.stringify(wire),
    band: messageBand(m.priority),
    eventText,
  });
  if (status === 'missing') throw new TtError(`agent ${m.to} no longer exists`);
  return id;
};

/** An inbox entry: the decoded message and the exact stored member (needed to remove it). */
export interface InboxEntry {
  message: Message;
  member: string;
}

export const parseInboxMember = (
  key: string,
  member: string,
): { ok: true; entry: InboxEntry } | { ok: false; malformed: Malformed } => {
  let raw: unknown;
  try {
    raw = JSON.parse(member);
  } catch {
    return { ok: false, malformed: { key, problem: `not JSON: ${member.slice(0, 40)}` } };
  }
  const r = Message.safeParse(raw);
  if (!r.success) return { ok: false, malformed: { key, problem: r.error.issues[0]!.message } };
  return { ok: true, entry: { message: r.data as Message, member } };
};

/** Reads (without taking) up to `limit` messages, in the order the agent will be served them. */
export const peekInbox = async (db: Db, agentId: string, limit = 100): Promise<Batch<InboxEntry>> => {
  const key = db.keys.inbox(agentId);
  const members = await db.redis.zrange(key, '0', String(limit - 1));
  const out: Batch<InboxEntry> = { items: [], malformed: [] };
  for (const m of members) {
    const r = parseInboxMember(key, m);
    if (r.ok) out.items.push(r.entry);
    else out.malformed.push(r.malformed);
  }
  return out;
};

/** Inbox lengths for many agents in one round trip. */
export const inboxLengths = async (db: Db, agentIds: string[]): Promise<Map<string, number>> => {
  const out = new Map<string, number>();
  if (agentIds.length === 0) return out;
  const pipe = db.redis.pipeline();
  for (const id of agentIds) pipe.zcard(db.keys.inbox(id));
  const replies = (await pipe.exec()) ?? [];
  agentIds.forEach((id, i) => out.set(id, Number(replies[i]?.[1] ?? 0)));
  return out;
};

export type ReclaimOutcome = 'moved' | 'requeued' | 'created' | 'stale' | 'gone' | 'kept';

/** Moves one inbox entry of a stopped agent to another agent, or its work to the backlog. */
export const reclaimEntry = async (
  db: Db,
  fromAgent: string,
  member: string,
  to: string | undefined,
  newTask?: { id: string; fields: Record<string, string> },
): Promise<ReclaimOutcome> => {
  const [status, what = ''] = await scriptWith(db, 'inbox_reclaim', {
    from: fromAgent,
    member,
    to: to ?? '',
    newTaskId: newTask?.id ?? '',
    newTaskFields: JSON.stringify(newTask?.fields ?? {}),
  });
  if (status === 'missing_agent') throw new TtError(`agent ${to} no longer exists`);
  return (status === 'ok' ? what : status) as ReclaimOutcome;
};

/**
 * Takes up to `max` messages for an agent, best band first, into its held set. They stay held
 * until `ackMessages` (at-least-once: a dead agent's held messages go back to its inbox).
 */
export const claimMessages = async (db: Db, agentId: string, max: number): Promise<Batch<InboxEntry>> => {
  const members = await script(db, 'inbox_claim', [agentId, max]);
  const key = db.keys.inbox(agentId);
  const out: Batch<InboxEntry> = { items: [], malformed: [] };
  for (const m of members) {
    if (m === '') continue;
    const r = parseInboxMember(key, m);
    if (r.ok) out.items.push(r.entry);
    else out.malformed.push(r.malformed);
  }
  return out;
};

/** Forgets held messages once handled. */
export const ackMessages = async (db: Db, agentId: string, messageIds: string[]): Promise<void> => {
  if (messageIds.length) await db.redis.hdel(db.keys.held(agentId), ...messageIds);
};

/**
 * Claims messages, blocking up to `blockMs` on the agent's wake list when the inbox is empty.
 * `blocking` must be a connection of its own (role "blocking").
 */
export const receiveMessages = async (
  db: Db,
  blocking: Redis,
  agentId: string,
  max: number,
  blockMs: number,
): Promise<Batch<InboxEntry>> => {
  const first = await claimMessages(db, agentId, max);
  if (first.items.length || first.malformed.length || blockMs <= 0) return first;
  const woke = await blocking.blpop(db.keys.wake(agentId), blockMs / 1000);
  if (!woke) return first;
  return claimMessages(db, agentId, max);
};
