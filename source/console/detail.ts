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
  return hits.length ? ['', 'recent events:', ...hits.map((e) => `  ${hhmmss(e.ts)} ${e.type} ${e.state ?? ''} ${e.text ?? ''}`)] : [];
};

/** The detail view of the focused pane's selected row: the full record, its history, its notes. */
export const detailOf = (s: ConsoleState): Modal | undefined => {
  switch (s.ui.pane) {
    case 'agents': {
      const a = selectedAgent(s);
      return a && { kind: 'detail', title: `agent ${a.label}`, scroll: 0, lines: [...fields(a), ...history(s, (e) => e.agent === a.id)] };
    }
    case 'tasks': {
      const t = selectedTask(s);
      return t && { kind: 'detail', title: `task ${t.id.slice(0, 8)}`, scroll: 0, lines: [...fields({ ...t, description: undefined }), '', ...t.description.split('\n'), ...history(s, (e) => e.task === t.id)] };
    }
    case 'missions': {
      const r = selectedMissionRow(s);
      if (!r) return undefined;
      if (r.kind === 'mission') {
        const notes = s.receipts.filter((x) => x.mission === r.mission.id).map((x) => `  "${x.body}" ${x.state}${x.effect ? `: ${x.effect} (tick ${x.tick})` : ''}`);
        return { kind: 'detail', title: `mission ${r.mission.title}`, scroll: 0, lines: [...fields(r.mission), ...(notes.length ? ['', 'notes from this console:', ...notes] : []), ...history(s, (e) => e.mission === r.mission.id)] };
      }
      return { kind: 'detail', title: `work item ${r.item.title}`, scroll: 0, lines: [...fields({ ...r.item, body: undefined }), ...(r.item.body ? ['', ...r.item.body.split('\n')] : []), ...history(s, (e) => e.task === r.item.task)] };
    }
    case 'events': {
      const ids = rowIds(s, 'events');
      const e = eventRows(s)[selectedIndex(s, 'events', ids)];
      return e && { kind: 'detail', title: `event ${e.type}`, scroll: 0, lines: fields(e) };
    }
    case 'help': {
      const h = selectedHelp(s);
      return h && { kind: 'detail', title: 'help prompt', scroll: 0, lines: [...fields({ ...h, text: undefined }), '', ...h.text.split('\n')] };
    }
  }
};

/** "Why is this not assigned?": each scheduler gate for the selected work item and its value. */
export const whyOf = (s: ConsoleState): Modal | undefined => {
  const r = selectedMissionRow(s);
  if (!s.snapshot || r?.kind !== 'item') return undefined;
  const gates = whyNotAssigned(s.snapshot, r.mission.id, r.item.id);
  return { kind: 'detail', title: `why: ${r.item.title}`, scroll: 0, lines: gates.map((g) => `${g.ok ? 'ok ' : 'NO '} ${g.gate.padEnd(18)} ${g.detail}`) };
};
