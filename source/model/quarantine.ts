/**
 * Quarantine (issue 9 part 5, "no burn-outs"): an agent whose attempts keep failing fast (a
 * broken CLI, a dead API key, a provider outage) stops claiming work instead of burning through
 * the backlog's retries. The worker judges each round here; the round-end script (worker_end.lua)
 * keeps the count on the agent (`fastFails`) and moves the agent to `quarantined` when it
 * reaches the limit, atomically with the attempts it counts.
 */

export interface QuarantineConfig {
  /** Attempts failed fast in a row that quarantine the agent; 0 = never. */
  after: number;
  /** An attempt that fails in less than this counts as a fast failure. */
  fastFailMs: number;
}

/**
 * What a round does to the agent's streak of fast failures: `reset` when an attempt succeeded,
 * `add` when its attempts failed fast (the script adds the ones it recorded as failed), `keep`
 * otherwise: no attempts, a slow failure, or the worker stopping (its attempts failed because
 * it did, not the agent). A slow failure keeps the streak rather than resetting it: only a
 * success proves the agent works.
 */
export type StreakStep = 'reset' | 'add' | 'keep';

export const streakStep = (
  outcomes: readonly ('completed' | 'failed')[],
  elapsedMs: number,
  cfg: QuarantineConfig,
  stopping: boolean,
): StreakStep => {
  if (outcomes.includes('completed')) return 'reset';
  if (cfg.after <= 0 || stopping || outcomes.length === 0) return 'keep';
  return elapsedMs < cfg.fastFailMs ? 'add' : 'keep';
};

/** The streak after a round whose step added `failed` recorded failures (the script's arithmetic). */
export const nextFastFails = (prev: number, step: StreakStep, failed: number): number =>
  step === 'reset' ? 0 : step === 'add' ? prev + failed : prev;

/** Whether a streak quarantines the agent (the script's test, after counting the round). */
export const quarantineDue = (fastFails: number, after: number): boolean => after > 0 && fastFails >= after;

/**
 * The tail of the quarantine reason; the script puts the count in front:
 * "quarantined: 3 attempts failed within 30 s each (last: api: API server error)".
 */
export const quarantineWhy = (fastFailMs: number, lastError: string): string => {
  const last = lastError.replace(/\s+/g, ' ').trim().slice(0, 120);
  return `failed within ${Math.round(fastFailMs / 1000)} s each${last ? ` (last: ${last})` : ''}`;
};

/** The whole reason, as the script writes it. */
export const quarantineReason = (fastFails: number, why: string): string =>
  `quarantined: ${fastFails} attempts ${why}`;

/** The help prompt the supervisor gets (a query from the agent), as the script writes it. */
export const quarantineQuestion = (name: string, reason: string): string =>
  `[Agent Quarantined] ${name}: ${reason}\nIt takes no work until resumed. Fix the cause, then: tt resume ${name}`;
