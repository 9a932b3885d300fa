import { shortId } from '../model/ids.js';
import { ITEM_GLYPH, MISSION_GLYPH } from '../model/glyphs.js';
import { objectiveLabel, type Mission } from '../model/mission.js';
import {
  dispatch,
  missionStatus,
  missionsList,
  noteMission,
  resumeMission,
  startMission,
  stopMission,
} from '../services/missions.js';
import { agentLabels } from '../services/agents.js';
import { str, type Command } from './command.js';
import { ago, clock, oneLine, table } from './format.js';
import { eventLine } from './status.js';
import { withTown } from './with-town.js';

const summaryLine = (m: Mission, now: number): string =>
  `${MISSION_GLYPH[m.state]} ${shortId(m.id)} ${m.state.padEnd(9)} ${oneLine(m.title, 40).padEnd(40)} ${m.itemsDone}/${m.itemsTotal} done  ${ago(now - m.createdAt)}${m.blockedReason ? `  ${oneLine(m.blockedReason, 50)}` : ''}`;

/** A repeatable flag's values. */
const list = (v: unknown): string[] =>
  (Array.isArray(v) ? v.map(String) : typeof v === 'string' ? [v] : []).filter(Boolean);

export const missionStart: Command = {
  name: 'mission start',
  summary: 'start a mission from GitHub issues, docs and/or a manifest',
  description:
    'Issue refs: 23 (the repository of github.repo or the git origin), owner/repo#23, or an issue URL.\nA manifest (JSON) sets kinds, dependencies, roles and skips per issue, and may define work items\nwith no issue at all, so a mission runs fully offline.',
  flags: {
    issue: {
      type: 'string',
      shortFlag: 'i',
      isMultiple: true,
      description: 'an issue to work on (repeat)',
      value: 'ref',
    },
    doc: {
      type: 'string',
      shortFlag: 'd',
      isMultiple: true,
      description: 'a document to design from (repeat)',
      value: 'path',
    },
    manifest: { type: 'string', shortFlag: 'm', description: 'a mission manifest (JSON)', value: 'file' },
    maxParallel: { type: 'number', description: 'work items in flight at once (default 2)', value: 'n' },
    reviewer: {
      type: 'boolean',
      default: true,
      description: 'implement and test items need a review (--no-reviewer: they do not)',
    },
    title: { type: 'string', description: 'what to call it', value: 'text' },
  },
  json: true,
  maxArgs: 0,
  run: (ctx) =>
    withTown(ctx, async (t) => {
      const r = await startMission(t, {
        issues: list(ctx.flags.issue),
        docs: list(ctx.flags.doc),
        ...(str(ctx.flags, 'manifest') ? { manifest: str(ctx.flags, 'manifest')! } : {}),
        ...(ctx.flags.maxParallel !== undefined ? { maxParallel: ctx.flags.maxParallel as number } : {}),
        reviewer: Boolean(ctx.flags.reviewer),
        ...(str(ctx.flags, 'title') ? { title: str(ctx.flags, 'title')! } : {}),
      });
      if (ctx.json) return ctx.printJson({ mission: r.mission, items: r.items, tick: r.tick });
      ctx.io.out(
        `started mission ${r.mission.id} "${r.mission.title}" with ${r.items.length} work item(s); ${r.tick[0]?.assigned ?? 0} assigned`,
      );
      ctx.io.out(
        table(
          r.items
            .sort((a, b) => a.rank - b.rank)
            .map((i) => [
              shortId(i.id),
              i.kind,
              i.deps.length ? `after ${i.deps.map((d) => shortId(d)).join(',')}` : 'ready',
              oneLine(i.title, 60),
            ]),
        ),
      );
      ctx.io.out('keep a dispatcher running (tt mission dispatch, or the console) to drive it');
    }),
};

export const missionList: Command = {
  name: 'mission list',
  summary: 'missions (active ones; --all for every one)',
  flags: { all: { type: 'boolean', description: 'include completed and failed missions' } },
  json: true,
  maxArgs: 0,
  run: (ctx) =>
    withTown(ctx, async (t) => {
      const ms = await missionsList(t, Boolean(ctx.flags.all));
      if (ctx.json) return ctx.printJson({ missions: ms });
      const now = t.clock.now();
      ctx.io.out(
        ms.length
          ? ms.map((m) => summaryLine(m, now)).join('\n')
          : ctx.flags.all
            ? 'no missions'
            : 'no active missions (tt mission list --all shows finished ones)',
      );
    }),
};

