import { spawnSync } from 'node:child_process';
import { z } from 'zod';
import type { Clock } from '../model/clock.js';
import { UsageError } from '../model/errors.js';
import { oneLine } from '../model/format.js';
import {
  changesRequested,
  ciState,
  GitHubError,
  isBugbotComment,
  isMergeable,
  pullStateOf,
  refLabel,
  type GitHubClient,
  type Issue,
  type IssueRef,
  type PullState,
} from './client.js';

/**
 * GitHubClient over GitHub's REST API (api.github.com, or https://host/api/v3 for Enterprise),
 * with Node's fetch. A PR's state takes six GETs: the pull, its head commit (for the time that
 * scopes comments to the current head), check runs and combined status of the head, reviews and
 * issue comments. Lists follow `Link: rel="next"` for a few pages.
 */

export const DEFAULT_GITHUB_API = 'https://api.github.com';
const API_VERSION = '2022-11-28';
const PER_PAGE = 100;
/** Pages followed per list: 500 items, far past any real PR's checks or reviews. */
export const MAX_PAGES = 5;
/** GitHub's advice when a secondary rate limit names no time: wait a minute. */
const DEFAULT_RATE_WAIT_MS = 60_000;

export interface RestGitHubOptions {
  /** https://api.github.com (default), or https://host/api/v3 for GitHub Enterprise Server. */
  baseUrl?: string | undefined;
  /** Sent as a Bearer token; without one only public repositories can be read (60 requests/hour). */
  token?: string | undefined;
  userAgent: string;
  /** Per request, body included. Default 15 s. */
  timeoutMs?: number | undefined;
  fetch?: typeof fetch | undefined;
  /** For turning x-ratelimit-reset into a wait. */
  clock?: Clock | undefined;
}

const User = z.object({ login: z.string(), type: z.string().optional() }).nullable().optional();
const IssueJson = z.object({
  title: z.string(),
  body: z.string().nullable().optional(),
  state: z.enum(['open', 'closed']),
  labels: z.array(z.union([z.string(), z.object({ name: z.string() })])).default([]),
});
const PullJson = z.object({
  state: z.enum(['open', 'closed']),
  merged: z.boolean().nullable().optional(),
  merged_at: z.string().nullable().optional(),
  mergeable: z.boolean().nullable().optional(),
  mergeable_state: z.string().nullable().optional(),
  head: z.object({ sha: z.string() }),
});
const GitCommitJson = z.object({
  committer: z.object({ date: z.string().optional() }).nullable().optional(),
});
const CheckRunsJson = z.object({
  check_runs: z.array(z.object({ status: z.string(), conclusion: z.string().nullable().optional() })),
});
const StatusJson = z.object({ statuses: z.array(z.object({ state: z.string() })).default([]) });
const ReviewsJson = z.array(
  z.object({
    user: User,
    state: z.string(),
    body: z.string().nullable().optional(),
    submitted_at: z.string().nullable().optional(),
    commit_id: z.string().nullable().optional(),
  }),
);
const CommentsJson = z.array(z.object({ user: User, body: z.string().nullable().optional() }));

/** What to do about a token GitHub rejects. */
const TOKEN_HELP = 'check GITHUB_TOKEN or run gh auth login';

/** GitHub's `message` from an error body, else the start of the body. */
const errorMessage = (text: string): string => {
  try {
    const j = JSON.parse(text) as { message?: unknown };
    if (typeof j?.message === 'string') return oneLine(j.message);
  } catch {
    /* not JSON */
  }
  return oneLine(text);
};

/** The rel="next" target of a Link header. */
export const nextLink = (link: string | null): string | undefined => {
  for (const m of (link ?? '').matchAll(/<([^>]*)>\s*;\s*rel="([^"]*)"/g))
    if (m[2]!.split(/\s+/).includes('next')) return m[1];
  return undefined;
};

/**
 * How long a rate limit asks us to wait: retry-after (seconds or a date), else x-ratelimit-reset
 * (epoch seconds).
 */
