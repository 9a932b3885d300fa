import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  aggregateCi,
  changesRequested,
  checkState,
  ciState,
  GitHubError,
  isBugbotComment,
  isMergeable,
  pullStateOf,
  type CiState,
  type IssueRef,
} from '../../source/github/client.js';
import { extractPrRefs } from '../../source/model/submission.js';
import {
  githubToken,
  MAX_PAGES,
  RestGitHubClient,
  type CommandRunner,
  type RestGitHubOptions,
} from '../../source/github/rest.js';
import { ManualClock } from '../../source/model/clock.js';
import { parseIssueRef } from '../../source/model/github-ref.js';
import { TtError, UsageError } from '../../source/model/errors.js';
import {
  FAKE_EPOCH,
  startFakeGitHub,
  type FakeComment,
  type FakeGitHub,
  type FakeGitHubState,
} from '../helpers/fake-github.js';

const SHA = 'a1b2c3d4'.repeat(5);
const OLD_SHA = '0f0f0f0f'.repeat(5);
const PR: IssueRef = { owner: 'acme', repo: 'widgets', number: 7 };

const clientFor = (gh: FakeGitHub, extra: Partial<RestGitHubOptions> = {}) =>
  new RestGitHubClient({ baseUrl: gh.url, userAgent: 'tt-test/1.0', timeoutMs: 5000, ...extra });

/** A fake with PR acme/widgets#7 at head SHA, shaped further by `setup`. */
const withPull = async (setup: (s: FakeGitHubState) => void = () => {}) => {
  const gh = await startFakeGitHub();
  gh.state.addPull({ owner: 'acme', repo: 'widgets', number: 7, headSha: SHA });
  setup(gh.state);
  return gh;
};

/** The GitHubError a promise rejects with (fails the test when it resolves). */
const failure = async (p: Promise<unknown>): Promise<GitHubError> => {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(GitHubError);
    expect(e).toBeInstanceOf(TtError);
    expect((e as Error).message).not.toContain('\n');
    return e as GitHubError;
  }
  throw new Error('expected a GitHubError, got an answer');
};

describe('check mapping', () => {
  it.each([
    ['success', 'success'],
    ['neutral', 'success'],
    ['skipped', 'success'],
    ['SUCCESS', 'success'],
    ['queued', 'pending'],
    ['pending', 'pending'],
    ['in_progress', 'pending'],
    ['expected', 'pending'],
    ['waiting', 'pending'],
    ['requested', 'pending'],
    ['IN_PROGRESS', 'pending'],
    ['failure', 'failure'],
    ['failed', 'failure'],
    ['timed_out', 'failure'],
    ['action_required', 'failure'],
    ['cancelled', 'failure'],
    ['startup_failure', 'failure'],
    ['stale', 'failure'],
    ['error', 'failure'],
    ['TIMED_OUT', 'failure'],
    ['mystery', 'unknown'],
    ['', 'unknown'],
    [null, 'unknown'],
  ] as const)('%s -> %s', (word, want) => {
    expect(checkState(word)).toBe(want);
  });

  it.each([
    [[], 'none'],
    [['success'], 'success'],
    [['success', 'success'], 'success'],
    [['success', 'pending'], 'pending'],
    [['pending', 'unknown'], 'unknown'],
    [['success', 'unknown'], 'unknown'],
    [['unknown', 'failure', 'pending'], 'failure'],
    [['success', 'failure'], 'failure'],
  ] as [CiState[], CiState][])('aggregate %j -> %s', (states, want) => {
    expect(aggregateCi(states)).toBe(want);
  });

  it('reads a check run by its conclusion once completed, else by its status', () => {
    expect(ciState([{ status: 'completed', conclusion: 'success' }], [])).toBe('success');
    expect(ciState([{ status: 'completed', conclusion: 'failure' }], [])).toBe('failure');
    expect(ciState([{ status: 'in_progress', conclusion: null }], [])).toBe('pending');
    expect(ciState([{ status: 'completed', conclusion: null }], [])).toBe('unknown');
    expect(ciState([], [{ state: 'success' }, { state: 'pending' }])).toBe('pending');
    expect(ciState([], [])).toBe('none');
  });

  it("a PR is merged when `merged` is true or `merged_at` is set (GitHub's own example has merged: false with merged_at)", () => {
    expect(pullStateOf('closed', true, '2011-01-26T19:01:12Z')).toBe('merged');
    expect(pullStateOf('closed', false, '2011-01-26T19:01:12Z')).toBe('merged');
    expect(pullStateOf('open', false, '2011-01-26T19:01:12Z')).toBe('merged');
    expect(pullStateOf('closed', true, null)).toBe('merged');
    expect(pullStateOf('closed', false, null)).toBe('closed');
    expect(pullStateOf('closed', undefined, undefined)).toBe('closed');
    expect(pullStateOf('open', null, null)).toBe('open');
    expect(pullStateOf('open', false, '')).toBe('open');
  });
});