export const missionStatusCmd: Command = {
  name: 'mission status',
  summary: "a mission's work items, watches, dispatcher, help requests and notes",
  args: '<mission>',
  json: true,
  minArgs: 1,
  maxArgs: 1,
  run: (ctx) =>
    withTown(ctx, async (t) => {
      const v = await missionStatus(t, ctx.args[0]!);
      if (ctx.json) return ctx.printJson(v);
      const m = v.mission;
      const now = t.clock.now();
      const labels = await agentLabels(t);
      const out = ctx.io.out;
      out(`mission ${m.id}  ${m.state}  "${m.title}"`);
      out(`objectives: ${m.objectives.map(objectiveLabel).join(', ')}`);
      out(
        `policy: max ${m.policy.maxParallel} in flight, reviewer ${m.policy.reviewerRequired ? 'required' : 'not required'}; ${m.itemsDone}/${m.itemsTotal} done`,
      );
      if (m.blockedReason) out(`waiting: ${m.blockedReason}`);
      const d = v.dispatcher;
      out(
        `dispatcher: ${d.lastTickAt ? `last tick ${d.lastTick ?? '?'} ${ago(now - d.lastTickAt)} ago` : 'no tick yet'}${d.leaseHolder ? `; lease held (${Math.round((d.leaseTtlMs ?? 0) / 1000)}s left)` : '; no lease held'}${m.nextWakeAt ? `; next wake in ${ago(m.nextWakeAt - now)}` : ''}`,
      );
      if (m.helpAt)
        out(
          `last help request ${ago(now - m.helpAt)} ago (x${m.helpAttempts}): ${oneLine(m.helpReason ?? '', 80)}`,
        );
      out('');
      out(
        table([
          ['', 'ITEM', 'KIND', 'STATUS', 'AGENT', 'TITLE'],
          ...v.items.map((i) => [
            ITEM_GLYPH[i.status],
            shortId(i.id),
            i.kind,
            i.status,
            i.assignedTo ? (labels.get(i.assignedTo) ?? shortId(i.assignedTo)) : '-',
            oneLine(i.title, 50),
          ]),
        ]),
      );
      if (v.watches.length) {
        out('');
        out(
          table(
            v.watches.map((w) => [
              w.status,
              w.kind,
              w.target,
              w.status === 'done'
                ? '-'
                : `due ${w.nextDueAt <= now ? 'now' : `in ${ago(w.nextDueAt - now)}`}`,
              w.failures ? `${w.failures} failure(s)` : '',
            ]),
          ),
        );
      }
      const pending = v.notes.filter((n) => n.processedAt === undefined);
      if (v.notes.length) {
        out('');
        for (const n of v.notes.slice(-5))
          out(
            `note ${clock(n.createdAt)} ${n.sender}: "${oneLine(n.body, 50)}"  ${n.processedAt ? `applied at tick ${n.tick}: ${n.effect}` : 'queued'}`,
          );
        if (pending.length) out(`${pending.length} note(s) waiting for the dispatcher`);
      }
      if (v.events.length) {
        out('');
        for (const e of v.events) out(eventLine(e, labels));
      }
    }),
};

export const missionNote: Command = {
  name: 'mission note',
  summary:
    'send the dispatcher a control note: resume | pause | redirect [<item>] to <agent> [why] | any text',
  args: '<mission> <note...>',
  flags: { from: { type: 'string', description: 'who says it', default: 'operator', value: 'name' } },
  json: true,
  minArgs: 2,
  run: (ctx) =>
    withTown(ctx, async (t) => {
      const note = await noteMission(t, ctx.args[0]!, ctx.args.slice(1).join(' '), str(ctx.flags, 'from')!);
      if (ctx.json) return ctx.printJson(note);
      ctx.io.out(
        `queued note ${shortId(note.id)} for mission ${shortId(note.mission)}; the dispatcher applies it on its next tick`,
      );
    }),
};

export const missionResume: Command = {
  name: 'mission resume',
  summary: 'resume a blocked (paused or stopped) mission',
  args: '<mission>',
  json: true,
  minArgs: 1,
  maxArgs: 1,
  run: (ctx) =>
    withTown(ctx, async (t) => {
      const m = await resumeMission(t, ctx.args[0]!);
      if (ctx.json) return ctx.printJson(m);
      ctx.io.out(`mission ${m.id} is running`);
    }),
};

export const missionStop: Command = {
  name: 'mission stop',
  summary: 'stop a mission (blocked; --force: failed for good)',
  args: '<mission>',
  flags: { force: { type: 'boolean', description: 'fail it rather than block it' } },
  json: true,
  minArgs: 1,
  maxArgs: 1,
  run: (ctx) =>
    withTown(ctx, async (t) => {
      const m = await stopMission(t, ctx.args[0]!, Boolean(ctx.flags.force));
      if (ctx.json) return ctx.printJson(m);
      ctx.io.out(`mission ${m.id} is ${m.state}`);
    }),
};

export const missionDispatch: Command = {
  name: 'mission dispatch',
  summary: 'run the mission dispatcher (until Ctrl+C; --once for one tick)',
  flags: {
    once: { type: 'boolean', description: 'one tick, then exit' },
    mission: { type: 'string', description: 'only this mission (with --once)', value: 'id' },
  },
  json: true,
  maxArgs: 0,
  run: (ctx) =>
    withTown(ctx, async (t) => {
      const reports = await dispatch(t, {
        once: Boolean(ctx.flags.once),
        ...(str(ctx.flags, 'mission') ? { mission: str(ctx.flags, 'mission')! } : {}),
        ...(ctx.io.signal ? { signal: ctx.io.signal } : {}),
        log: (l) => ctx.io.out(`${clock(t.clock.now())} ${l}`),
        onTick: (rs) => {
          for (const r of rs)
            if (r.progress || r.status !== 'ticked')
              ctx.io.out(
                `${clock(t.clock.now())} ${shortId(r.mission)} ${r.status}${r.state ? ` ${r.state}` : ''}: ${r.assigned} assigned, ${r.completions} finished task(s), ${r.notes.length} note(s)${r.help ? `, help: ${r.help}` : ''}`,
              );
        },
      });
      if (!ctx.flags.once) return;
      if (ctx.json) return ctx.printJson({ reports });
      ctx.io.out(
        reports.length
          ? reports
              .map(
                (r) =>
                  `${shortId(r.mission)} ${r.status}${r.state ? ` ${r.state}` : ''}: ${r.assigned} assigned, ${r.completions} finished task(s), ${r.notes.length} note(s)${r.help ? `; asked for help: ${r.help}` : ''}`,
              )
              .join('\n')
          : 'no active missions',
      );
    }),
};

export const missionCommands = [
  missionStart,
  missionList,
  missionStatusCmd,
  missionNote,
  missionResume,
  missionStop,
  missionDispatch,
];
