import { randomUUID } from 'node:crypto';
import type { GitHubClient } from '../github/client.js';
import type { Db } from '../store/db.js';
import type { DispatchConfig } from './config.js';

/**
 * The mission dispatcher. This file holds its record; the work is in the modules beside it:
 * loop.ts (the loop and a tick over every mission), tick.ts (one mission's tick, a list of
 * steps: notes.ts, completions.ts, watches.ts, reconcile.ts, finalize.ts, assign.ts, settle.ts),
 * with pool.ts (the agents a tick routes to) and tasks.ts (the tasks a mission hands out).
 */

/** One dispatcher: its fencing token, its settings, and what it talks to. */
export interface Dispatcher {
  db: Db;
  token: string;
  config: DispatchConfig;
  github?: GitHubClient;
  log?: (line: string) => void;
  /** Ticks run so far (the receipts of control notes name the tick). */
  ticks: number;
  /** Test hook: "hold-lease" pauses each mission tick right after taking the lease. */
  failpoint?: string;
  /**
   * Missions whose live items this dispatcher has checked in full since it took their lease:
   * their later ticks check only the items touched since (see reconcile).
   */
  swept?: Set<string>;
}

export const newDispatcher = (
  db: Db,
  config: DispatchConfig,
  github?: GitHubClient,
  log?: (line: string) => void,
): Dispatcher => ({
  db,
  token: randomUUID(),
  config,
  ...(github ? { github } : {}),
  ...(log ? { log } : {}),
  ticks: 0,
  swept: new Set(),
});
