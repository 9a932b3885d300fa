import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { onCleanup } from './town.js';

/**
 * A fake GitHub REST API on 127.0.0.1 for tests: it answers the endpoints tt reads with JSON
 * shaped like GitHub's (the fields tt reads plus some it does not), from an in-memory model the
 * test fills in. It paginates lists with Link headers, filters comments by `since`, checks tokens
 * when told to, fails, rate-limits or hangs on request, and records every request.
 */

export type UserType = 'User' | 'Bot';

export interface FakeIssue {
  owner: string;
  repo: string;
  number: number;
  title: string;
  body?: string | null;
  state?: 'open' | 'closed';
  labels?: string[];
  login?: string;
}

export interface FakePull {
  owner: string;
  repo: string;
  number: number;
  headSha: string;
  title?: string;
  body?: string | null;
  state?: 'open' | 'closed';
  merged?: boolean;
  /** merged_at as sent (default: set when merged); GitHub's own example pairs merged: false with a time. */
  mergedAt?: string | null;
  /** GitHub's flag: null while it computes. Default true. */
  mergeable?: boolean | null;
  /** clean, dirty, blocked, behind, unstable, has_hooks, draft, unknown. Default clean. */
  mergeableState?: string;
  login?: string;
}

export interface FakeCheckRun {
  name?: string;
  /** queued, in_progress, completed, waiting, requested, pending */
  status: string;
  /** set when completed: success, failure, neutral, cancelled, skipped, timed_out, action_required, stale, startup_failure */
  conclusion?: string | null;
}

export interface FakeStatus {
  context?: string;
  /** error, failure, pending, success */
  state: string;
}

export interface FakeReview {
  login: string;
  userType?: UserType;
  /** APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED, PENDING */
  state: string;
  body?: string;
  /** Default: minutes after FAKE_EPOCH by position; PENDING reviews have none. */
  submittedAt?: string;
  /** Default: the PR's current head. */
  commitId?: string;
}

export interface FakeComment {
  login: string;
  userType?: UserType;
  body: string;
  /** Default: FAKE_EPOCH plus one hour plus a minute per position. */
  createdAt?: string;
  /** Default: createdAt. */
  updatedAt?: string;
}

export interface FakeFault {
  /** A substring of the path (query excluded), or a pattern tested on path and query. */
  path: string | RegExp;
  /** Answer with this status (and body, headers) instead of the model. */
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Wait this long before answering. */
  delayMs?: number;
  /** Never answer (until the server closes). */
  hang?: boolean;
  /** How many requests it applies to; default every one. */
  times?: number;
}

export interface RecordedRequest {
  method: string;
  /** Path and query, as sent. */
  path: string;
  headers: IncomingHttpHeaders;
}

