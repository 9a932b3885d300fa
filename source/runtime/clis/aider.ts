import type { AttemptEventInput, ErrorClass } from '../../model/attempt.js';
import { baseClassify, classifyText, textParser } from './common.js';
import type { CliAdapter, Failure, RunEnd } from './types.js';

/**
 * aider (PyPI `aider-chat`): text only. Lines read from its source (Aider-AI/aider):
 * coders/base_coder.py prints the usage report `Tokens: 3.0k sent, 1.2k cache write, 2.0k cache
 * hit, 42 received. Cost: $0.0063 message, $0.0063 session.` (utils.format_tokens: under 1000 as
 * is, under 10000 with one decimal and `k`, else rounded `k`) and `Applied edit to <path>`;
 * a failed model call prints str(err) of a litellm exception (`litellm.RateLimitError: ...`),
 * then its description from exceptions.py (kept as text).
 */

/** "3.0k" -> 3000, "42" -> 42 (format_tokens' rounding is as good as it gets). */
const tokens = (s: string | undefined): number => {
  const m = /^([\d.]+)(k?)$/.exec(s?.trim() ?? '');
  if (!m) return 0;
  const n = Number(m[1]) * (m[2] ? 1000 : 1);
  return Number.isFinite(n) ? Math.round(n) : 0;
};

const USAGE =
  /^Tokens: ([\d.]+k?) sent(?:, ([\d.]+k?) cache write)?(?:, ([\d.]+k?) cache hit)?, ([\d.]+k?) received\.(?:\s+Cost: \$([\d.]+) message, \$([\d.]+) session\.)?/;

/** litellm exception class names (the ones aider's exceptions.py lists) to a class and tt's words. */
const LITELLM: Record<string, { class: ErrorClass; words: string }> = {
  RateLimitError: { class: 'rate_limit', words: 'rate limited' },
  RouterRateLimitError: { class: 'rate_limit', words: 'rate limited' },
  BudgetExceededError: { class: 'rate_limit', words: 'budget exceeded' },
  AuthenticationError: { class: 'auth', words: 'authentication failed' },
  ContextWindowExceededError: { class: 'api', words: 'the request exceeded the model context window' },
  ContentPolicyViolationError: { class: 'api', words: 'refused by a content policy' },
  NotFoundError: { class: 'api', words: 'model or endpoint not found' },
  Timeout: { class: 'api', words: 'the API timed out' },
  APIConnectionError: { class: 'api', words: 'could not reach the API' },
  InternalServerError: { class: 'api', words: 'API server error' },
  ServiceUnavailableError: { class: 'api', words: 'API server error' },
  BadRequestError: { class: 'api', words: 'API refused the request' },
};

const special = (line: string): AttemptEventInput[] | undefined => {
  const u = USAGE.exec(line);
  if (u) {
    const usage: AttemptEventInput = {
      kind: 'usage',
      input: tokens(u[1]),
      cachedInput: tokens(u[3]),
      output: tokens(u[4]),
    };
    const session = u[6] !== undefined ? Number(u[6]) : NaN;
    return Number.isFinite(session) ? [usage, { kind: 'cost', usd: session }] : [usage];
  }
  const edit = /^Applied edit to (.+)$/.exec(line);
  if (edit) return [{ kind: 'tool_call', tool: 'edit', summary: `Edit ${edit[1]}` }];
  const lite = /^litellm\.(\w+):\s*([\s\S]*)$/.exec(line);
  if (lite) {
    const known = LITELLM[lite[1]!] ?? { class: 'api' as const, words: `API error (${lite[1]})` };
    const c = classifyText(lite[2]!);
    // The line itself is kept as a message; aider's own description of it follows as text.
    return [
      { kind: 'message', text: line },
      { kind: 'error', class: known.class, text: c?.class === known.class ? c.text : known.words },
    ];
  }
  return undefined;
};

const NOISE = [/^Tokens: /];

const classify = (end: RunEnd): Failure | undefined => {
  if (end.exitCode === 0 && end.signal === null) {
    // It may give up on a failing model and still exit 0: an error after its last usage report
    // is how the attempt ended.
    const err = end.events.findLastIndex((e) => e.kind === 'error');
    const used = end.events.findLastIndex((e) => e.kind === 'usage');
    if (err > used) {
      const e = end.events[err] as Extract<AttemptEventInput, { kind: 'error' }>;
      return { class: e.class, reason: e.text };
    }
    return undefined;
  }
  return baseClassify(end, { noise: NOISE, readTail: true });
};

export const aider: CliAdapter = {
  name: 'aider',
  bin: 'aider',
  args: [
    '--yes-always',
    '--no-auto-commits',
    '--no-stream',
    '--no-pretty',
    '--no-check-update',
    '--message-file',
    '/dev/stdin',
  ],
  env: [],
  setup:
    'the API key of its model provider (ANTHROPIC_API_KEY, OPENAI_API_KEY, ...) and a model (AIDER_MODEL or .aider.conf.yml)',
  install: 'python3 -m pip install aider-chat==0.86.2',
  release: '0.86.2',
  // --yes-always answers "no" to shell commands (they need an explicit yes), so aider cannot run
  // `tt task complete`: its exit code is all there is.
  judge: 'exit',
  verify: 'contract',
  versionArgs: ['--version'],
  helpArgs: ['--help'],
  credentials: {
    env: ['ANTHROPIC_API_KEY', 'OPENAI_API_KEY', 'GEMINI_API_KEY', 'DEEPSEEK_API_KEY', 'OPENROUTER_API_KEY'],
    files: ['.aider.conf.yml'],
  },
  parser: () => textParser(special),
  classify,
};