describe('mergeable, review and bugbot rules', () => {
  it.each([
    ['open', true, 'clean', true],
    ['open', true, 'has_hooks', true],
    ['open', true, 'unstable', true],
    ['open', false, 'dirty', false],
    ['open', true, 'blocked', false],
    ['open', true, 'behind', false],
    ['open', true, 'draft', false],
    ['open', true, 'unknown', true],
    ['open', null, 'unknown', false],
    ['open', null, undefined, false],
    ['closed', true, 'clean', false],
    ['merged', null, 'unknown', false],
  ] as const)('%s, mergeable %s, state %s -> %s', (state, flag, ms, want) => {
    expect(isMergeable(state, flag, ms)).toBe(want);
  });

  const r = (login: string, state: string, minute: number) => ({
    login,
    state,
    submittedAt: `2026-01-01T00:${String(minute).padStart(2, '0')}:00Z`,
  });
  it.each([
    ['no reviews', [], false],
    ['one change request', [r('ann', 'CHANGES_REQUESTED', 1)], true],
    [
      'then approved by the same reviewer',
      [r('ann', 'CHANGES_REQUESTED', 1), r('ann', 'APPROVED', 2)],
      false,
    ],
    ['approved, then changes requested', [r('ann', 'APPROVED', 1), r('ann', 'CHANGES_REQUESTED', 2)], true],
    ['approved by someone else', [r('ann', 'CHANGES_REQUESTED', 1), r('bob', 'APPROVED', 2)], true],
    ['a later comment does not lift it', [r('ann', 'CHANGES_REQUESTED', 1), r('ann', 'COMMENTED', 2)], true],
    ['dismissed', [r('ann', 'CHANGES_REQUESTED', 1), r('ann', 'DISMISSED', 2)], false],
    ['order by time, not by position', [r('ann', 'APPROVED', 5), r('ann', 'CHANGES_REQUESTED', 1)], false],
    [
      'reviewer logins compare without case',
      [r('Ann', 'CHANGES_REQUESTED', 1), r('ann', 'APPROVED', 2)],
      false,
    ],
    [
      'unsubmitted drafts do not count',
      [{ login: 'ann', state: 'CHANGES_REQUESTED', submittedAt: null }],
      false,
    ],
  ] as const)('%s', (_name, reviews, want) => {
    expect(changesRequested(reviews)).toBe(want);
  });

  it.each([
    [{ login: 'cursor[bot]', body: 'Potential null dereference' }, true],
    [{ login: 'bugbot-ci', userType: 'Bot', body: 'found 2 issues' }, true],
    [{ login: 'review-helper[bot]', body: 'Bugbot found an issue' }, true],
    [{ login: 'github-actions[bot]', body: 'Build passed' }, false],
    [{ login: 'ann', userType: 'User', body: 'bugbot run' }, false],
    [{ login: 'cursor-fan', userType: 'User', body: 'lgtm' }, false],
  ] as const)('%j is bugbot: %s', (c, want) => {
    expect(isBugbotComment(c)).toBe(want);
  });
});

