import { displayLabel, type Agent } from '../model/agent.js';
import { UsageError } from '../model/errors.js';
import { shortId, SUPERVISOR_ID } from '../model/ids.js';
import { classify, parseAck, summarize, type Message, type MessageBody } from '../model/message.js';
import type { MessagePriority } from '../model/priority.js';
import { readTasks } from '../store/tasks.js';
import { inboxLengths, peekInbox, sendMessage } from '../store/messages.js';
import { resolveAgentRef } from '../model/resolve.js';
import { agents } from './agents.js';
import type { Town } from './context.js';
import { report } from './report.js';
import { senderIdAmong } from './tasks.js';

export type SendKind = 'task' | 'query' | 'info' | 'ack';

export const messageBody = (kind: SendKind, text: string): MessageBody => {
  const body = text.trim();
  if (!body) throw new UsageError('the message is empty');
  switch (kind) {
    case 'task':
      return { type: 'task', description: body };
    case 'query':
      return { type: 'query', question: body };
    case 'info':
      return { type: 'informational', summary: body };
    case 'ack':
      return { type: 'confirmation', ack: parseAck(body) };
  }
};

export interface SendOptions {
  kind: SendKind;
  urgent?: boolean;
  priority?: MessagePriority;
  from?: string;
  correlationId?: string;
}

export const send = async (
  t: Town,
  toRef: string,
  text: string,
  o: SendOptions,
): Promise<{ id: string; to: string; from: string }> => {
  const all = await agents(t);
  const to = resolveAgentRef(toRef, all);
  const from = senderIdAmong(t, all, o.from);
  const body = messageBody(o.kind, text);
  const priority = o.urgent ? 'urgent' : (o.priority ?? 'normal');
  const id = await sendMessage(
    t.db,
    { from, to, body, priority, ...(o.correlationId ? { correlationId: o.correlationId } : {}) },
    summarize(body, 100),
  );
  return { id, to, from };
};

export interface InboxView {
  agent: string;
  id: string;
  total: number;
  counts: { task: number; query: number; informational: number; confirmation: number; other: number };
  messages: (Message & { summary: string })[];
}

const labelOf = (all: readonly Agent[], id: string) =>
  id === SUPERVISOR_ID
    ? 'supervisor'
    : (() => {
        const a = all.find((x) => x.id === id);
        return a ? displayLabel(a) : shortId(id);
      })();

/** Peeks (never takes) an inbox; task_assign entries are expanded with their task's description. */
export const inbox = async (
  t: Town,
  ref: string,
  limit = 100,
  known?: readonly Agent[],
): Promise<InboxView> => {
  const all = known ?? (await agents(t));
  const id = resolveAgentRef(ref, all);
  const items = report(t, await peekInbox(t.db, id, limit));
  const total = (await inboxLengths(t.db, [id])).get(id) ?? 0;
  const taskIds = [
    ...new Set(items.flatMap(({ message }) => (message.type === 'task_assign' ? [message.taskId] : []))),
  ];
  // One pipeline for every assigned task; a missing or malformed task keeps its plain summary.
  const tasks = new Map((await readTasks(t.db, taskIds)).items.map((x) => [x.id, x]));
  const counts = { task: 0, query: 0, informational: 0, confirmation: 0, other: 0 };
  const messages = [];
  for (const { message } of items) {
    counts[classify(message)]++;
    let summary = summarize(message);
    if (message.type === 'task_assign') {
      const task = tasks.get(message.taskId);
      if (task)
        summary = `task_assign ${shortId(task.id)} [${task.priority}]: ${task.description.split('\n', 1)[0]!.slice(0, 70)}`;
    }
    messages.push({ ...message, summary });
  }
  return { agent: labelOf(all, id), id, total, counts, messages };
};

/** Every non-empty inbox, the supervisor's included. */
export const allInboxes = async (t: Town, perAgent = 5): Promise<InboxView[]> => {
  const all = await agents(t);
  const ids = [SUPERVISOR_ID, ...all.map((a) => a.id)];
  const lengths = await inboxLengths(t.db, ids);
  const out: InboxView[] = [];
  for (const id of ids)
    if ((lengths.get(id) ?? 0) > 0)
      out.push(await inbox(t, id === SUPERVISOR_ID ? 'supervisor' : id, perAgent, all));
  return out;
};
