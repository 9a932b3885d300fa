import { shortId } from '../model/ids.js';
import type { TownEvent } from '../model/event.js';
import { agentLabels, agents, labelsOf, pickAgent } from '../services/agents.js';
import { history, prunableCount, townStatus } from '../services/status.js';
import { str, type Command } from './command.js';
import { AGENT_GLYPH, ago, clock, oneLine, table, TASK_GLYPH } from './format.js';
import { withTown } from './with-town.js';
import type { EventScope } from '../model/event.js';
import { followEvents } from '../services/events.js';

export const status: Command = {
  name: 'status',
  summary: 'the town at a glance: agents, inboxes, tasks',
  flags: {
    deep: {
      type: 'boolean',
      description: 'per agent: heartbeat age, current task, rounds, attempts, recent activity',
    },
    tasks: { type: 'boolean', description: 'tasks grouped by agent' },
  },
  json: true,
  maxArgs: 0,
  run: (ctx) =>
    withTown(ctx, async (t) => {
      const s = await townStatus(t, { deep: Boolean(ctx.flags.deep), tasks: Boolean(ctx.flags.tasks) });
      if (ctx.json) return ctx.printJson(s);
      const out = ctx.io.out;
      out(`town ${s.town}  ${s.root}`);
      out(`redis ${s.endpoint}`);
      const tc = s.tasks;
      out(
        `tasks ${tc.total}: ${tc.pending} pending, ${tc.assigned + tc.running} in flight, ${tc.completed} completed, ${tc.failed} failed, ${tc.cancelled} cancelled; backlog ${s.backlog}`,
      );
      if (s.supervisorInbox) out(`supervisor inbox: ${s.supervisorInbox} message(s) (tt inbox supervisor)`);
      out('');
      if (!s.agents.length) out('no agents: tt spawn <name> makes one');
      else {
        const head = ['STATE', 'AGENT', 'INBOX', 'TASK', ...(ctx.flags.deep ? ['HB', 'ROUNDS', 'TRY'] : [])];
        out(
          table([
            head,
            ...s.agents.map((a) => [
              `${AGENT_GLYPH[a.state]} ${a.state}`,
              a.label,
              String(a.inbox),
              shortId(a.currentTask),
              ...(ctx.flags.deep
                ? [
                    a.heartbeatAgeMs !== undefined ? ago(a.heartbeatAgeMs) : '-',
                    String(a.rounds),
                    a.attempts !== undefined ? String(a.attempts) : '-',
                  ]
                : []),
            ]),
          ]),
        );
        if (ctx.flags.deep)
          for (const a of s.agents)
            if (a.activity?.length) out(`\n${a.label}:\n${a.activity.map((l) => `  ${l}`).join('\n')}`);
      }
      const prunable = prunableCount(s);
      if (prunable) out(`\n${prunable} stopped agent(s) can be removed with tt prune`);
      for (const g of s.groups ?? []) {
        out(`\n${g.agent} (${g.tasks.length})`);
        for (const x of g.tasks.slice(0, 10))
          out(
            `  ${TASK_GLYPH[x.state]} ${shortId(x.id)} ${x.state.padEnd(9)} ${x.priority.padEnd(8)} ${oneLine(x.description, 60)}`,
          );
        if (g.tasks.length > 10) out(`  ... and ${g.tasks.length - 10} more`);
      }
    }),
};

export const eventLine = (e: TownEvent, labels: Map<string, string>): string => {
  const who = e.agent
    ? (labels.get(e.agent) ?? shortId(e.agent))
    : e.from
      ? (labels.get(e.from) ?? shortId(e.from))
      : 'system';
  const bits = [
    e.task ? `task ${shortId(e.task)}` : '',
    e.state ? (e.prev ? `${e.prev} -> ${e.state}` : e.state) : '',
    e.text ? oneLine(e.text, 80) : '',
  ].filter(Boolean);
  return `${clock(e.ts)} ${e.type.padEnd(17)} ${who.padEnd(18)} ${bits.join('  ')}`.trimEnd();
};

export const historyCmd: Command = {
  name: 'history',
  summary: 'recent events of the town (or of one agent)',
  flags: {
    limit: { type: 'number', shortFlag: 'n', description: 'how many', default: 30, value: 'n' },
    agent: { type: 'string', shortFlag: 'a', description: 'only this agent', value: 'agent' },
  },
  json: true,
  maxArgs: 0,
  run: (ctx) =>
    withTown(ctx, async (t) => {
      const events = await history(t, {
        count: ctx.flags.limit as number,
        ...(str(ctx.flags, 'agent') ? { agent: str(ctx.flags, 'agent')! } : {}),
      });
      if (ctx.json) return ctx.printJson({ events });
      const labels = await agentLabels(t);
      ctx.io.out(events.length ? events.map((e) => eventLine(e, labels)).join('\n') : 'no events yet');
    }),
};

export const eventsCmd: Command = {
  name: 'events',
  summary: 'print events; --follow keeps printing them as they happen',
  flags: {
    count: {
      type: 'number',
      shortFlag: 'c',
      description: 'how many past events to print first',
      default: 20,
      value: 'n',
    },
    agent: { type: 'string', description: 'only this agent', value: 'agent' },
    mission: { type: 'string', description: 'only this mission', value: 'id' },
    follow: { type: 'boolean', shortFlag: 'f', description: 'keep printing new events' },
  },
  json: true,
  maxArgs: 0,
  run: (ctx) =>
    withTown(ctx, async (t) => {
      const agent = str(ctx.flags, 'agent');
      const mission = str(ctx.flags, 'mission');
      const all = await agents(t);
      const scope: EventScope = agent ? { agent: pickAgent(agent, all).id } : mission ? { mission } : 'town';
      const labels = labelsOf(all);
      const print = (e: TownEvent) => ctx.io.out(ctx.json ? JSON.stringify(e) : eventLine(e, labels));
      const past = await history(
        t,
        { count: ctx.flags.count as number, ...(agent ? { agent } : {}), ...(mission ? { mission } : {}) },
        all,
      );
      if (!ctx.flags.follow) {
        if (ctx.json) return ctx.printJson({ events: past });
        ctx.io.out(past.length ? past.map((e) => eventLine(e, labels)).join('\n') : 'no events yet');
        return;
      }
      past.forEach(print);
      const follower = await followEvents(t, scope);
      try {
        let { after } = past.length ? { after: past.at(-1)!.id } : await follower.start(0);
        while (!ctx.io.signal?.aborted) {
          const batch = await follower.next(after, 1000);
          for (const e of batch) {
            if (e.agent && !labels.has(e.agent)) for (const [k, v] of await agentLabels(t)) labels.set(k, v);
            print(e);
          }
          after = batch.at(-1)?.id ?? after;
        }
      } finally {
        follower.close();
      }
    }),
};

export const statusCommands = [status, historyCmd, eventsCmd];
