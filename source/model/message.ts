import { z } from 'zod';
import { MessagePriority } from './priority.js';

export const ConfirmationType = z.discriminatedUnion('type', [
  z.object({ type: z.literal('received') }),
  z.object({ type: z.literal('acknowledged') }),
  z.object({ type: z.literal('thanks') }),
  z.object({ type: z.literal('approved') }),
  z.object({ type: z.literal('rejected'), reason: z.string() }),
]);
export type ConfirmationType = z.infer<typeof ConfirmationType>;

/** The 13 message kinds, flattened under a `type` tag as on the wire. */
export const MessageBody = z.discriminatedUnion('type', [
  z.object({ type: z.literal('task'), description: z.string() }),
  z.object({ type: z.literal('query'), question: z.string() }),
  z.object({ type: z.literal('informational'), summary: z.string() }),
  z.object({ type: z.literal('confirmation'), ack: ConfirmationType }),
  z.object({ type: z.literal('task_assign'), taskId: z.string() }),
  z.object({ type: z.literal('task_done'), taskId: z.string(), result: z.string() }),
  z.object({ type: z.literal('task_failed'), taskId: z.string(), error: z.string() }),
  z.object({ type: z.literal('status_request') }),
  z.object({ type: z.literal('status_response'), state: z.string(), currentTask: z.string().optional() }),
  z.object({ type: z.literal('ping') }),
  z.object({ type: z.literal('pong') }),
  z.object({ type: z.literal('shutdown') }),
  z.object({ type: z.literal('custom'), kind: z.string(), payload: z.string() }),
]);
export type MessageBody = z.infer<typeof MessageBody>;
export type MessageType = MessageBody['type'];

const Envelope = z.object({
  id: z.string(),
  from: z.string(),
  to: z.string(),
  priority: MessagePriority.default('normal'),
  createdAt: z.number(),
  correlationId: z.string().optional(),
  /** The mission a message is about (the dispatcher's help requests). */
  mission: z.string().optional(),
});
export const Message = z.intersection(Envelope, MessageBody);
export type Message = z.infer<typeof Envelope> & MessageBody;

/** How the worker treats a message. */
export type MessageCategory = 'task' | 'query' | 'informational' | 'confirmation' | 'other';

export const classify = (m: MessageBody): MessageCategory => {
  switch (m.type) {
    case 'task':
    case 'task_assign':
      return 'task';
    case 'query':
    case 'status_request':
      return 'query';
    case 'informational':
    case 'task_done':
    case 'task_failed':
    case 'status_response':
    case 'ping':
    case 'pong':
      return 'informational';
    case 'confirmation':
      return 'confirmation';
    case 'shutdown':
      return 'other';
    case 'custom': {
      const text = `${m.kind} ${m.payload}`.toLowerCase();
      if (/\b(ack|thanks|received|approved)\b/.test(text)) return 'confirmation';
      if (/\b(info|fyi|status|update)\b/.test(text)) return 'informational';
      if (/\b(query|question)\b/.test(text)) return 'query';
      return 'task';
    }
  }
};

export const isActionable = (m: MessageBody): boolean => {
  const c = classify(m);
  return c === 'task' || c === 'query' || c === 'other';
};

const cut = (s: string, n: number): string => (s.length > n ? `${s.slice(0, n - 3)}...` : s);

/** One line saying what a message is. */
export const summarize = (m: MessageBody, width = 72): string => {
  switch (m.type) {
    case 'task':
      return `task: ${cut(m.description, width)}`;
    case 'query':
      return `query: ${cut(m.question, width)}`;
    case 'informational':
      return `info: ${cut(m.summary, width)}`;
    case 'confirmation':
      return m.ack.type === 'rejected'
        ? `confirmation: rejected (${cut(m.ack.reason, width - 16)})`
        : `confirmation: ${m.ack.type}`;
    case 'task_assign':
      return `task_assign: ${m.taskId}`;
    case 'task_done':
      return `task_done: ${m.taskId} ${cut(m.result, width - 48)}`;
    case 'task_failed':
      return `task_failed: ${m.taskId} ${cut(m.error, width - 48)}`;
    case 'status_response':
      return `status_response: ${m.state}`;
    case 'custom':
      return `custom ${m.kind}: ${cut(m.payload, width)}`;
    default:
      return m.type;
  }
};

/** Reads an acknowledgement's kind from its text, as `tt send --ack` does. */
export const parseAck = (text: string): ConfirmationType => {
  const t = text.trim();
  const lower = t.toLowerCase();
  const rejected = /^rejected\s*:?\s*(.*)$/is.exec(t);
  if (rejected) return { type: 'rejected', reason: rejected[1]!.trim() || 'no reason given' };
  if (lower.startsWith('received')) return { type: 'received' };
  if (lower.startsWith('approved')) return { type: 'approved' };
  if (lower.includes('thanks') || lower.includes('thank you')) return { type: 'thanks' };
  return { type: 'acknowledged' };
};

/** The text a message carries, whatever its kind. */
export const messageText = (m: MessageBody): string => {
  switch (m.type) {
    case 'task':
      return m.description;
    case 'query':
      return m.question;
    case 'informational':
      return m.summary;
    case 'custom':
      return m.payload;
    default:
      return summarize(m, 1000);
  }
};