describe('RestGitHubClient: issues', () => {
  it('fetches an issue with its labels, sending GitHub headers and no auth without a token', async () => {
    const gh = await startFakeGitHub();
    gh.state.addIssue({
      owner: 'acme',
      repo: 'widgets',
      number: 23,
      title: 'Add backend API',
      body: 'Depends on #22',
      labels: ['backend', 'p1'],
    });
    gh.state.addIssue({
      owner: 'acme',
      repo: 'widgets',
      number: 24,
      title: 'Closed one',
      body: null,
      state: 'closed',
    });
    const c = clientFor(gh);
    expect(await c.issue({ owner: 'acme', repo: 'widgets', number: 23 })).toEqual({
      ref: { owner: 'acme', repo: 'widgets', number: 23 },
      title: 'Add backend API',
      body: 'Depends on #22',
      state: 'open',
      labels: ['backend', 'p1'],
    });
    expect(await c.issue({ owner: 'acme', repo: 'widgets', number: 24 })).toMatchObject({
      state: 'closed',
      body: '',
      labels: [],
    });
    const [req] = gh.state.requests;
    expect(req).toMatchObject({ method: 'GET', path: '/repos/acme/widgets/issues/23' });
    expect(req!.headers).toMatchObject({
      accept: 'application/vnd.github+json',
      'x-github-api-version': '2022-11-28',
      'user-agent': 'tt-test/1.0',
    });
    expect(req!.headers.authorization).toBeUndefined();
  });

  it('sends the token as a Bearer header when given', async () => {
    const gh = await startFakeGitHub();
    gh.state.addIssue({ owner: 'acme', repo: 'widgets', number: 1, title: 't' });
    gh.state.tokens = ['ghp_right'];
    await clientFor(gh, { token: 'ghp_right' }).issue({ owner: 'acme', repo: 'widgets', number: 1 });
    expect(gh.state.requests.map((r) => r.headers.authorization)).toEqual(['Bearer ghp_right']);
  });

  it('works against an Enterprise base path (/api/v3)', async () => {
    const gh = await startFakeGitHub({ prefix: '/api/v3' });
    expect(gh.url).toMatch(/\/api\/v3$/);
    gh.state.addIssue({ owner: 'acme', repo: 'widgets', number: 3, title: 'on GHE' });
    expect((await clientFor(gh).issue({ owner: 'acme', repo: 'widgets', number: 3 })).title).toBe('on GHE');
    expect(gh.state.requests[0]!.path).toBe('/api/v3/repos/acme/widgets/issues/3');
  });
});

