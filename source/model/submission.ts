import type {
  MissionPolicy,
  TriggerAction,
  Watch,
  WatchKind,
  WorkItem,
  WorkKind,
  WorkStatus,
} from './mission.js';
import { refLabel } from './github-ref.js';

/**
 * Submissions and the reviewer gate (tinytown 5.4, 5.5): what happens to a work item when its
 * task reports a result, when a review comes back, and when it may finally count as done.
 */

/** Implementation and test work needs a reviewer's approval when the policy asks for one. */
export const requiresReview = (kind: WorkKind, policy: Pick<MissionPolicy, 'reviewerRequired'>): boolean =>
  policy.reviewerRequired && (kind === 'implement' || kind === 'test');

export interface PrRef {
  owner: string;
  repo: string;
  number: number;
}

const OWNER = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})';
const REPO = '[A-Za-z0-9._-]+';
// Any host: a GitHub Enterprise link names its pull request the same way.
const PR_URL = new RegExp(`https?://[^/\\s]+/(${OWNER})/(${REPO})/pulls?/(\\d+)`, 'g');
const PR_SHORT = new RegExp(`(?<![\\w./-])(${OWNER})/(${REPO})#(\\d+)(?![\\w])`, 'g');

/** `owner/repo#N` or a pull request or issue URL (any host) whose last segment is the number. */
export const parsePrRef = (target: string): PrRef | undefined => {
  const t = target.trim();
  const short = new RegExp(`^(${OWNER})/(${REPO})#(\\d+)$`).exec(t);
  const url = /^https?:\/\/[^/\s]+\/([^/\s]+)\/([^/\s]+)\/(?:pulls?|issues)\/(\d+)\/?$/.exec(t);
  const m = short ?? url;
  if (!m) return undefined;
  const number = Number(m[3]);
  return number > 0 ? { owner: m[1]!, repo: m[2]!, number } : undefined;
};

/**
 * Pull-request references in a result text (`https://<host>/o/r/pull/N` URLs and `o/r#N`), as
 * `owner/repo#N`, each once (owner and repo compared without case, the first spelling kept), sorted.
 */
export const extractPrRefs = (text: string): string[] => {
  const refs = new Map<string, PrRef>();
  for (const re of [PR_URL, PR_SHORT]) {
    for (const m of text.matchAll(re)) {
      const r = { owner: m[1]!, repo: m[2]!, number: Number(m[3]) };
      const key = refLabel(r).toLowerCase();
      if (r.number > 0 && !refs.has(key)) refs.set(key, r);
    }
  }
  return [...refs.values()]
    .sort((a, b) => {
      const x = `${a.owner}/${a.repo}`.toLowerCase();
      const y = `${b.owner}/${b.repo}`.toLowerCase();
      return x < y ? -1 : x > y ? 1 : a.number - b.number;
    })
    .map(refLabel);
};

/** The watches each pull request of a submission gets, and what each does when it fires. */
export const PR_WATCHES: readonly { kind: WatchKind; onTrigger: TriggerAction }[] = [
  { kind: 'pr_checks', onTrigger: 'create_fix_task' },
  { kind: 'bugbot_comments', onTrigger: 'create_fix_task' },
  { kind: 'review_comments', onTrigger: 'create_fix_task' },
  { kind: 'mergeability', onTrigger: 'advance_pipeline' },
];

export interface SubmissionOutcome {
  status: WorkStatus;
  /** The item's artifacts with this submission's added: its PR refs, then the result text. */
  artifacts: string[];
  /** Pull requests to watch (owner/repo#N); each gets PR_WATCHES. */
  watchesFor: string[];
  /** A review task is needed (unless one is already open). */
  needsReview: boolean;
  done: boolean;
  /** A new submission clears an earlier approval. */
  reviewerApproved: false;
}

/**
 * A work or fix task finished with `result`. With pull requests the item waits (blocked) on
 * their watches and, when gated, a review; without, a gated item waits for review and any
 * other is done at once.
 */
export const onWorkSubmitted = (
  item: Pick<WorkItem, 'kind' | 'artifacts'>,
  policy: Pick<MissionPolicy, 'reviewerRequired'>,
  result: string,
): SubmissionOutcome => {
  const prs = extractPrRefs(result);
  const text = result.trim();
  const artifacts = [...new Set([...item.artifacts, ...prs, ...(text ? [text] : [])])];
  const gated = requiresReview(item.kind, policy);
  const done = prs.length === 0 && !gated;
  return {
    status: done ? 'done' : 'blocked',
    artifacts,
    watchesFor: prs,
    needsReview: gated,
    done,
    reviewerApproved: false,
  };
};

/** A review task's result: "rejected" or "changes requested" first (any case, then ":" or any non-word) rejects. */
export const onReviewResult = (result: string): 'approve' | 'reject' =>
  /^\s*(?:rejected|changes\s+requested)(?![\w])/i.test(result) ? 'reject' : 'approve';

/**
 * A blocked item may become done when it has something to show (artifacts or an approval),
 * has the approval its kind needs, and every watch on it is done.
 */
export const canFinalize = (
  item: Pick<WorkItem, 'id' | 'kind' | 'status' | 'artifacts' | 'reviewerApproved'>,
  watches: readonly Pick<Watch, 'item' | 'status'>[],
  policy: Pick<MissionPolicy, 'reviewerRequired'>,
): boolean => {
  if (item.status !== 'blocked') return false;
  if (item.artifacts.length === 0 && !item.reviewerApproved) return false;
  if (requiresReview(item.kind, policy) && !item.reviewerApproved) return false;
  return watches.every((w) => w.item !== item.id || w.status === 'done');
};
