import { displayLabel, displayName, type Agent } from './agent.js';
import { UsageError } from './errors.js';
import { shortId, SUPERVISOR_ID, isIdPrefix, isSupervisorAlias, isUuid } from './ids.js';

type Candidate = Pick<Agent, 'id' | 'name' | 'nickname' | 'role'>;

/**
 * Resolves what a user typed to one agent id: the supervisor/conductor aliases, a full id, then
 * a case-insensitive exact match on name, nickname or label, then an id prefix of 4+ digits.
 * Exact names win over nicknames, so an agent named "ada" is never shadowed by a nickname.
 */
export const resolveAgentRef = (
  ref: string,
  agents: readonly Candidate[],
  opts: { allowSupervisor?: boolean } = {},
): string => {
  const r = ref.trim();
  if (!r) throw new UsageError('an agent reference is required');
  if (isSupervisorAlias(r) || r === SUPERVISOR_ID) {
    if (opts.allowSupervisor === false)
      throw new UsageError(`"${r}" is the supervisor mailbox, not an agent`);
    return SUPERVISOR_ID;
  }
  if (isUuid(r)) {
    const hit = agents.find((a) => a.id.toLowerCase() === r.toLowerCase());
    if (hit) return hit.id;
    throw new UsageError(`no agent has id ${r}`);
  }
  const lower = r.toLowerCase();
  const tiers: ((a: Candidate) => boolean)[] = [
    (a) => a.name.toLowerCase() === lower,
    (a) => displayName(a).toLowerCase() === lower || displayLabel(a).toLowerCase() === lower,
    (a) => lower.length >= 4 && a.id.toLowerCase().startsWith(lower),
  ];
  for (const match of tiers) {
    const hits = agents.filter(match);
    if (hits.length === 1) return hits[0]!.id;
    if (hits.length > 1) {
      const list = hits.map((a) => `${displayLabel(a)} (${shortId(a.id)})`).join(', ');
      throw new UsageError(`"${r}" is ambiguous: it matches ${list}; use a name or a longer id`);
    }
  }
  throw new UsageError(`no agent matches "${r}" (try tt list)`);
};

/** Resolves a task id prefix (4+ hex digits) among known ids. */
export const resolveIdPrefix = (kind: string, ref: string, ids: Iterable<string>): string => {
  const r = ref.trim().toLowerCase();
  if (!isIdPrefix(r)) throw new UsageError(`"${ref}" is not a ${kind} id (give 4 or more hex digits)`);
  const hits: string[] = [];
  for (const id of ids) if (id.toLowerCase().startsWith(r)) hits.push(id);
  if (hits.length === 1) return hits[0]!;
  if (hits.length === 0) throw new UsageError(`no ${kind} has id ${ref}`);
  throw new UsageError(
    `${kind} id "${ref}" is ambiguous: ${hits
      .slice(0, 5)
      .map((h) => shortId(h))
      .join(', ')}${hits.length > 5 ? ', ...' : ''}`,
  );
};