describe('RestGitHubClient: pull request state', () => {
  it('reads head, state, mergeable and review/bot state from the six endpoints', async () => {
    const gh = await withPull((s) => {
      s.checkRuns[SHA] = [{ name: 'build', status: 'completed', conclusion: 'success' }];
    });
    expect(await clientFor(gh).pull(PR)).toEqual({
      ref: PR,
      headSha: SHA,
      state: 'open',
      ci: 'success',
      mergeable: true,
      changesRequested: false,
      bugbotComments: 0,
    });
    const paths = gh.state.requests.map((r) => r.path.split('?')[0]).sort();
    expect(paths).toEqual(
      [
        '/repos/acme/widgets/pulls/7',
        `/repos/acme/widgets/commits/${SHA}/check-runs`,
        `/repos/acme/widgets/commits/${SHA}/status`,
        '/repos/acme/widgets/pulls/7/reviews',
        `/repos/acme/widgets/git/commits/${SHA}`,
        '/repos/acme/widgets/issues/7/comments',
      ].sort(),
    );
  });

  it.each([
    [
      'green',
      [
        { status: 'completed', conclusion: 'success' },
        { status: 'completed', conclusion: 'skipped' },
      ],
      [{ state: 'success' }],
      'success',
    ],
    [
      'red check run',
      [
        { status: 'completed', conclusion: 'success' },
        { status: 'completed', conclusion: 'failure' },
      ],
      [{ state: 'success' }],
      'failure',
    ],
    [
      'running check run',
      [{ status: 'in_progress' }, { status: 'completed', conclusion: 'success' }],
      [],
      'pending',
    ],
    ['queued check run', [{ status: 'queued' }], [], 'pending'],
    [
      'green checks, pending status',
      [{ status: 'completed', conclusion: 'success' }],
      [{ state: 'pending' }],
      'pending',
    ],
    [
      'green checks, failed status',
      [{ status: 'completed', conclusion: 'success' }],
      [{ state: 'success' }, { state: 'failure' }],
      'failure',
    ],
    [
      'green checks, errored status',
      [{ status: 'completed', conclusion: 'neutral' }],
      [{ state: 'error' }],
      'failure',
    ],
    ['statuses only, green', [], [{ state: 'success' }], 'success'],
    ['pending check, failed status', [{ status: 'queued' }], [{ state: 'failure' }], 'failure'],
    [
      'odd conclusion',
      [
        { status: 'completed', conclusion: 'success' },
        { status: 'completed', conclusion: 'mystery' },
      ],
      [],
      'unknown',
    ],
    ['no checks and no statuses', [], [], 'none'],
  ] as const)('CI %s -> %s', async (_name, runs, statuses, want) => {
    const gh = await withPull((s) => {
      s.checkRuns[SHA] = runs.map((r) => ({ ...r }));
      s.statuses[SHA] = statuses.map((r) => ({ ...r }));
    });
    expect((await clientFor(gh).pull(PR)).ci).toBe(want);
  });

  it('follows pages of check runs', async () => {
    const gh = await withPull((s) => {
      s.checkRuns[SHA] = Array.from({ length: 150 }, (_, k) => ({
        status: 'completed',
        conclusion: k === 140 ? 'failure' : 'success',
      }));
    });
    expect((await clientFor(gh).pull(PR)).ci).toBe('failure');
    expect(gh.state.requestsTo('/check-runs')).toHaveLength(2);
  });

  it.each([
    [{ mergeableState: 'clean' }, 'open', true],
    [{ mergeableState: 'unstable' }, 'open', true],
    [{ mergeableState: 'has_hooks' }, 'open', true],
    [{ mergeable: false, mergeableState: 'dirty' }, 'open', false],
    [{ mergeableState: 'blocked' }, 'open', false],
    [{ mergeable: null, mergeableState: 'unknown' }, 'open', false],
    [{ state: 'closed' as const }, 'closed', false],
    [{ merged: true }, 'merged', false],
    // GitHub's pulls/get example: merged false, merged_at set. Counted as merged (see pullStateOf).
    [{ state: 'closed' as const, merged: false, mergedAt: '2011-01-26T19:01:12Z' }, 'merged', false],
    [{ merged: true, mergedAt: null }, 'merged', false],
  ])('pull %j is %s, mergeable %s', async (shape, state, mergeable) => {
    const gh = await startFakeGitHub();
    gh.state.addPull({ owner: 'acme', repo: 'widgets', number: 7, headSha: SHA, ...shape });
    expect(await clientFor(gh).pull(PR)).toMatchObject({ state, mergeable });
  });

  it.each([
    [
      'changes requested, then approved by the same reviewer',
      [
        ['ann', 'CHANGES_REQUESTED'],
        ['ann', 'APPROVED'],
      ],
      false,
    ],
    [
      'changes requested, approved by another',
      [
        ['ann', 'CHANGES_REQUESTED'],
        ['bob', 'APPROVED'],
      ],
      true,
    ],
    [
      'approved, then changes requested',
      [
        ['ann', 'APPROVED'],
        ['ann', 'CHANGES_REQUESTED'],
      ],
      true,
    ],
    [
      'changes requested, then a comment',
      [
        ['ann', 'CHANGES_REQUESTED'],
        ['ann', 'COMMENTED'],
      ],
      true,
    ],
    [
      'only comments and a draft',
      [
        ['ann', 'COMMENTED'],
        ['bob', 'PENDING'],
      ],
      false,
    ],
  ] as const)('%s -> changesRequested %s', async (_name, reviews, want) => {
    const gh = await withPull((s) => {
      s.reviews['acme/widgets#7'] = reviews.map(([login, state]) => ({ login, state }));
    });
    expect((await clientFor(gh).pull(PR)).changesRequested).toBe(want);
  });

  it('counts bugbot comments across pages, and only bots on the current head', async () => {
    const gh = await withPull((s) => {
      s.commitDates[SHA] = '2026-01-02T00:00:00Z';
      const after = (min: number) =>
        new Date(Date.parse('2026-01-02T00:00:00Z') + min * 60_000).toISOString();
      const comments: FakeComment[] = Array.from({ length: 250 }, (_, k) => ({
        login: `dev${k % 3}`,
        body: `comment ${k}`,
        createdAt: after(k),
      }));
      comments[5] = { login: 'ann', body: 'bugbot run', createdAt: after(5) }; // a person asking: not a finding
      comments[120] = { login: 'cursor[bot]', body: 'Bugbot found 1 potential issue', createdAt: after(120) };
      comments[240] = { login: 'github-actions[bot]', body: 'Deploy preview ready', createdAt: after(240) };
      comments[245] = {
        login: 'review-robot',
        userType: 'Bot',
        body: 'Bugbot: possible race',
        createdAt: after(245),
      };
      s.comments['acme/widgets#7'] = [
        { login: 'cursor[bot]', body: 'Bugbot found 3 issues', createdAt: '2026-01-01T12:00:00Z' }, // on an older head
        {
          login: 'cursor[bot]',
          body: 'Bugbot reviewed the new head',
          createdAt: '2026-01-01T12:00:00Z',
          updatedAt: after(1),
        }, // edited since
        ...comments,
      ];
      s.reviews['acme/widgets#7'] = [
        { login: 'cursor[bot]', state: 'COMMENTED', body: 'Bugbot review', commitId: OLD_SHA },
        { login: 'cursor[bot]', state: 'COMMENTED', body: '' },
        { login: 'ann', state: 'COMMENTED', body: 'what does bugbot say?' },
      ];
    });
    const pull = await clientFor(gh).pull(PR);
    // edited summary + page-2 comment + page-3 bot comment + the review on the head
    expect(pull.bugbotComments).toBe(4);
    const pages = gh.state
      .requestsTo('/issues/7/comments')
      .map((r) => new URL(r.path, 'http://x').searchParams);
    expect(pages.map((q) => q.get('page') ?? '1')).toEqual(['1', '2', '3']);
    expect(pages.every((q) => q.get('per_page') === '100' && q.get('since') === '2026-01-02T00:00:00Z')).toBe(
      true,
    );
  });

  it(`follows at most ${MAX_PAGES} pages of comments`, async () => {
    const gh = await withPull((s) => {
      s.comments['acme/widgets#7'] = Array.from({ length: 100 * (MAX_PAGES + 3) }, (_, k) => ({
        login: 'dev',
        body: `c${k}`,
      }));
    });
    await clientFor(gh).pull(PR);
    expect(gh.state.requestsTo('/issues/7/comments')).toHaveLength(MAX_PAGES);
  });

  it('refuses a next-page link to another host (the token would go with it)', async () => {
    const gh = await withPull((s) => {
      s.faults.push({
        path: '/issues/7/comments',
        status: 200,
        body: [],
        headers: {
          link: '<https://evil.example.com/repos/acme/widgets/issues/7/comments?page=2>; rel="next"',
        },
      });
    });
    const e = await failure(clientFor(gh, { token: 'ghp_secret' }).pull(PR));
    expect(e.message).toMatch(/next-page link outside 127\.0\.0\.1/);
  });

  it('reports a PR fetched on the issues endpoint as an issue', async () => {
    const gh = await withPull();
    expect(await clientFor(gh).issue(PR)).toMatchObject({ ref: PR, title: 'PR 7', state: 'open' });
  });
});

