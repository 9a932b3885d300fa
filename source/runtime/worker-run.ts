import { shortId } from '../model/ids.js';
import type { Redis } from 'ioredis';
import type { Agent } from '../model/agent.js';
import type { QuarantineConfig } from '../model/quarantine.js';
import type { Db } from '../store/db.js';
import type { AttemptResult, FinishOutcome, Round, RoundPolicy } from '../store/worker.js';
import type { Executor, RoundWork } from './executor.js';
import type { PromptSetting } from './prompt.js';

export interface WorkerConfig {
  heartbeatMs: number;
  heartbeatTtlMs: number;
  /** Stop after this long with nothing to do; 0 = never. */
  idleTimeoutMs: number;
  /** Stop after this many rounds; 0 = no limit. */
  maxRounds: number;
  /** How often some worker in the town reaps dead agents and promotes due retries. */
  reapIntervalMs: number;
  /** Longest single block on the inbox before the loop looks around again. */
  blockMs: number;
  policy: Omit<RoundPolicy, 'skills' | 'generalist'>;
  /** When fast failures in a row quarantine the agent (model/quarantine.ts); absent = never. */
  quarantine?: QuarantineConfig;
}

export interface WorkerOptions {
  db: Db;
  /** A connection of its own for blocking reads. */
  blocking: Redis;
  agentId: string;
  executor: Executor;
  config: WorkerConfig;
  /** Builds a round's prompt (the CLI executor needs it), with the executor's setting. */
  buildPrompt?: (work: Omit<RoundWork, 'prompt'>, setting?: PromptSetting) => Promise<string>;
  logsDir: string;
  /** The environment a CLI runs with, before the per-round variables. */
  env: Record<string, string>;
  signal?: AbortSignal;
  log?: (line: string) => void;
  pid?: number;
  /**
   * Called once a round's outcome is recorded in Redis (for hosts that count work, like the
   * benchmark).
   */
  onRoundEnd?: (results: AttemptResult[], outcomes: FinishOutcome[]) => void;
  /** Test hook: "before-finish" hangs after the work and before it is recorded. */
  failpoint?: string;
}

export type WorkerExit = 'stopped' | 'max-rounds' | 'idle-timeout' | 'signal' | 'gone';

/** One running worker: its options, and what its loop keeps from one turn to the next. */
export interface WorkerRun {
  readonly o: WorkerOptions;
  readonly db: Db;
  readonly config: WorkerConfig;
  readonly agentId: string;
  readonly name: string;
  readonly pid: number;
  /** Part of every claim token this worker makes. */
  readonly nonce: string;
  readonly signal: AbortSignal;
  /** Writes a log line, stamped with the time and the agent's name. */
  readonly say: (line: string) => void;
  /** Rounds this worker has worked. */
  rounds: number;
  /** When the last round ended (or the worker came up): the idle timeout counts from here. */
  lastWork: number;
  /** When this worker next offers to reap. */
  nextReap: number;
  /** Turns failed in a row: the back-off grows with them. */
  failures: number;
  /** The agent as last read (a chained round does not re-read it). */
  known: Agent;
  /** Which backlog tasks the agent's claims may take, from its role and capabilities. */
  skills: Pick<RoundPolicy, 'skills' | 'generalist'>;
  /** A round the last one began in the same script (chained), to work next. */
  pending: Round | undefined;
}

export const reachedMaxRounds = (w: WorkerRun): boolean =>
  w.config.maxRounds > 0 && w.rounds >= w.config.maxRounds;

/** The base of the claim tokens of the worker's next round. */
export const tokenBase = (w: WorkerRun): string => `${shortId(w.agentId)}-${w.nonce}-${w.rounds}`;

/** What the round scripts need to know to claim for this agent. */
export const policyOf = (w: WorkerRun): RoundPolicy => ({ ...w.config.policy, ...w.skills });
