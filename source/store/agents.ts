import { shortId } from '../model/ids.js';
import { Agent, agentStatesInto, type AgentState } from '../model/agent.js';
import { TransitionError, TtError } from '../model/errors.js';
import { encodeHash } from '../model/hash.js';
import { script, scriptWith, type Db } from './db.js';
import { STOP_FLAG_TTL_SECS } from './keys.js';
import { readHash, readHashes, type Batch } from './records.js';

export const listAgents = async (db: Db): Promise<Batch<Agent>> => {
  const ids = await db.redis.smembers(db.keys.agents);
  const batch = await readHashes(db, Agent, ids.map(db.keys.agent));
  batch.items.sort((a, b) => a.createdAt - b.createdAt || a.name.localeCompare(b.name));
  return batch;
};

export const getAgent = (db: Db, id: string): Promise<Agent | undefined> =>
  readHash(db, Agent, db.keys.agent(id));

export type RegisterResult = { ok: true } | { ok: false; existingId: string; existingState: string };

export const registerAgent = async (db: Db, agent: Agent, hbTtlMs = 0): Promise<RegisterResult> => {
  const [status, existingId = '', existingState = ''] = await scriptWith(db, 'agent_register', {
    id: agent.id,
    name: agent.name,
    fields: JSON.stringify(encodeHash(agent)),
    hbTtlMs: Math.round(hbTtlMs),
  });
  return status === 'ok' ? { ok: true } : { ok: false, existingId, existingState };
};

export interface AgentMove {
  to: AgentState;
  /** Fields to set alongside the state. */
  set?: Record<string, string | number>;
  /** Fields to remove. */
  del?: string[];
  stopFlag?: 'set' | 'clear';
  event?: string;
  text?: string;
}

/** Moves an agent through its state machine; the legality check runs inside the writing script. */
export const moveAgent = async (db: Db, id: string, move: AgentMove): Promise<AgentState> => {
  const [status, state = ''] = await scriptWith(db, 'agent_transition', {
    id,
    to: move.to,
    allowedFrom: agentStatesInto(move.to).join(','),
    set: JSON.stringify(move.set ?? {}),
    del: (move.del ?? []).join(','),
    stop: move.stopFlag ?? '',
    stopTtlSecs: STOP_FLAG_TTL_SECS,
    eventType: move.event ?? 'agent.state',
    eventText: move.text ?? '',
  });
  if (status === 'missing') throw new TtError(`agent ${id} no longer exists`);
  if (status === 'illegal') throw new TransitionError('agent', shortId(id), state, move.to);
  return state as AgentState;
};

export type DeleteResult = { status: 'ok' | 'skip' | 'missing'; state?: string };

export const deleteAgent = async (
  db: Db,
  id: string,
  onlyStates: AgentState[] | 'any',
): Promise<DeleteResult> => {
  const [status, state] = await script(db, 'agent_delete', [
    id,
    onlyStates === 'any' ? '' : onlyStates.join(','),
  ]);
  return { status: status as DeleteResult['status'], state };
};

export const readActivity = (db: Db, id: string, n = 5): Promise<string[]> =>
  db.redis.lrange(db.keys.activity(id), 0, n - 1);

/** Records the pid of an agent's worker process. */
export const setAgentPid = async (db: Db, id: string, pid: number): Promise<void> => {
  await db.redis.hset(db.keys.agent(id), 'pid', String(pid));
};