describe('RestGitHubClient: errors', () => {
  it('401: the token was rejected, and the message never shows it', async () => {
    const gh = await withPull((s) => {
      s.tokens = ['ghp_good'];
    });
    const e = await failure(clientFor(gh, { token: 'ghp_stale_secret' }).pull(PR));
    expect(e.status).toBe(401);
    expect(e.message).toMatch(/^GitHub rejected the token \(401 Bad credentials\)/);
    expect(e.message).not.toContain('ghp_stale_secret');
  });

  it('403 bad credentials reads as a rejected token; another 403 as refused access', async () => {
    const gh = await withPull((s) => {
      s.fail('/pulls/7', 403, 'Bad credentials', 1);
      s.fail('/pulls/7', 403, 'Resource not accessible by personal access token', 1);
    });
    const c = clientFor(gh, { token: 'ghp_x' });
    expect((await failure(c.pull(PR))).message).toMatch(/^GitHub rejected the token \(403/);
    const e = await failure(c.pull(PR));
    expect(e.message).toBe(
      'GitHub refused access to acme/widgets#7 (403: Resource not accessible by personal access token)',
    );
    expect(e.retryAfterMs).toBeUndefined();
  });

  it('404 names the reference', async () => {
    const gh = await withPull();
    const e = await failure(clientFor(gh).pull({ owner: 'acme', repo: 'widgets', number: 99 }));
    expect(e.status).toBe(404);
    expect(e.message).toBe('acme/widgets#99 not found (or the token cannot see it)');
    expect(
      (await failure(clientFor(gh).issue({ owner: 'nobody', repo: 'nothing', number: 1 }))).message,
    ).toBe('nobody/nothing#1 not found (or the token cannot see it)');
  });

  it('403 with x-ratelimit-remaining 0: rate limit, retry at the reset time', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1, 12, 0, 0));
    const gh = await withPull((s) => {
      s.rateLimit('/pulls/7', { resetEpochSecs: clock.now() / 1000 + 120 });
    });
    const e = await failure(clientFor(gh, { clock }).pull(PR));
    expect(e.status).toBe(403);
    expect(e.retryAfterMs).toBe(120_000);
    expect(e.message).toMatch(/^GitHub rate limit reached; retry after 120s/);
    expect(e.message).toMatch(/set GITHUB_TOKEN/); // no token: says how to raise the limit
  });

  it('429 with retry-after: rate limit, retry after that many seconds', async () => {
    const gh = await withPull((s) => {
      s.rateLimit(/\/reviews/, { retryAfterSecs: 30 });
    });
    const e = await failure(clientFor(gh, { token: 'ghp_x' }).pull(PR));
    expect(e.status).toBe(429);
    expect(e.retryAfterMs).toBe(30_000);
    expect(e.message).toBe('GitHub rate limit reached; retry after 30s');
  });

  it('500 says GitHub failed and where', async () => {
    const gh = await withPull((s) => {
      s.fail('/status', 500, 'Server Error');
    });
    const e = await failure(clientFor(gh).pull(PR));
    expect(e.status).toBe(500);
    expect(e.message).toBe(
      `GitHub failed with 500 (Server Error) on GET /repos/acme/widgets/commits/${SHA}/status; try again later`,
    );
  });

  it('a request that gets no answer times out', async () => {
    const gh = await withPull((s) => {
      s.hang('/pulls/7');
    });
    const e = await failure(clientFor(gh, { timeoutMs: 150 }).pull(PR));
    expect(e.status).toBe(0);
    expect(e.message).toBe(
      `GitHub (${new URL(gh.url).host}) did not answer GET /repos/acme/widgets/pulls/7 within 150ms`,
    );
  });

  it('a refused connection says GitHub cannot be reached', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const port = (server.address() as AddressInfo).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const c = new RestGitHubClient({
      baseUrl: `http://127.0.0.1:${port}`,
      userAgent: 't',
      timeoutMs: 5000,
      token: 'ghp_secret',
    });
    const e = await failure(c.issue(PR));
    expect(e.status).toBe(0);
    expect(e.message).toBe(`cannot reach GitHub at 127.0.0.1:${port}: ECONNREFUSED`);
  });

  it('uses an injected fetch, and names a DNS failure', async () => {
    const seen: string[] = [];
    const fetchStub = (async (url: Parameters<typeof fetch>[0]) => {
      seen.push(String(url));
      throw Object.assign(new TypeError('fetch failed'), {
        cause: { code: 'ENOTFOUND', message: 'getaddrinfo ENOTFOUND ghe.invalid' },
      });
    }) as typeof fetch;
    const c = new RestGitHubClient({
      baseUrl: 'https://ghe.invalid/api/v3/',
      userAgent: 't',
      timeoutMs: 1000,
      fetch: fetchStub,
    });
    const e = await failure(c.issue({ owner: 'a', repo: 'b', number: 1 }));
    expect(seen).toEqual(['https://ghe.invalid/api/v3/repos/a/b/issues/1']);
    expect(e.message).toBe('cannot reach GitHub at ghe.invalid/api/v3: ENOTFOUND');
  });

  it('refuses a token that is not one header-safe word without echoing it, and a base URL with credentials', () => {
    const make = (o: Partial<RestGitHubOptions>) => () => new RestGitHubClient({ userAgent: 't', ...o });
    expect(make({ token: 'ghp_abc\ndef' })).toThrow(UsageError);
    expect(make({ token: 'ghp_abc\ndef' })).not.toThrow(/ghp_abc/);
    expect(make({ baseUrl: 'https://me:secret@ghe.example.com/api/v3' })).toThrow(
      /must not carry credentials/,
    );
    expect(make({ baseUrl: 'not a url' })).toThrow(/is not a URL/);
  });
});

