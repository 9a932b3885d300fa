import type { Db } from '../store/db.js';
import { heartbeat } from '../store/worker.js';
import type { WorkerConfig } from './worker-run.js';

/**
 * Keeps the agent alive in Redis while its worker runs, the executor included: a beat every
 * `heartbeatMs` (a beat still in flight skips the next). A failed beat is logged, not fatal.
 * Returns the function that stops the beats.
 */
export const startHeartbeat = (
  db: Db,
  agentId: string,
  { heartbeatMs, heartbeatTtlMs }: Pick<WorkerConfig, 'heartbeatMs' | 'heartbeatTtlMs'>,
  say: (line: string) => void,
): (() => void) => {
  let beating = false;
  const timer = setInterval(() => {
    if (beating) return;
    beating = true;
    heartbeat(db, agentId, heartbeatTtlMs)
      .catch((e) => say(`heartbeat failed: ${(e as Error).message}`))
      .finally(() => (beating = false));
  }, heartbeatMs);
  return () => clearInterval(timer);
};
