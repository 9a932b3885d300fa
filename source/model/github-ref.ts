import { UsageError } from './errors.js';
import { oneLine } from './format.js';

/** An issue or pull request on GitHub (or a GitHub Enterprise host): what the GitHub client takes. */
export interface IssueRef {
  owner: string;
  repo: string;
  number: number;
}

/** `owner/repo#N`: how an issue or pull request is named in messages and keys. */
export const refLabel = (r: IssueRef): string => `${r.owner}/${r.repo}#${r.number}`;

const NAME = '[A-Za-z0-9_.-]+';
const SHORT_REF = new RegExp(`^(${NAME})/(${NAME})#(\\d+)$`);
const URL_PATH = `/(${NAME})/(${NAME})/(?:issues|pulls?)/(\\d+)(?:[/?#]\\S*)?`;
const URL_REF = new RegExp(`^https?://[^/\\s]+${URL_PATH}$`);
const REF_FORMS = 'write 23, owner/repo#23 or https://github.com/owner/repo/issues/23';

const positive = (s: string): number | undefined => {
  const n = Number(s);
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
};

const isDotName = (s: string | undefined): boolean => s === '.' || s === '..';

/**
 * `23` (in defaultRepo), `owner/repo#23`, or an issue or pull request URL on any host
 * (https://github.com/o/r/issues/23, https://ghe.example.com/o/r/pull/23/files).
 */
export const parseIssueRef = (ref: string, defaultRepo?: { owner: string; repo: string }): IssueRef => {
  const s = ref.trim();
  const bare = /^#?(\d+)$/.exec(s);
  if (bare) {
    const number = positive(bare[1]!);
    if (number === undefined) throw new UsageError(`"${ref}" is not an issue number`);
    if (!defaultRepo)
      throw new UsageError(`"${ref}" names no repository: write owner/repo#${number} or a GitHub URL`);
    return { owner: defaultRepo.owner, repo: defaultRepo.repo, number };
  }
  const m = SHORT_REF.exec(s) ?? URL_REF.exec(s);
  const number = m ? positive(m[3]!) : undefined;
  if (!m || number === undefined || isDotName(m[1]) || isDotName(m[2]))
    throw new UsageError(`"${oneLine(ref, 80)}" is not an issue: ${REF_FORMS}`);
  return { owner: m[1]!, repo: m[2]!, number };
};
