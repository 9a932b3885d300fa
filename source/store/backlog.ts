import { shortId } from '../model/ids.js';
import { TtError } from '../model/errors.js';
import { scriptWith, type Db } from './db.js';
import { agentRefusal } from './tasks.js';

/** Backlog task ids in the order they will be claimed: best priority, then oldest. */
export const backlogIds = (db: Db): Promise<string[]> => db.redis.zrange(db.keys.backlog, '0', '-1');
export const inBacklog = async (db: Db, id: string): Promise<boolean> =>
  (await db.redis.zscore(db.keys.backlog, id)) !== null;
export const backlogLength = (db: Db): Promise<number> => db.redis.zcard(db.keys.backlog);

/** Claims one named backlog task, or up to `max` from the head, for an agent. Returns the ids claimed. */
export const claimBacklog = async (
  db: Db,
  agentId: string,
  from: string,
  opts: { taskId?: string; max?: number },
): Promise<string[]> => {
  const [status, ...rest] = await scriptWith(db, 'backlog_claim', {
    agent: agentId,
    taskId: opts.taskId ?? '',
    max: opts.max ?? 1,
    from,
  });
  if (status === 'ok') return rest;
  if (status === 'not_in_backlog') throw new TtError(`task ${shortId(opts.taskId)} is not in the backlog`);
  return agentRefusal(status, agentId, rest[0]);
};