const rateWaitMs = (headers: Headers, now: number): number | undefined => {
  const after = headers.get('retry-after');
  if (after !== null) {
    const secs = Number(after);
    if (Number.isFinite(secs)) return Math.max(0, secs * 1000);
    const at = Date.parse(after);
    if (Number.isFinite(at)) return Math.max(0, at - now);
  }
  const reset = Number(headers.get('x-ratelimit-reset') ?? NaN);
  if (headers.get('x-ratelimit-remaining') === '0' && Number.isFinite(reset))
    return Math.max(1000, reset * 1000 - now);
  return undefined;
};

export class RestGitHubClient implements GitHubClient {
  private readonly base: URL;
  /** The API's path on its host without a trailing slash: "" or "/api/v3". */
  private readonly basePath: string;
  private readonly token: string | undefined;
  private readonly userAgent: string;
  private readonly timeoutMs: number;
  private readonly fetchFn: typeof fetch;
  private readonly clock: Clock;

  constructor(opts: RestGitHubOptions) {
    let base: URL;
    try {
      base = new URL(opts.baseUrl || DEFAULT_GITHUB_API);
    } catch {
      const example = `${DEFAULT_GITHUB_API} or https://host/api/v3`;
      throw new UsageError(`"${opts.baseUrl}" is not a URL: give the GitHub API address, e.g. ${example}`);
    }
    if (base.protocol !== 'https:' && base.protocol !== 'http:')
      throw new UsageError(`the GitHub API address must be http(s), not ${base.protocol}`);
    if (base.username || base.password)
      throw new UsageError('the GitHub API address must not carry credentials; give the token separately');
    const token = opts.token?.trim() || undefined;
    // A token that is not one header-safe word would make fetch throw an error that quotes it.
    if (token && !/^[\x21-\x7e]+$/.test(token))
      throw new UsageError('the GitHub token has spaces or control characters in it; check GITHUB_TOKEN');
    this.base = base;
    this.basePath = base.pathname.replace(/\/+$/, '');
    this.token = token;
    this.userAgent = opts.userAgent;
    this.timeoutMs = opts.timeoutMs ?? 15_000;
    this.fetchFn = opts.fetch ?? globalThis.fetch;
    this.clock = opts.clock ?? { now: () => Date.now() };
  }

  async issue(ref: IssueRef): Promise<Issue> {
    const j = await this.get(`${repoPath(ref)}/issues/${ref.number}`, ref, IssueJson);
    return {
      ref: { ...ref },
      title: j.title,
      body: j.body ?? '',
      state: j.state,
      labels: j.labels.map((l) => (typeof l === 'string' ? l : l.name)),
    };
  }

  async pull(ref: IssueRef): Promise<PullState> {
    const repo = repoPath(ref);
    const p = await this.get(`${repo}/pulls/${ref.number}`, ref, PullJson);
    const sha = p.head.sha;
    const state = pullStateOf(p.state, p.merged, p.merged_at);
    const per = `per_page=${PER_PAGE}`;
    const [runs, statuses, reviews, comments] = await Promise.all([
      this.list(`${repo}/commits/${sha}/check-runs?${per}`, ref, CheckRunsJson, (j) => j.check_runs),
      this.list(`${repo}/commits/${sha}/status?${per}`, ref, StatusJson, (j) => j.statuses),
      this.list(`${repo}/pulls/${ref.number}/reviews?${per}`, ref, ReviewsJson, (j) => j),
      this.headComments(ref, sha),
    ]);
    const asComment = (c: {
      user?: { login: string; type?: string | undefined } | null | undefined;
      body?: string | null | undefined;
    }) => ({
      login: c.user?.login ?? 'ghost',
      userType: c.user?.type,
      body: c.body,
    });
    const bugbotReviews = reviews.filter(
      (r) => r.commit_id === sha && r.state.toUpperCase() !== 'PENDING' && isBugbotComment(asComment(r)),
    );
    return {
      ref: { ...ref },
      headSha: sha,
      state,
      ci: ciState(runs, statuses),
      mergeable: isMergeable(state, p.mergeable, p.mergeable_state),
      changesRequested: changesRequested(
        reviews.map((r) => ({
          login: r.user?.login ?? 'ghost',
          state: r.state,
          submittedAt: r.submitted_at,
        })),
      ),
      bugbotComments: comments.filter((c) => isBugbotComment(asComment(c))).length + bugbotReviews.length,
    };
  }