/** Time zero of the model: commits default to it, comments and reviews come after it. */
export const FAKE_EPOCH = '2026-01-01T00:00:00Z';
const at = (ms: number) => new Date(Date.parse(FAKE_EPOCH) + ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

export class FakeGitHubState {
  issues: FakeIssue[] = [];
  pulls: FakePull[] = [];
  /** By commit sha. */
  checkRuns: Record<string, FakeCheckRun[]> = {};
  /** By commit sha. */
  statuses: Record<string, FakeStatus[]> = {};
  /** By "owner/repo#number". */
  reviews: Record<string, FakeReview[]> = {};
  /** Issue (or PR conversation) comments by "owner/repo#number". */
  comments: Record<string, FakeComment[]> = {};
  /** Committer dates by sha; default FAKE_EPOCH. */
  commitDates: Record<string, string> = {};
  /** When set, a request carrying any other token is answered 401 Bad credentials. */
  tokens: string[] | undefined;
  faults: FakeFault[] = [];
  requests: RecordedRequest[] = [];

  addIssue(i: FakeIssue): this {
    this.issues.push(i);
    return this;
  }

  addPull(p: FakePull): this {
    this.pulls.push(p);
    return this;
  }

  /** Answers requests whose path matches with this status and a GitHub-style error body. */
  fail(path: string | RegExp, status: number, message = 'Server Error', times?: number): this {
    this.faults.push({
      path,
      status,
      body: { message, documentation_url: 'https://docs.github.com/rest', status: String(status) },
      ...(times ? { times } : {}),
    });
    return this;
  }

  /** The primary limit (403, remaining 0, reset at an epoch second) or a 429 with retry-after. */
  rateLimit(path: string | RegExp, how: { resetEpochSecs: number } | { retryAfterSecs: number }): this {
    if ('resetEpochSecs' in how) {
      this.faults.push({
        path,
        status: 403,
        headers: {
          'x-ratelimit-limit': '60',
          'x-ratelimit-remaining': '0',
          'x-ratelimit-used': '60',
          'x-ratelimit-reset': String(how.resetEpochSecs),
          'x-ratelimit-resource': 'core',
        },
        body: {
          message:
            "API rate limit exceeded for 127.0.0.1. (But here's the good news: Authenticated requests get a higher rate limit. Check out the documentation for more details.)",
          documentation_url: 'https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting',
        },
      });
    } else {
      this.faults.push({
        path,
        status: 429,
        headers: { 'retry-after': String(how.retryAfterSecs) },
        body: {
          message:
            'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.',
          documentation_url: 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api',
        },
      });
    }
    return this;
  }

  hang(path: string | RegExp): this {
    this.faults.push({ path, hang: true });
    return this;
  }

  /** Requests whose path (query excluded) contains this. */
  requestsTo(fragment: string): RecordedRequest[] {
    return this.requests.filter((r) => r.path.split('?')[0]!.includes(fragment));
  }
}

export interface FakeGitHub {
  /** Base URL to give the client (with the prefix, when one was asked for). */
  url: string;
  state: FakeGitHubState;
  close(): Promise<void>;
}

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
const key = (o: string, r: string, n: number | string) => `${o}/${r}#${n}`.toLowerCase();
const lookup = <T>(rec: Record<string, T[]>, k: string): T[] =>
  Object.entries(rec).find(([kk]) => kk.toLowerCase() === k)?.[1] ?? [];

let nextId = 1000;
const userJson = (
  origin: string,
  login: string,
  type: UserType = login.endsWith('[bot]') ? 'Bot' : 'User',
) => {
  const id = [...login].reduce((h, c) => (h * 31 + c.charCodeAt(0)) % 1e8, 7);
  return {
    login,
    id,
    node_id: `U_${id}`,
    avatar_url: `https://avatars.githubusercontent.com/u/${id}?v=4`,
    gravatar_id: '',
    url: `${origin}/users/${login}`,
    html_url: `https://github.com/${login}`,
    type,
    site_admin: false,
  };
};

/** Starts the fake on 127.0.0.1 (a free port); it closes after the current test. */
export const startFakeGitHub = async (opts: { prefix?: string } = {}): Promise<FakeGitHub> => {
  const state = new FakeGitHubState();
  const prefix = (opts.prefix ?? '').replace(/\/+$/, '');
  const timers = new Set<NodeJS.Timeout>();
  let origin = '';

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    const text = JSON.stringify(body, null, 2);
    res.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'x-github-api-version-selected': '2022-11-28',
      'x-github-media-type': 'github.v3; format=json',
      'x-github-request-id': `FAKE:${nextId++}`,
      'x-ratelimit-limit': '5000',
      'x-ratelimit-remaining': '4999',
      'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + 3600),
      'x-ratelimit-used': '1',
      'x-ratelimit-resource': 'core',
      'content-length': String(Buffer.byteLength(text)),
      ...headers,
    });
    res.end(text);
  };
  const notFound = (res: ServerResponse) =>
    send(res, 404, {
      message: 'Not Found',
      documentation_url: 'https://docs.github.com/rest',
      status: '404',
    });

  /** One page of a list, with GitHub's Link header (next, last, first, prev) when there are more. */
  const page = <T>(url: URL, items: T[]): { items: T[]; headers: Record<string, string> } => {
    const per = Math.min(100, Math.max(1, Number(url.searchParams.get('per_page')) || 30));
    const n = Math.max(1, Number(url.searchParams.get('page')) || 1);
    const last = Math.max(1, Math.ceil(items.length / per));
    const link = (p: number, rel: string) => {
      const u = new URL(url.pathname + url.search, origin);
      u.searchParams.set('page', String(p));
      return `<${u.toString()}>; rel="${rel}"`;
    };
    const links: string[] = [];
    if (n > 1) links.push(link(n - 1, 'prev'));
    if (n < last) links.push(link(n + 1, 'next'), link(last, 'last'));
    if (n > 1) links.push(link(1, 'first'));
    return {
      items: items.slice((n - 1) * per, n * per),
      headers: links.length ? { link: links.join(', ') } : {},
    };
  };

  const repoKnown = (o: string, r: string) =>
    [...state.issues, ...state.pulls].some((x) => same(x.owner, o) && same(x.repo, r));
  const findPull = (o: string, r: string, n: number) =>
    state.pulls.find((p) => same(p.owner, o) && same(p.repo, r) && p.number === n);
  const findIssue = (o: string, r: string, n: number) =>
    state.issues.find((i) => same(i.owner, o) && same(i.repo, r) && i.number === n);
  const shaKnown = (o: string, r: string, sha: string) =>
    state.pulls.some((p) => same(p.owner, o) && same(p.repo, r) && p.headSha === sha) ||
    sha in state.checkRuns ||
    sha in state.statuses ||
    sha in state.commitDates;

  const repoJson = (o: string, r: string) => ({
    id: 4242,
    node_id: 'R_kgDOfake',
    name: r,
    full_name: `${o}/${r}`,
    private: false,
    owner: userJson(origin, o),
    html_url: `https://github.com/${o}/${r}`,
    url: `${origin}${prefix}/repos/${o}/${r}`,
    default_branch: 'main',
  });

  const issueJson = (i: FakeIssue, o: string, r: string) => {
    const base = `${origin}${prefix}/repos/${o}/${r}/issues/${i.number}`;
    return {
      url: base,
      repository_url: `${origin}${prefix}/repos/${o}/${r}`,
      labels_url: `${base}/labels{/name}`,
      comments_url: `${base}/comments`,
      events_url: `${base}/events`,
      html_url: `https://github.com/${o}/${r}/issues/${i.number}`,
      id: 5000 + i.number,
      node_id: `I_kwDOfake${i.number}`,
      number: i.number,
      title: i.title,
      user: userJson(origin, i.login ?? 'octocat'),
      labels: (i.labels ?? []).map((name, k) => ({
        id: 900 + k,
        node_id: `LA_fake${k}`,
        url: `${origin}${prefix}/repos/${o}/${r}/labels/${encodeURIComponent(name)}`,
        name,
        color: 'ededed',
        default: false,
        description: null,
      })),
      state: i.state ?? 'open',
      locked: false,
      assignee: null,
      assignees: [],
      milestone: null,
      comments: lookup(state.comments, key(o, r, i.number)).length,
      created_at: FAKE_EPOCH,
      updated_at: FAKE_EPOCH,
      closed_at: i.state === 'closed' ? FAKE_EPOCH : null,
      author_association: 'OWNER',
      active_lock_reason: null,
      body: i.body === undefined ? null : i.body,
      reactions: {
        url: `${base}/reactions`,
        total_count: 0,
        '+1': 0,
        '-1': 0,
        laugh: 0,
        hooray: 0,
        confused: 0,
        heart: 0,
        rocket: 0,
        eyes: 0,
      },
      timeline_url: `${base}/timeline`,
      performed_via_github_app: null,
      state_reason: i.state === 'closed' ? 'completed' : null,
    };
  };

  const pullJson = (p: FakePull, o: string, r: string) => {
    const merged = p.merged ?? false;
    const prState = merged ? 'closed' : (p.state ?? 'open');
    const repo = repoJson(o, r);
    return {
      url: `${origin}${prefix}/repos/${o}/${r}/pulls/${p.number}`,
      id: 7000 + p.number,
      node_id: `PR_kwDOfake${p.number}`,
      html_url: `https://github.com/${o}/${r}/pull/${p.number}`,
      diff_url: `https://github.com/${o}/${r}/pull/${p.number}.diff`,
      patch_url: `https://github.com/${o}/${r}/pull/${p.number}.patch`,
      issue_url: `${origin}${prefix}/repos/${o}/${r}/issues/${p.number}`,
      number: p.number,
      state: prState,
      locked: false,
      title: p.title ?? `PR ${p.number}`,
      user: userJson(origin, p.login ?? 'octocat'),
      body: p.body ?? null,
      created_at: FAKE_EPOCH,
      updated_at: FAKE_EPOCH,
      closed_at: prState === 'closed' ? FAKE_EPOCH : null,
      merged_at: p.mergedAt !== undefined ? p.mergedAt : merged ? FAKE_EPOCH : null,
      merge_commit_sha: merged ? 'f'.repeat(40) : null,
      assignee: null,
      assignees: [],
      requested_reviewers: [],
      requested_teams: [],
      labels: [],
      milestone: null,
      draft: p.mergeableState === 'draft',
      head: {
        label: `${o}:feature-${p.number}`,
        ref: `feature-${p.number}`,
        sha: p.headSha,
        user: userJson(origin, o),
        repo,
      },
      base: { label: `${o}:main`, ref: 'main', sha: '0'.repeat(40), user: userJson(origin, o), repo },
      author_association: 'OWNER',
      auto_merge: null,
      active_lock_reason: null,
      merged,
      mergeable: merged ? null : p.mergeable === undefined ? true : p.mergeable,
      rebaseable: merged ? null : true,
      mergeable_state: merged ? 'unknown' : (p.mergeableState ?? 'clean'),
      merged_by: merged ? userJson(origin, 'octocat') : null,
      comments: lookup(state.comments, key(o, r, p.number)).length,
      review_comments: 0,
      maintainer_can_modify: false,
      commits: 1,
      additions: 10,
      deletions: 2,
      changed_files: 1,
    };
  };

  const route = (url: URL, res: ServerResponse) => {
    const path = url.pathname.slice(prefix.length);
    let m: RegExpExecArray | null;
    if ((m = /^\/repos\/([^/]+)\/([^/]+)\/(.+)$/.exec(path)) === null) return notFound(res);
    const [o, r] = [decodeURIComponent(m[1]!), decodeURIComponent(m[2]!)];
    const rest = m[3]!;
    if (!repoKnown(o, r)) return notFound(res);

    if ((m = /^issues\/(\d+)$/.exec(rest))) {
      const n = Number(m[1]);
      const i = findIssue(o, r, n);
      if (i) return send(res, 200, issueJson(i, o, r));
      const p = findPull(o, r, n);
      if (!p) return notFound(res);
      // GitHub serves a pull request on the issues endpoint too, marked with pull_request.
      return send(res, 200, {
        ...issueJson(
          {
            owner: o,
            repo: r,
            number: n,
            title: p.title ?? `PR ${n}`,
            body: p.body ?? null,
            state: p.merged || p.state === 'closed' ? 'closed' : 'open',
          },
          o,
          r,
        ),
        pull_request: {
          url: `${origin}${prefix}/repos/${o}/${r}/pulls/${n}`,
          html_url: `https://github.com/${o}/${r}/pull/${n}`,
          merged_at: p.merged ? FAKE_EPOCH : null,
        },
      });
    }
    if ((m = /^issues\/(\d+)\/comments$/.exec(rest))) {
      const n = Number(m[1]);
      if (!findIssue(o, r, n) && !findPull(o, r, n)) return notFound(res);
      const since = url.searchParams.get('since');
      const all = lookup(state.comments, key(o, r, n)).map((c, k) => {
        const created = c.createdAt ?? at(3_600_000 + k * 60_000);
        return {
          url: `${origin}${prefix}/repos/${o}/${r}/issues/comments/${10_000 + k}`,
          html_url: `https://github.com/${o}/${r}/issues/${n}#issuecomment-${10_000 + k}`,
          issue_url: `${origin}${prefix}/repos/${o}/${r}/issues/${n}`,
          id: 10_000 + k,
          node_id: `IC_kwDOfake${k}`,
          user: userJson(origin, c.login, c.userType),
          created_at: created,
          updated_at: c.updatedAt ?? created,
          author_association: c.userType === 'Bot' || c.login.endsWith('[bot]') ? 'NONE' : 'MEMBER',
          body: c.body,
          reactions: { total_count: 0 },
          performed_via_github_app: null,
        };
      });
      const kept = since ? all.filter((c) => Date.parse(c.updated_at) >= Date.parse(since)) : all;
      const pg = page(url, kept);
      return send(res, 200, pg.items, pg.headers);
    }
    if ((m = /^pulls\/(\d+)$/.exec(rest))) {
      const p = findPull(o, r, Number(m[1]));
      return p ? send(res, 200, pullJson(p, o, r)) : notFound(res);
    }
    if ((m = /^pulls\/(\d+)\/reviews$/.exec(rest))) {
      const n = Number(m[1]);
      const p = findPull(o, r, n);
      if (!p) return notFound(res);
      const all = lookup(state.reviews, key(o, r, n)).map((v, k) => {
        const pending = v.state.toUpperCase() === 'PENDING';
        return {
          id: 80_000 + k,
          node_id: `PRR_kwDOfake${k}`,
          user: userJson(origin, v.login, v.userType),
          body: v.body ?? '',
          state: v.state,
          html_url: `https://github.com/${o}/${r}/pull/${n}#pullrequestreview-${80_000 + k}`,
          pull_request_url: `${origin}${prefix}/repos/${o}/${r}/pulls/${n}`,
          author_association: 'MEMBER',
          _links: {
            html: { href: `https://github.com/${o}/${r}/pull/${n}#pullrequestreview-${80_000 + k}` },
            pull_request: { href: `${origin}${prefix}/repos/${o}/${r}/pulls/${n}` },
          },
          ...(pending ? {} : { submitted_at: v.submittedAt ?? at(3_600_000 + k * 60_000) }),
          commit_id: v.commitId ?? p.headSha,
        };
      });
      const pg = page(url, all);
      return send(res, 200, pg.items, pg.headers);
    }
    if ((m = /^commits\/([^/]+)\/check-runs$/.exec(rest))) {
      const sha = m[1]!;
      if (!shaKnown(o, r, sha))
        return send(res, 422, {
          message: `No commit found for SHA: ${sha}`,
          documentation_url: 'https://docs.github.com/rest/checks/runs',
          status: '422',
        });
      const runs = (state.checkRuns[sha] ?? []).map((c, k) => {
        const done = c.status === 'completed';
        return {
          id: 60_000 + k,
          name: c.name ?? `check-${k + 1}`,
          node_id: `CR_kwDOfake${k}`,
          head_sha: sha,
          external_id: '',
          url: `${origin}${prefix}/repos/${o}/${r}/check-runs/${60_000 + k}`,
          html_url: `https://github.com/${o}/${r}/runs/${60_000 + k}`,
          details_url: `https://github.com/${o}/${r}/actions/runs/1/job/${60_000 + k}`,
          status: c.status,
          conclusion: done ? (c.conclusion ?? null) : null,
          started_at: FAKE_EPOCH,
          completed_at: done ? FAKE_EPOCH : null,
          output: {
            title: null,
            summary: null,
            text: null,
            annotations_count: 0,
            annotations_url: `${origin}${prefix}/repos/${o}/${r}/check-runs/${60_000 + k}/annotations`,
          },
          check_suite: { id: 50_000 },
          app: { id: 15368, slug: 'github-actions', node_id: 'MDM6QXBwMTUzNjg=', name: 'GitHub Actions' },
          pull_requests: [],
        };
      });
      const pg = page(url, runs);
      return send(res, 200, { total_count: runs.length, check_runs: pg.items }, pg.headers);
    }
    if ((m = /^commits\/([^/]+)\/status$/.exec(rest))) {
      const sha = m[1]!;
      if (!shaKnown(o, r, sha))
        return send(res, 422, {
          message: `No commit found for SHA: ${sha}`,
          documentation_url: 'https://docs.github.com/rest/commits/statuses',
          status: '422',
        });
      const list = (state.statuses[sha] ?? []).map((s, k) => ({
        url: `${origin}${prefix}/repos/${o}/${r}/statuses/${sha}`,
        avatar_url: 'https://avatars.githubusercontent.com/oa/4808?v=4',
        id: 30_000 + k,
        node_id: `SC_kwDOfake${k}`,
        state: s.state,
        description: `${s.state} status`,
        target_url: `https://ci.example.com/build/${k}`,
        context: s.context ?? `ci/legacy-${k + 1}`,
        created_at: FAKE_EPOCH,
        updated_at: FAKE_EPOCH,
      }));
      // GitHub's combined state: failure if any error or failure, pending if any pending or none.
      const combined = list.some((s) => s.state === 'error' || s.state === 'failure')
        ? 'failure'
        : list.length === 0 || list.some((s) => s.state === 'pending')
          ? 'pending'
          : 'success';
      const pg = page(url, list);
      return send(
        res,
        200,
        {
          state: combined,
          statuses: pg.items,
          sha,
          total_count: list.length,
          repository: repoJson(o, r),
          commit_url: `${origin}${prefix}/repos/${o}/${r}/commits/${sha}`,
          url: `${origin}${prefix}/repos/${o}/${r}/commits/${sha}/status`,
        },
        pg.headers,
      );
    }
    if ((m = /^git\/commits\/([^/]+)$/.exec(rest))) {
      const sha = m[1]!;
      if (!shaKnown(o, r, sha)) return notFound(res);
      const date = state.commitDates[sha] ?? FAKE_EPOCH;
      return send(res, 200, {
        sha,
        node_id: `C_kwDOfake`,
        url: `${origin}${prefix}/repos/${o}/${r}/git/commits/${sha}`,
        html_url: `https://github.com/${o}/${r}/commit/${sha}`,
        author: { name: 'Octo Cat', email: 'octocat@example.com', date },
        committer: { name: 'Octo Cat', email: 'octocat@example.com', date },
        tree: { sha: '1'.repeat(40), url: `${origin}${prefix}/repos/${o}/${r}/git/trees/${'1'.repeat(40)}` },
        message: 'Fix the thing',
        parents: [
          {
            sha: '2'.repeat(40),
            url: `${origin}${prefix}/repos/${o}/${r}/git/commits/${'2'.repeat(40)}`,
            html_url: `https://github.com/${o}/${r}/commit/${'2'.repeat(40)}`,
          },
        ],
        verification: {
          verified: false,
          reason: 'unsigned',
          signature: null,
          payload: null,
          verified_at: null,
        },
      });
    }
    return notFound(res);
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', origin);
    state.requests.push({
      method: req.method ?? 'GET',
      path: `${url.pathname}${url.search}`,
      headers: { ...req.headers },
    });
    const fault = state.faults.find(
      (f) =>
        (f.times ?? 1) > 0 &&
        (typeof f.path === 'string'
          ? url.pathname.includes(f.path)
          : f.path.test(`${url.pathname}${url.search}`)),
    );
    if (fault?.times !== undefined) fault.times--;
    if (fault?.hang) return;
    const answer = () => {
      if (fault?.status !== undefined)
        return send(res, fault.status, fault.body ?? { message: 'fault' }, fault.headers);
      if (req.method !== 'GET')
        return send(res, 404, {
          message: 'Not Found',
          documentation_url: 'https://docs.github.com/rest',
          status: '404',
        });
      if (!url.pathname.startsWith(`${prefix}/`)) return notFound(res);
      const auth = req.headers.authorization;
      if (state.tokens && auth && !state.tokens.includes(auth.replace(/^(bearer|token)\s+/i, ''))) {
        return send(res, 401, {
          message: 'Bad credentials',
          documentation_url: 'https://docs.github.com/rest',
          status: '401',
        });
      }
      try {
        return route(url, res);
      } catch (e) {
        // A bug in the fake answers 500 at once rather than leaving the client to time out.
        return send(res, 500, { message: `fake GitHub failed: ${(e as Error).stack ?? e}` });
      }
    };
    if (fault?.delayMs) {
      const t = setTimeout(() => {
        timers.delete(t);
        answer();
      }, fault.delayMs);
      timers.add(t);
    } else answer();
  };

  const server = createServer(handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    for (const t of timers) clearTimeout(t);
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  onCleanup(close);
  return { url: `${origin}${prefix}`, state, close };
};
