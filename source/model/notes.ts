import { shortId } from './ids.js';
import { UsageError } from './errors.js';
import type { WorkItem } from './mission.js';

/**
 * The control-note grammar (tinytown 5.6): an operator's note to a mission is a directive or
 * free text. The first word decides, whole word and any case:
 *   resume | retry                                         resume a blocked mission
 *   pause | hold                                           block a running mission
 *   redirect | reassign | reroute | rebind [<item>] to <agent> [reason...]
 *   anything else                                          a free note, logged
 */
export const NOTE_GRAMMAR =
  'resume | retry | pause | hold | redirect [<item>] to <agent> [reason...] | any other text';

export type ParsedNote =
  | { kind: 'resume' }
  | { kind: 'pause' }
  | { kind: 'redirect'; item?: string; agent: string; reason?: string }
  | { kind: 'note' };

/** A note that starts a directive but does not follow its grammar, or an empty note. */
export class NoteError extends UsageError {}

const RESUME = new Set(['resume', 'retry']);
const PAUSE = new Set(['pause', 'hold']);
const REDIRECT = new Set(['redirect', 'reassign', 'reroute', 'rebind']);

export const parseNote = (body: string): ParsedNote => {
  const words = body.trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) throw new NoteError(`empty note; a note is: ${NOTE_GRAMMAR}`);
  const verb = words[0]!.toLowerCase().replace(/[.,;:!?]+$/, '');
  if (RESUME.has(verb)) return { kind: 'resume' };
  if (PAUSE.has(verb)) return { kind: 'pause' };
  if (!REDIRECT.has(verb)) return { kind: 'note' };

  const rest = words.slice(1);
  const isTo = (w: string | undefined) => w?.toLowerCase() === 'to';
  const at = isTo(rest[0]) ? 0 : 1;
  const item = at === 1 ? rest[0] : undefined;
  const agent = isTo(rest[at]) ? rest[at + 1] : undefined;
  if (agent === undefined)
    throw new NoteError(`"${verb}" needs "to <agent>": ${verb} [<item>] to <agent> [reason...]`);
  const reason = rest.slice(at + 2).join(' ');
  return { kind: 'redirect', ...(item !== undefined ? { item } : {}), agent, ...(reason ? { reason } : {}) };
};

type RefItem = Pick<WorkItem, 'id' | 'status' | 'title'>;
const describe = (i: RefItem): string => `${shortId(i.id)} "${i.title}"`;

/**
 * The work item a note means, among the items that are not done: a full id, a unique prefix of
 * 4 or more characters (any case), or nothing when exactly one item is not done.
 */
export const resolveItemRef = (ref: string | undefined, items: readonly RefItem[]): string => {
  const open = items.filter((i) => i.status !== 'done');
  const r = ref?.trim().toLowerCase();
  if (!r) {
    if (open.length === 1) return open[0]!.id;
    if (open.length === 0) throw new UsageError('no work item is open');
    throw new UsageError(
      `name a work item: ${open.length} are open (${open.slice(0, 5).map(describe).join(', ')}${open.length > 5 ? ', ...' : ''})`,
    );
  }
  const exact = items.find((i) => i.id.toLowerCase() === r);
  if (exact) {
    if (exact.status === 'done') throw new UsageError(`work item ${describe(exact)} is done`);
    return exact.id;
  }
  if (r.length < 4)
    throw new UsageError(`"${ref}" is too short: give 4 or more characters of a work item id`);
  const hits = open.filter((i) => i.id.toLowerCase().startsWith(r));
  if (hits.length === 1) return hits[0]!.id;
  if (hits.length > 1)
    throw new UsageError(`"${ref}" is ambiguous: it matches ${hits.map(describe).join(', ')}`);
  const done = items.some((i) => i.status === 'done' && i.id.toLowerCase().startsWith(r));
  throw new UsageError(done ? `work item "${ref}" is done` : `no open work item matches "${ref}"`);
};