  /**
   * Issue comments are tied to no commit: those written or edited since the head commit count as
   * being on the current head (bots such as bugbot edit their summary when they review a new head).
   */
  private async headComments(ref: IssueRef, sha: string) {
    const repo = repoPath(ref);
    const commit = await this.get(`${repo}/git/commits/${sha}`, ref, GitCommitJson);
    const since = commit.committer?.date;
    const query = `per_page=${PER_PAGE}${since ? `&since=${encodeURIComponent(since)}` : ''}`;
    return this.list(`${repo}/issues/${ref.number}/comments?${query}`, ref, CommentsJson, (j) => j);
  }

  private url(path: string): URL {
    return new URL(`${this.base.origin}${this.basePath}${path}`);
  }

  private async get<S extends z.ZodType>(path: string, ref: IssueRef, schema: S): Promise<z.infer<S>> {
    const url = this.url(path);
    return this.parse(url, schema, (await this.request(url, ref)).json);
  }

  /** A list endpoint, following rel="next" for up to MAX_PAGES pages, never off the API host. */
  private async list<S extends z.ZodType, T>(
    path: string,
    ref: IssueRef,
    schema: S,
    pick: (page: z.infer<S>) => T[],
  ): Promise<T[]> {
    const out: T[] = [];
    let url: URL | undefined = this.url(path);
    for (let page = 0; url && page < MAX_PAGES; page++) {
      const res = await this.request(url, ref);
      out.push(...pick(this.parse(url, schema, res.json)));
      const next = nextLink(res.link);
      url = next === undefined ? undefined : this.sameApi(next);
    }
    return out;
  }

  private sameApi(link: string): URL {
    let url: URL | undefined;
    try {
      url = new URL(link, this.base);
    } catch {
      url = undefined;
    }
    const prefix = `${this.basePath}/`;
    if (!url || url.origin !== this.base.origin || !url.pathname.startsWith(prefix)) {
      throw new GitHubError(`GitHub sent a next-page link outside ${this.where()}; not following it`, 0);
    }
    return url;
  }

  private where(): string {
    return `${this.base.host}${this.basePath}`;
  }

  private parse<S extends z.ZodType>(url: URL, schema: S, json: unknown): z.infer<S> {
    const r = schema.safeParse(json);
    if (r.success) return r.data;
    const issue = r.error.issues[0];
    const what = `${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}`;
    throw new GitHubError(`GitHub sent an unexpected answer for GET ${url.pathname}: ${what}`, 200);
  }

  private async request(url: URL, ref: IssueRef): Promise<{ json: unknown; link: string | null }> {
    const headers: Record<string, string> = {
      accept: 'application/vnd.github+json',
      'x-github-api-version': API_VERSION,
      'user-agent': this.userAgent,
    };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    const what = `GET ${url.pathname}`;
    let res: Response;
    let text: string;
    try {
      res = await this.fetchFn(url, { headers, signal: AbortSignal.timeout(this.timeoutMs) });
      text = await res.text();
    } catch (e) {
      throw this.unreachable(e, what);
    }
    if (!res.ok) throw this.httpError(res, text, ref, what);
    try {
      return { json: JSON.parse(text), link: res.headers.get('link') };
    } catch {
      throw new GitHubError(
        `GitHub sent something other than JSON for ${what} (${oneLine(text, 60) || 'empty body'})`,
        res.status,
      );
    }
  }

