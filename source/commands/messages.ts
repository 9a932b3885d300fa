import { SUPERVISOR_ID } from '../model/ids.js';
import { UsageError } from '../model/errors.js';
import { allInboxes, inbox, send, type InboxView, type SendKind } from '../services/messages.js';
import { str, type Command } from './command.js';
import { withTown } from './with-town.js';

export const sendCmd: Command = {
  name: 'send',
  summary: 'send a message to an agent (or supervisor/conductor)',
  args: '<to> <message...>',
  description: 'Without a kind flag the message is a task for the agent.',
  flags: {
    query: { type: 'boolean', description: 'a question' },
    info: { type: 'boolean', description: 'an FYI' },
    ack: { type: 'boolean', description: 'a confirmation ("rejected: why", "approved", "thanks", ...)' },
    urgent: { type: 'boolean', description: 'served before everything else' },
    from: { type: 'string', description: 'sender (default: this agent, else supervisor)', value: 'agent' },
  },
  json: true,
  minArgs: 2,
  run: (ctx) =>
    withTown(ctx, async (t) => {
      const kinds = (['query', 'info', 'ack'] as const).filter((k) => ctx.flags[k]);
      if (kinds.length > 1) throw new UsageError('choose at most one of --query, --info, --ack');
      const kind: SendKind = kinds[0] ?? 'task';
      const r = await send(t, ctx.args[0]!, ctx.args.slice(1).join(' '), {
        kind,
        urgent: Boolean(ctx.flags.urgent),
        ...(str(ctx.flags, 'from') ? { from: str(ctx.flags, 'from')! } : {}),
      });
      if (ctx.json) return ctx.printJson(r);
      ctx.io.out(
        `sent ${kind}${ctx.flags.urgent ? ' (urgent)' : ''} ${r.id} to ${r.to === SUPERVISOR_ID ? 'supervisor' : ctx.args[0]}`,
      );
    }),
};

const render = (v: InboxView): string => {
  const c = v.counts;
  const head = `${v.agent}: ${v.total} message(s)  [T]${c.task} [Q]${c.query} [I]${c.informational} [C]${c.confirmation}${c.other ? ` [O]${c.other}` : ''}`;
  const more = v.total > v.messages.length ? [`  ... and ${v.total - v.messages.length} more`] : [];
  return [
    head,
    ...v.messages.map((m) => `  ${m.priority === 'urgent' ? '!' : ' '} ${m.id.padEnd(6)} ${m.summary}`),
    ...more,
  ].join('\n');
};

export const inboxCmd: Command = {
  name: 'inbox',
  summary: "peek at an agent's inbox without taking anything",
  args: '[agent]',
  flags: {
    all: { type: 'boolean', shortFlag: 'a', description: 'every non-empty inbox, the supervisor included' },
  },
  json: true,
  maxArgs: 1,
  run: (ctx) =>
    withTown(ctx, async (t) => {
      if (ctx.flags.all) {
        const views = await allInboxes(t);
        if (ctx.json) return ctx.printJson({ inboxes: views });
        ctx.io.out(views.length ? views.map(render).join('\n\n') : 'every inbox is empty');
        return;
      }
      const ref = ctx.args[0] ?? t.env.TT_AGENT_ID ?? t.env.TT_AGENT_NAME;
      if (!ref) throw new UsageError('whose inbox? tt inbox <agent>, or tt inbox --all');
      const v = await inbox(t, ref);
      if (ctx.json) return ctx.printJson(v);
      ctx.io.out(render(v));
    }),
};

export const messageCommands = [sendCmd, inboxCmd];
