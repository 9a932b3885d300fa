import { shortId } from '../model/ids.js';
import { isTerminalAgent, mayTake, skillsOf } from '../model/agent.js';
import { taskBand } from '../model/priority.js';
import { whyNotAssigned } from '../services/console.js';
import { selectedAgent, selectedHelp, selectedMissionRow, selectedTask } from './commands.js';
import { hhmmss } from './format.js';
import { eventRows, rowIds, selectedIndex } from './rows.js';
import type { ConsoleState, Modal } from './store.js';

const fields = (record: object): string[] =>
  Object.entries(record)
    .filter(([, v]) => v !== undefined && v !== '')
    .map(([k, v]) => `${k.padEnd(16)} ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`);

const history = (s: ConsoleState, match: (e: ConsoleState['events'][number]) => boolean): string[] => {
  const hits = s.events.filter(match).slice(-15);
  return hits.length
    ? [
        '',
        'recent events:',
        ...hits.map((e) => `  ${hhmmss(e.ts)} ${e.type} ${e.state ?? ''} ${e.text ?? ''}`),
      ]
    : [];
};

/** The detail view of the focused pane's selected row: the full record, its history, its notes. */
export const detailOf = (s: ConsoleState): Modal | undefined => {
  switch (s.ui.pane) {
    case 'agents': {
      const a = selectedAgent(s);
      return (
        a && {
          kind: 'detail',
          title: `agent ${a.label}`,
          scroll: 0,
          lines: [...fields(a), ...history(s, (e) => e.agent === a.id)],
        }
      );
    }
    case 'tasks': {
      const t = selectedTask(s);
      return (
        t && {
          kind: 'detail',
          title: `task ${shortId(t.id)}`,
          scroll: 0,
          lines: [
            ...fields({ ...t, description: undefined }),
            '',
            ...t.description.split('\n'),
            ...history(s, (e) => e.task === t.id),
          ],
        }
      );
    }
    case 'missions': {
      const r = selectedMissionRow(s);
      if (!r) return undefined;
      if (r.kind === 'mission') {
        const notes = s.receipts
          .filter((x) => x.mission === r.mission.id)
          .map((x) => `  "${x.body}" ${x.state}${x.effect ? `: ${x.effect} (tick ${x.tick})` : ''}`);
        return {
          kind: 'detail',
          title: `mission ${r.mission.title}`,
          scroll: 0,
          lines: [
            ...fields(r.mission),
            ...(notes.length ? ['', 'notes from this console:', ...notes] : []),
            ...history(s, (e) => e.mission === r.mission.id),
          ],
        };
      }
      return {
        kind: 'detail',
        title: `work item ${r.item.title}`,
        scroll: 0,
        lines: [
          ...fields({ ...r.item, body: undefined }),
          ...(r.item.body ? ['', ...r.item.body.split('\n')] : []),
          ...history(s, (e) => e.task === r.item.task),
        ],
      };
    }
    case 'events': {
      const ids = rowIds(s, 'events');
      const e = eventRows(s)[selectedIndex(s, 'events', ids)];
      return e && { kind: 'detail', title: `event ${e.type}`, scroll: 0, lines: fields(e) };
    }
    case 'help': {
      const h = selectedHelp(s);
      return (
        h && {
          kind: 'detail',
          title: 'help prompt',
          scroll: 0,
          lines: [...fields({ ...h, text: undefined }), '', ...h.text.split('\n')],
        }
      );
    }
  }
};

/** Why a queued task waits: where it is, who could take it, and whether any of them is free. */
const whyTask = (s: ConsoleState): Modal | undefined => {
  const t = selectedTask(s);
  if (!t || !s.snapshot) return undefined;
  const queued = s.snapshot.tasks
    .filter((x) => x.state === 'pending')
    .sort((a, b) => a.createdAt - b.createdAt);
  const ahead = queued.filter((x) =>
    x.priority === t.priority ? x.createdAt < t.createdAt : taskBand(x.priority) < taskBand(t.priority),
  ).length;
  const live = s.snapshot.agents.filter((a) => !isTerminalAgent(a.state));
  const fitting = live.filter((a) => mayTake(skillsOf(a), t.tags));
  const idle = fitting.filter((a) => a.state === 'idle' && a.inbox === 0);
  const retry = t.attempts > 0 && t.lastError;
  const line = (ok: boolean, gate: string, detail: string) =>
    `${ok ? 'ok ' : 'NO '} ${gate.padEnd(18)} ${detail}`;
  return {
    kind: 'detail',
    title: `why: ${t.description.split('\n', 1)[0]}`,
    scroll: 0,
    lines: [
      line(
        !retry,
        'retry backoff',
        retry
          ? `attempt ${t.attempts} failed (${t.lastError}); it waits out its backoff before the backlog`
          : 'not waiting on a retry',
      ),
      line(true, 'queue position', `${ahead} queued task(s) ahead (priority ${t.priority}, then age)`),
      line(
        fitting.length > 0,
        'agents that fit',
        t.tags.length
          ? `${fitting.length} agent(s) whose role or capabilities name one of [${t.tags.join(', ')}], or generalists`
          : `${fitting.length} live agent(s); the task has no tags`,
      ),
      line(
        idle.length > 0,
        'idle agents',
        idle.length ? idle.map((a) => a.name).join(', ') : 'none of them is idle with an empty inbox',
      ),
    ],
  };
};

/** "Why is this not assigned?": each scheduler gate for the selected work item (or queued task) and its value. */
export const whyOf = (s: ConsoleState): Modal | undefined => {
  if (s.ui.pane === 'tasks') return whyTask(s);
  const r = selectedMissionRow(s);
  if (!s.snapshot || r?.kind !== 'item') return undefined;
  const gates = whyNotAssigned(s.snapshot, r.mission.id, r.item.id);
  return {
    kind: 'detail',
    title: `why: ${r.item.title}`,
    scroll: 0,
    lines: gates.map((g) => `${g.ok ? 'ok ' : 'NO '} ${g.gate.padEnd(18)} ${g.detail}`),
  };
};
