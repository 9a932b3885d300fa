import type { ControlNote, Mission } from '../model/mission.js';
import { NoteError, parseNote, resolveItemRef, type ParsedNote } from '../model/notes.js';
import { resolveAgentRef } from '../model/resolve.js';
import { readSnapshot, type MissionSnapshot } from '../store/mission-reads.js';
import { markNote, putWatch, readItems, updateMission } from '../store/missions.js';
import { moveTask } from '../store/tasks.js';
import type { Dispatcher } from './dispatcher.js';
import { everyone, type Pool } from './pool.js';
import { redirectTask } from './tasks.js';
import { READY_HEAD, reread, say, type Tick } from './tick-state.js';

/**
 * The tick's first step: the mission's control notes, oldest first, each applied and marked
 * with its effect (the receipt). False when the mission is gone.
 */
export const applyNotes = async (t: Tick): Promise<boolean> => {
  if (t.view.notesPending === 0) return true;
  const { d, report } = t;
  const snap = await readSnapshot(d.db, t.id, READY_HEAD);
  if (!snap) return false;
  for (const note of snap.notes.sort((a, b) => a.createdAt - b.createdAt)) {
    const effect = await applyNote(d, snap, note, t.pool);
    report.notes.push({ id: note.id, effect });
    if (!effect.startsWith('ignored') && !effect.startsWith('noted')) report.progress = true;
    await markNote(d.db, d.token, { ...note, processedAt: t.now, tick: d.ticks, effect });
    say(t, `note "${note.body}": ${effect}`);
  }
  if (report.notes.length) await reread(t);
  return true;
};

/** Applies one control note; returns its effect (the receipt). */
const applyNote = async (
  d: Dispatcher,
  snap: MissionSnapshot,
  note: ControlNote,
  pool: Pool,
): Promise<string> => {
  let parsed: ParsedNote;
  try {
    parsed = parseNote(note.body);
  } catch (e) {
    return `ignored: ${(e as NoteError).message}`;
  }
  switch (parsed.kind) {
    case 'resume':
      return resume(d, snap, note);
    case 'pause':
      return pause(d, snap.mission, note);
    case 'redirect':
      return redirect(d, snap, note, parsed, pool);
    case 'note':
      return 'noted';
  }
};

/** "resume": a blocked mission runs again; its open watches are closed. */
const resume = async (d: Dispatcher, snap: MissionSnapshot, note: ControlNote): Promise<string> => {
  const m = snap.mission;
  if (m.state !== 'blocked') return `ignored: resume while the mission is ${m.state}`;
  for (const w of snap.watches.filter((x) => x.status !== 'done'))
    await putWatch(
      d.db,
      m.id,
      d.token,
      { ...w, status: 'done' },
      'mission.watch',
      `${w.kind} ${w.target}: done (resumed by ${note.sender})`,
    );
  await updateMission(d.db, m.id, d.token, {
    state: 'running',
    del: ['blockedReason', 'helpAt', 'helpReason'],
    set: { helpAttempts: 0 },
    retireHelp: true,
    event: 'mission.state',
    text: `resumed by ${note.sender}`,
  });
  return 'resumed';
};

/** "pause": a running mission is blocked, with the note as the reason. */
const pause = async (d: Dispatcher, m: Mission, note: ControlNote): Promise<string> => {
  if (m.state !== 'running') return `ignored: pause while the mission is ${m.state}`;
  await updateMission(d.db, m.id, d.token, {
    state: 'blocked',
    set: { blockedReason: `Paused by ${note.sender}: ${note.body}` },
    retireHelp: true,
    event: 'mission.state',
    text: `paused by ${note.sender}`,
  });
  return 'paused';
};

/**
 * "redirect <item> to <agent>": the item's live task is cancelled and a new one goes to the
 * agent; a blocked mission runs again.
 */
const redirect = async (
  d: Dispatcher,
  snap: MissionSnapshot,
  note: ControlNote,
  parsed: Extract<ParsedNote, { kind: 'redirect' }>,
  pool: Pool,
): Promise<string> => {
  const m = snap.mission;
  const ids = [...snap.ready, ...snap.active, ...snap.blocked].map((i) => i.id);
  const items = (await readItems(d.db, m.id, ids)).items;
  const agents = await everyone(d.db, pool);
  let itemId: string;
  let agentId: string;
  try {
    itemId = resolveItemRef(parsed.item, items);
    agentId = resolveAgentRef(parsed.agent, agents, { allowSupervisor: false });
  } catch (e) {
    return `ignored: ${(e as Error).message}`;
  }
  const item = items.find((i) => i.id === itemId)!;
  if (item.task) {
    await moveTask(d.db, item.task, {
      to: 'cancelled',
      set: { result: `superseded: redirected to ${parsed.agent}` },
      event: 'task.cancelled',
      text: `superseded by a redirect to ${parsed.agent}`,
    }).catch(() => undefined);
  }
  const why = parsed.reason ? `: ${parsed.reason}` : '.';
  await redirectTask(d, m, item, agentId, `Redirected by ${note.sender}${why}`);
  if (m.state === 'blocked')
    await updateMission(d.db, m.id, d.token, {
      state: 'running',
      del: ['blockedReason'],
      retireHelp: true,
      event: 'mission.state',
      text: `resumed by a redirect from ${note.sender}`,
    });
  return `redirected "${item.title}" to ${parsed.agent}`;
};
