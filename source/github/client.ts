import { TtError } from '../model/errors.js';
import type { IssueRef } from '../model/github-ref.js';

/**
 * The GitHub client the mission engine uses: issues for bootstrap, pull-request state for the
 * watches. One interface, a REST implementation (rest.ts) and fakes in tests. The mapping from
 * GitHub's raw states to tt's few is pure and lives here.
 */

export type { IssueRef };

export interface Issue {
  ref: IssueRef;
  title: string;
  body: string;
  state: 'open' | 'closed';
  labels: string[];
}

/** `none`: the head has no check runs and no commit statuses at all (a repository without CI). */
export type CiState = 'success' | 'failure' | 'pending' | 'unknown' | 'none';

export interface PullState {
  /** The pull request. */
  ref: IssueRef;
  headSha: string;
  state: 'open' | 'closed' | 'merged';
  /** Aggregate of the head's check runs and its commit statuses. */
  ci: CiState;
  /** Open, and GitHub says it can merge now (see isMergeable). */
  mergeable: boolean;
  /** Some reviewer's latest verdict is CHANGES_REQUESTED. */
  changesRequested: boolean;
  /** Bot comments and reviews from bugbot (or Cursor) on the current head. */
  bugbotComments: number;
}

export interface GitHubClient {
  issue(ref: IssueRef): Promise<Issue>;
  pull(ref: IssueRef): Promise<PullState>;
}

/**
 * A failed GitHub call, with a one-line message. `status` is the HTTP status, 0 when GitHub
 * never answered (network error, timeout). `retryAfterMs` is set for rate limits.
 */
export class GitHubError extends TtError {
  constructor(
    message: string,
    readonly status: number,
    readonly retryAfterMs?: number,
  ) {
    super(message, 1);
  }
}

export { refLabel } from '../model/github-ref.js';

const SUCCESS = new Set(['success', 'neutral', 'skipped']);
const PENDING = new Set(['queued', 'pending', 'in_progress', 'expected', 'waiting', 'requested']);
// `error` is a commit status state; GitHub's own combined status counts it as a failure.
const FAILURE = new Set([
  'failure',
  'failed',
  'timed_out',
  'action_required',
  'cancelled',
  'startup_failure',
  'stale',
  'error',
]);

/** One check run conclusion/status or commit status state (any case) -> tt's CI state. */
export const checkState = (raw: string | null | undefined): CiState => {
  const s = (raw ?? '').trim().toLowerCase();
  if (SUCCESS.has(s)) return 'success';
  if (PENDING.has(s)) return 'pending';
  if (FAILURE.has(s)) return 'failure';
  return 'unknown';
};

/** Any failure wins, then any unknown, then any pending; all success is success; no states at all is none. */
export const aggregateCi = (states: readonly CiState[]): CiState => {
  if (states.length === 0) return 'none';
  for (const s of ['failure', 'unknown', 'pending'] as const) if (states.includes(s)) return s;
  return 'success';
};

/** A check run's word: its conclusion once completed, else its status. */
export const checkRunWord = (run: { status: string; conclusion?: string | null }): string =>
  run.status.toLowerCase() === 'completed' ? (run.conclusion ?? 'unknown') : run.status;

/** The head's CI: check runs (status/conclusion) and commit statuses (state) together. */
export const ciState = (
  runs: readonly { status: string; conclusion?: string | null }[],
  statuses: readonly { state: string }[],
): CiState =>
  aggregateCi([...runs.map((r) => checkState(checkRunWord(r))), ...statuses.map((s) => checkState(s.state))]);

/**
 * Open, closed unmerged, or merged. GitHub documents `merged` as the truth, but its own `pulls/get`
 * example shows `merged: false` next to a non-null `merged_at`, and `merged_at` is only ever set
 * by a merge (it stays null on a PR closed unmerged). So either one counts as merged: a merged PR
 * read as "closed unmerged" would send its work item back to work, the costlier mistake.
 */
export const pullStateOf = (
  state: 'open' | 'closed',
  merged: boolean | null | undefined,
  mergedAt: string | null | undefined,
): PullState['state'] => (merged === true || (mergedAt ?? '') !== '' ? 'merged' : state);

const MERGEABLE_STATES = new Set(['clean', 'has_hooks', 'unstable']);

/**
 * Can the PR merge now? Only an open PR can. GitHub's mergeable_state decides when it is known
 * (clean, has_hooks and unstable can merge; dirty, blocked, behind and draft cannot); while GitHub
 * is still computing it ("unknown" or absent) the mergeable flag decides (null counts as no).
 */
export const isMergeable = (
  state: PullState['state'],
  mergeable: boolean | null | undefined,
  mergeableState: string | null | undefined,
): boolean => {
  if (state !== 'open') return false;
  const ms = (mergeableState ?? '').toLowerCase();
  if (ms && ms !== 'unknown') return MERGEABLE_STATES.has(ms);
  return mergeable === true;
};

export interface ReviewLike {
  login: string;
  state: string;
  /** ISO time; reviews without one (PENDING drafts) are ignored. */
  submittedAt?: string | null | undefined;
}

/**
 * True when some reviewer's latest verdict is CHANGES_REQUESTED. A verdict is APPROVED,
 * CHANGES_REQUESTED or DISMISSED; a later COMMENTED review does not lift a change request (as on
 * GitHub), and unsubmitted (PENDING) reviews do not count.
 */
export const changesRequested = (reviews: readonly ReviewLike[]): boolean => {
  const latest = new Map<string, { state: string; at: number; i: number }>();
  reviews.forEach((r, i) => {
    const state = r.state.toUpperCase();
    if (!['APPROVED', 'CHANGES_REQUESTED', 'DISMISSED'].includes(state) || !r.submittedAt) return;
    const at = Date.parse(r.submittedAt);
    const who = r.login.toLowerCase();
    const prev = latest.get(who);
    if (!prev || at > prev.at || (at === prev.at && i > prev.i)) latest.set(who, { state, at, i });
  });
  return [...latest.values()].some((v) => v.state === 'CHANGES_REQUESTED');
};

export interface CommentLike {
  login: string;
  /** GitHub's user.type ("Bot", "User"); logins ending in [bot] count as bots too. */
  userType?: string | undefined;
  body?: string | null | undefined;
}

/**
 * A bugbot comment: written by a bot whose login contains "bugbot" or "cursor", or by a bot whose
 * text mentions bugbot. People's comments never count (a person writing "bugbot run" asks for a
 * review, it is not one).
 */
export const isBugbotComment = (c: CommentLike): boolean => {
  const login = c.login.toLowerCase();
  const bot = c.userType?.toLowerCase() === 'bot' || login.endsWith('[bot]');
  if (!bot) return false;
  return login.includes('bugbot') || login.includes('cursor') || /bugbot/i.test(c.body ?? '');
};