describe('parseIssueRef', () => {
  const here = { owner: 'acme', repo: 'widgets' };
  it.each([
    ['23', here, { owner: 'acme', repo: 'widgets', number: 23 }],
    ['#23', here, { owner: 'acme', repo: 'widgets', number: 23 }],
    [' 23 ', here, { owner: 'acme', repo: 'widgets', number: 23 }],
    ['octo/hello-world#5', undefined, { owner: 'octo', repo: 'hello-world', number: 5 }],
    ['octo/socket.io#5', here, { owner: 'octo', repo: 'socket.io', number: 5 }],
    ['https://github.com/octo/repo/issues/23', undefined, { owner: 'octo', repo: 'repo', number: 23 }],
    ['https://github.com/octo/repo/pull/42', undefined, { owner: 'octo', repo: 'repo', number: 42 }],
    ['https://github.com/octo/repo/pull/42/files', undefined, { owner: 'octo', repo: 'repo', number: 42 }],
    [
      'https://github.com/octo/repo/issues/23#issuecomment-1',
      undefined,
      { owner: 'octo', repo: 'repo', number: 23 },
    ],
    ['https://ghe.corp.example/team/svc/issues/9', undefined, { owner: 'team', repo: 'svc', number: 9 }],
  ] as const)('%j -> %j', (input, repo, want) => {
    expect(parseIssueRef(input, repo)).toEqual(want);
  });

  it('a bare number needs a default repository', () => {
    expect(() => parseIssueRef('23')).toThrow(
      '"23" names no repository: write owner/repo#23 or a GitHub URL',
    );
  });

  it.each([
    '',
    'abc',
    '0',
    'octo/repo',
    'octo/repo#',
    'octo/repo#0',
    'octo#3',
    'a/b/c#3',
    'https://github.com/octo/repo',
    'https://github.com/octo/repo/tree/23',
    'ftp://github.com/o/r/issues/2',
    '../x#1',
  ])('refuses %j with a one-line message naming it', (input) => {
    let msg = '';
    try {
      parseIssueRef(input, input === '0' ? here : undefined);
    } catch (e) {
      expect(e).toBeInstanceOf(UsageError);
      msg = (e as Error).message;
    }
    expect(msg).toContain(`"${input}"`);
    expect(msg).not.toContain('\n');
  });
});

