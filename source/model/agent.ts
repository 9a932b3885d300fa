import { z } from 'zod';
import { num, optStr, strList } from './hash.js';
import { isSupervisorAlias } from './ids.js';

export const AGENT_STATES = [
  'cold',
  'starting',
  'idle',
  'working',
  'paused',
  'quarantined',
  'draining',
  'stopped',
  'error',
] as const;
export const AgentState = z.enum(AGENT_STATES);
export type AgentState = z.infer<typeof AgentState>;

export const isTerminalAgent = (s: AgentState): boolean => s === 'stopped' || s === 'error' || s === 'cold';

/**
 * Legal moves. A stopped, errored or cold agent only comes back through `starting` (restart);
 * a draining agent only finishes; a paused agent only leaves through resume (idle) or a stop.
 * The worker's own idle/working writes can therefore never overwrite a kill or a pause. A
 * quarantined agent (its attempts kept failing fast, model/quarantine.ts) leaves like a paused one:
 * resume (idle) or a stop.
 */
const NEXT: Record<AgentState, readonly AgentState[]> = {
  cold: ['starting'],
  starting: ['idle', 'working', 'paused', 'draining', 'stopped', 'error'],
  idle: ['idle', 'working', 'paused', 'quarantined', 'draining', 'stopped', 'error'],
  working: ['idle', 'working', 'paused', 'quarantined', 'draining', 'stopped', 'error'],
  paused: ['idle', 'draining', 'stopped', 'error'],
  quarantined: ['idle', 'draining', 'stopped', 'error'],
  draining: ['stopped', 'error'],
  stopped: ['starting'],
  error: ['starting'],
};

const GENERALIST_ROLES = new Set(['', 'worker', 'default', 'generalist']);

/** Which tagged backlog tasks an agent may take: its role and capabilities (what a worker claims with). */
export const skillsOf = (a: {
  role?: string;
  caps?: readonly string[];
}): { skills: string[]; generalist: boolean } => {
  const role = (a.role ?? '').toLowerCase();
  const caps = a.caps ?? [];
  const skills = [...new Set([...(role ? [role] : []), ...caps.map((c) => c.toLowerCase())])];
  return { skills, generalist: GENERALIST_ROLES.has(role) && caps.length === 0 };
};

/**
 * Whether an agent with these skills may take a backlog task with these tags: the claim rule,
 * `may_take` in store/lua/prelude/tasks.lua. A generalist takes anything, an untagged task is for
 * anyone, and a tagged one for agents whose skills name one of its tags exactly. The skills
 * travel to the script as one comma-separated list, so they are split the same way here.
 */
export const mayTake = (
  s: { skills: readonly string[]; generalist: boolean },
  tags: readonly string[],
): boolean => {
  if (s.generalist || tags.length === 0) return true;
  const set = new Set(s.skills.flatMap((k) => k.split(',')).filter((k) => k !== ''));
  return tags.some((t) => set.has(t));
};

export const canMoveAgent = (from: AgentState, to: AgentState): boolean => NEXT[from].includes(to);
/** The states an agent may be in for a move to `to` to be legal (checked inside the writing script). */
export const agentStatesInto = (to: AgentState): AgentState[] =>
  AGENT_STATES.filter((s) => NEXT[s].includes(to));

export const Agent = z.object({
  id: z.string(),
  name: z.string(),
  nickname: z.string(),
  role: z.string().optional(),
  cli: z.string(),
  state: AgentState,
  caps: strList(),
  parent: z.string().optional(),
  currentTask: optStr(),
  createdAt: num(),
  updatedAt: num(),
  lastHeartbeat: num().optional(),
  lastActiveAt: num().optional(),
  tasksCompleted: num().default(0),
  roundsCompleted: num().default(0),
  /** Attempts failed fast in a row (model/quarantine.ts); any success resets it. */
  fastFails: num().optional(),
  pid: num().optional(),
  /** Rounds the worker runs before it stops; 0 = no limit. */
  maxRounds: num().optional(),
  /** Settings of the built-in simulated CLI (JSON), for --cli sim. */
  sim: z.string().optional(),
  /** Spawned with --no-worktree: works in the town's directory even in a git town. */
  noWorktree: z.preprocess(
    (v) => (v === undefined || v === '' ? undefined : v === true || v === 'true' || v === '1'),
    z.boolean().optional(),
  ),
});
export type Agent = z.infer<typeof Agent>;

export const displayName = (a: Pick<Agent, 'nickname' | 'name'>): string => a.nickname || a.name;
/** "Nickname [role]", or "Nickname [name]" when the agent has no role. */
export const displayLabel = (a: Pick<Agent, 'nickname' | 'name' | 'role'>): string =>
  `${displayName(a)} [${a.role && a.role !== 'default' ? a.role : a.name}]`;

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Why a name cannot be an agent's name, or undefined when it can. */
export const agentNameProblem = (name: string): string | undefined => {
  if (isSupervisorAlias(name)) return `"${name}" is reserved for the supervisor mailbox`;
  if (!NAME.test(name))
    return `agent name "${name}" must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit`;
  return undefined;
};
