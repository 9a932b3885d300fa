import type { TriggerAction, Watch, WatchKind } from './mission.js';

/**
 * Pull-request watches (tinytown 5.7): when they are due, what a check result means, and what
 * the engine does next. Times are epoch milliseconds; intervals are seconds.
 */

export const isDue = (w: Pick<Watch, 'status' | 'nextDueAt'>, now: number): boolean =>
  (w.status === 'active' || w.status === 'snoozed') && now >= w.nextDueAt;

/** A check went through: active again, due after the interval, failures cleared. */
export const afterCheck = (w: Watch, now: number): Watch => {
  const { lastError: _, ...rest } = w;
  return { ...rest, status: 'active', lastCheckAt: now, nextDueAt: now + w.intervalSecs * 1000, failures: 0 };
};

/** Backoff after the 1st, 2nd, 3rd and later consecutive failures. */
export const FAILURE_BACKOFF_SECS = [60, 120, 300] as const;

/** A check failed (GitHub unreachable, bad ref...): active, retried after 60 s, 120 s, then 300 s. */
export const afterFailure = (w: Watch, now: number, error: string): Watch => {
  const failures = w.failures + 1;
  const secs = FAILURE_BACKOFF_SECS[Math.min(failures, FAILURE_BACKOFF_SECS.length) - 1]!;
  return {
    ...w,
    status: 'active',
    lastCheckAt: now,
    failures,
    lastError: error,
    nextDueAt: now + secs * 1000,
  };
};

export const snooze = (w: Watch, now: number, secs: number): Watch => ({
  ...w,
  status: 'snoozed',
  nextDueAt: now + secs * 1000,
});

export const completeWatch = (w: Watch): Watch => ({ ...w, status: 'done' });

/** `none`: no check runs and no commit statuses at all (a repository without CI). */
export type CiState = 'success' | 'failure' | 'pending' | 'unknown' | 'none';

/** What GitHub says about a pull request, as the watch engine needs it. */
export interface PrState {
  /** Open (the default), closed unmerged, or merged. */
  state?: 'open' | 'closed' | 'merged';
  ci: CiState;
  mergeable: boolean;
  changesRequested: boolean;
  bugbotComments: number;
  headSha: string;
}

export interface WatchVerdict {
  /** Run the watch's trigger action. */
  triggered: boolean;
  /** The watch has nothing left to wait for. */
  complete: boolean;
}

/**
 * pr_checks: CI success completes, failure triggers. bugbot_comments / review_comments: a
 * bugbot comment / a changes-requested review triggers, else complete once CI succeeds.
 * mergeability: mergeable with green CI triggers and completes. A head with no CI at all has
 * nothing to wait for and counts as green, unless `requireChecks` (then nothing is green and
 * pr_checks waits; watchPlan asks the operator).
 */
export const evaluate = (
  kind: WatchKind,
  pr: Pick<PrState, 'ci' | 'mergeable' | 'changesRequested' | 'bugbotComments'>,
  requireChecks = false,
): WatchVerdict => {
  const green = pr.ci === 'success' || (pr.ci === 'none' && !requireChecks);
  switch (kind) {
    case 'pr_checks':
      return { triggered: pr.ci === 'failure', complete: green };
    case 'bugbot_comments':
      return pr.bugbotComments > 0
        ? { triggered: true, complete: false }
        : { triggered: false, complete: green };
    case 'review_comments':
      return pr.changesRequested
        ? { triggered: true, complete: false }
        : { triggered: false, complete: green };
    case 'mergeability':
      return pr.mergeable && green
        ? { triggered: true, complete: true }
        : { triggered: false, complete: false };
  }
};

export interface WatchConfig {
  /** How long a triggered, unfinished watch rests before the next check (180). */
  snoozeSecs: number;
  /** Consecutive failures at which the work item is blocked (5). */
  maxFailures: number;
  /** A pull request without any CI needs the operator's word (github.requireChecks; false). */
  requireChecks?: boolean;
}
export const DEFAULT_WATCH_CONFIG: WatchConfig = { snoozeSecs: 180, maxFailures: 5 };

export type WatchAction =
  | { type: 'none' }
  /** Run the watch's trigger action; for create_fix_task, `headSha` is the commit the fix is for. */
  | { type: 'trigger'; action: TriggerAction; headSha: string }
  | { type: 'blockItem'; reason: string }
  /** The PR was merged (the item is done) or closed unmerged (the item goes back to work). */
  | { type: 'prClosed'; merged: boolean }
  /** Nothing the watches can decide alone: ask the operator (a help prompt). */
  | { type: 'askOperator'; reason: string };

export interface WatchStep {
  watch: Watch;
  action: WatchAction;
}

/** The key fix tasks are deduplicated by: the head commit (an unknown head counts as one commit). */
const fixKey = (sha: string): string => sha.trim() || 'unknown';

/**
 * One check of a due watch, given the pull request's state or the error fetching it.
 * Triggered and unfinished: run the trigger (a fix task only once per head commit) and snooze.
 * Complete: done (advance_pipeline is not run when the watch completes, as in the reference).
 * Neither: checked, due again after the interval. An error backs off; from maxFailures
 * consecutive failures on, the work item is blocked. A merged or closed PR has nothing left to
 * watch: the watch is done, nothing is triggered (no fix task for a closed PR), and the item is
 * told (prClosed). With requireChecks, a PR without any CI makes pr_checks ask the operator.
 */
export const watchPlan = (
  w: Watch,
  result: PrState | { error: string },
  now: number,
  cfg: WatchConfig = DEFAULT_WATCH_CONFIG,
): WatchStep => {
  if (w.status === 'done') return { watch: w, action: { type: 'none' } };
  if ('error' in result) {
    const watch = afterFailure(w, now, result.error);
    if (watch.failures >= cfg.maxFailures) {
      return {
        watch,
        action: {
          type: 'blockItem',
          reason: `watch ${w.kind} on ${w.target} failed ${watch.failures} times in a row: ${result.error}`,
        },
      };
    }
    return { watch, action: { type: 'none' } };
  }
  const state = result.state ?? 'open';
  if (state !== 'open')
    return {
      watch: completeWatch(afterCheck(w, now)),
      action: { type: 'prClosed', merged: state === 'merged' },
    };
  const { triggered, complete } = evaluate(w.kind, result, cfg.requireChecks);
  const checked = afterCheck(w, now);
  if (w.kind === 'pr_checks' && result.ci === 'none' && cfg.requireChecks)
    return {
      watch: checked,
      action: {
        type: 'askOperator',
        reason: `${w.target} has no CI (no check runs, no statuses) but github.requireChecks is set`,
      },
    };
  let action: WatchAction = { type: 'none' };
  let watch = checked;
  if (triggered && !(complete && w.onTrigger === 'advance_pipeline')) {
    if (w.onTrigger === 'create_fix_task') {
      const key = fixKey(result.headSha);
      if (w.lastFixSha !== key) {
        action = { type: 'trigger', action: w.onTrigger, headSha: result.headSha };
        watch = { ...watch, lastFixSha: key };
      }
    } else action = { type: 'trigger', action: w.onTrigger, headSha: result.headSha };
  }
  if (complete) watch = completeWatch(watch);
  else if (triggered) watch = snooze(watch, now, cfg.snoozeSecs);
  return { watch, action };
};