// The one PR-reference extractor (model/submission.ts), on the texts a GitHub result holds.
describe('extractPrRefs', () => {
  it.each([
    ['', []],
    ['no refs here, just #12 and a/b', []],
    ['Opened https://github.com/acme/widgets/pull/12.', [{ owner: 'acme', repo: 'widgets', number: 12 }]],
    [
      'PRs: zeta/app#3, acme/widgets#12 and https://github.com/acme/widgets/pull/12 again, plus https://ghe.corp/acme/widgets/pull/2',
      [
        { owner: 'acme', repo: 'widgets', number: 2 },
        { owner: 'acme', repo: 'widgets', number: 12 },
        { owner: 'zeta', repo: 'app', number: 3 },
      ],
    ],
    [
      'sorted by number, not text: acme/w#10 acme/w#9',
      [
        { owner: 'acme', repo: 'w', number: 9 },
        { owner: 'acme', repo: 'w', number: 10 },
      ],
    ],
    ['case-blind duplicates: Acme/W#1 acme/w#1', [{ owner: 'Acme', repo: 'W', number: 1 }]],
    ['not PR URLs: https://github.com/acme/widgets/issues/4 https://github.com/acme/widgets#5', []],
    ['inside a path: see github.com/acme/widgets#5', []],
    ['(fixes acme/socket.io#8)', [{ owner: 'acme', repo: 'socket.io', number: 8 }]],
  ] as const)('%j', (text, want) => {
    expect(extractPrRefs(text)).toEqual(want.map((r) => `${r.owner}/${r.repo}#${r.number}`));
  });
});