  private unreachable(e: unknown, what: string): GitHubError {
    const err = e as { name?: string; message?: string; cause?: { code?: string; message?: string } };
    if (err?.name === 'TimeoutError' || err?.name === 'AbortError') {
      return new GitHubError(
        `GitHub (${this.where()}) did not answer ${what} within ${formatSecs(this.timeoutMs)}`,
        0,
      );
    }
    const why = err?.cause?.code ?? err?.cause?.message ?? err?.message ?? String(e);
    return new GitHubError(this.scrub(`cannot reach GitHub at ${this.where()}: ${oneLine(why, 120)}`), 0);
  }

  private httpError(res: Response, text: string, ref: IssueRef, what: string): GitHubError {
    const status = res.status;
    const msg = this.scrub(errorMessage(text));
    const label = refLabel(ref);
    const limited =
      status === 429 ||
      (status === 403 &&
        (res.headers.get('x-ratelimit-remaining') === '0' ||
          res.headers.has('retry-after') ||
          /rate limit/i.test(msg)));
    if (limited) {
      const wait = rateWaitMs(res.headers, this.clock.now()) ?? DEFAULT_RATE_WAIT_MS;
      const hint = this.token ? '' : ' (a token raises the limit: set GITHUB_TOKEN or run gh auth login)';
      return new GitHubError(
        `GitHub rate limit reached; retry after ${Math.ceil(wait / 1000)}s${hint}`,
        status,
        wait,
      );
    }
    if (status === 401 || (status === 403 && /bad credentials/i.test(msg))) {
      return this.token
        ? new GitHubError(
            `GitHub rejected the token (${status} ${msg || 'Bad credentials'}); ${TOKEN_HELP}`,
            status,
          )
        : new GitHubError(
            `GitHub wants a token for ${label} (${status}); set GITHUB_TOKEN or run gh auth login`,
            status,
          );
    }
    if (status === 403)
      return new GitHubError(`GitHub refused access to ${label} (403${msg ? `: ${msg}` : ''})`, status);
    if (status === 404) return new GitHubError(`${label} not found (or the token cannot see it)`, status);
    if (status >= 500)
      return new GitHubError(
        `GitHub failed with ${status}${msg ? ` (${msg})` : ''} on ${what}; try again later`,
        status,
      );
    return new GitHubError(`GitHub answered ${status}${msg ? ` (${msg})` : ''} on ${what}`, status);
  }

  /** Belt and braces: no message ever carries the token. */
  private scrub(s: string): string {
    return this.token ? s.split(this.token).join('***') : s;
  }
}

const repoPath = (ref: IssueRef): string =>
  `/repos/${encodeURIComponent(ref.owner)}/${encodeURIComponent(ref.repo)}`;

const formatSecs = (ms: number): string => (ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`);

/** Runs a command and hands back its exit status and stdout; undefined when it cannot start. */
export type CommandRunner = (
  cmd: string,
  args: readonly string[],
) => { status: number | null; stdout: string } | undefined;

const spawnRunner =
  (env: Record<string, string | undefined>): CommandRunner =>
  (cmd, args) => {
    const r = spawnSync(cmd, args, {
      encoding: 'utf8',
      timeout: 3000,
      env: env as NodeJS.ProcessEnv,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return r.error ? undefined : { status: r.status, stdout: r.stdout ?? '' };
  };

/**
 * The token to use: GITHUB_TOKEN, else GH_TOKEN, else what `gh auth token` prints when gh is
 * installed and logged in (for an Enterprise host, `--hostname host`). Undefined when there is
 * none, which is fine for public repositories.
 */
export const githubToken = (
  env: Record<string, string | undefined> = process.env,
  run?: CommandRunner,
  host?: string,
): string | undefined => {
  for (const k of ['GITHUB_TOKEN', 'GH_TOKEN']) {
    const v = env[k]?.trim();
    if (v) return v;
  }
  const args = ['auth', 'token'];
  if (host && host !== 'github.com' && host !== 'api.github.com') args.push('--hostname', host);
  const r = (run ?? spawnRunner(env))('gh', args);
  if (!r || r.status !== 0) return undefined;
  const token = r.stdout.trim().split('\n')[0]?.trim();
  return token && /^[\x21-\x7e]+$/.test(token) ? token : undefined;
};