describe('githubToken', () => {
  const runner = (reply: ReturnType<CommandRunner>) => {
    const calls: string[][] = [];
    const run: CommandRunner = (cmd, args) => {
      calls.push([cmd, ...args]);
      return reply;
    };
    return { run, calls };
  };

  it('takes GITHUB_TOKEN, else GH_TOKEN, without asking gh', () => {
    const r = runner({ status: 0, stdout: 'gho_from_gh\n' });
    expect(githubToken({ GITHUB_TOKEN: ' ghp_a ', GH_TOKEN: 'ghp_b' }, r.run)).toBe('ghp_a');
    expect(githubToken({ GITHUB_TOKEN: '', GH_TOKEN: 'ghp_b' }, r.run)).toBe('ghp_b');
    expect(r.calls).toEqual([]);
  });

  it('falls back to gh auth token', () => {
    const r = runner({ status: 0, stdout: 'gho_from_gh\n' });
    expect(githubToken({}, r.run)).toBe('gho_from_gh');
    expect(r.calls).toEqual([['gh', 'auth', 'token']]);
  });

  it('asks gh for an Enterprise host by name', () => {
    const r = runner({ status: 0, stdout: 'gho_ghe\n' });
    expect(githubToken({}, r.run, 'ghe.corp.example')).toBe('gho_ghe');
    expect(r.calls).toEqual([['gh', 'auth', 'token', '--hostname', 'ghe.corp.example']]);
  });

  it.each([
    ['gh is not installed', undefined],
    ['gh is not logged in', { status: 1, stdout: '' }],
    ['gh prints nothing', { status: 0, stdout: '\n' }],
    ['gh timed out', { status: null, stdout: '' }],
  ] as const)('no token when %s', (_name, reply) => {
    expect(githubToken({ HOME: '/nowhere' }, runner(reply).run)).toBeUndefined();
  });

  it('the default runner copes with gh missing from PATH', () => {
    expect(githubToken({ PATH: '/nonexistent-dir' })).toBeUndefined();
  });
});

// The fake's model is read as GitHub would serve it: a sanity check on its shape.
describe('fake GitHub', () => {
  it('answers with GitHub-shaped JSON and pages with Link headers', async () => {
    const gh = await withPull((s) => {
      s.comments['acme/widgets#7'] = Array.from({ length: 5 }, (_, k) => ({ login: 'dev', body: `c${k}` }));
    });
    const res = await fetch(`${gh.url}/repos/acme/widgets/issues/7/comments?per_page=2&page=2`);
    const body = (await res.json()) as { body: string; user: { login: string }; created_at: string }[];
    expect(body.map((c) => c.body)).toEqual(['c2', 'c3']);
    expect(body[0]!.created_at > FAKE_EPOCH).toBe(true);
    expect(res.headers.get('link')).toMatch(/page=3>; rel="next".*page=3>; rel="last".*page=1>; rel="first"/);
    const status = (await (await fetch(`${gh.url}/repos/acme/widgets/commits/${SHA}/status`)).json()) as {
      state: string;
      total_count: number;
    };
    expect(status).toMatchObject({ state: 'pending', total_count: 0 }); // as on GitHub: no statuses reads "pending"
  });
});
