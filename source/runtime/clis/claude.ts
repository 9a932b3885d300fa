import type { AttemptEventInput, ErrorClass } from '../../model/attempt.js';
import {
  arr,
  baseClassify,
  classifyText,
  clip,
  count,
  firstLine,
  jsonLinesParser,
  lastFinished,
  num,
  obj,
  resultSummary,
  str,
  tailLines,
  toolSummary,
  type Json,
} from './common.js';
import type { CliAdapter, Failure, ParseContext, RunEnd } from './types.js';

/**
 * Claude Code (`@anthropic-ai/claude-code`), `--print --output-format stream-json --verbose`:
 * one JSON object a line. The shapes read here are the ones recorded from 2.1.197 against a
 * stand-in model (test/unit/fixtures/clis/claude-*.jsonl) and, for what those runs do not show
 * (rate_limit_event, the error subtypes of `result`), the Agent SDK's message parser
 * (anthropics/claude-agent-sdk-python, _internal/message_parser.py and types.py).
 */

const RATE_STATUS: Record<string, 'allowed' | 'warning' | 'rejected'> = {
  allowed: 'allowed',
  allowed_warning: 'warning',
  rejected: 'rejected',
};

/** `error` on an assistant message (the SDK's AssistantMessageError). */
const ASSISTANT_ERROR: Record<string, { class: ErrorClass; words: string }> = {
  rate_limit: { class: 'rate_limit', words: 'rate limited' },
  billing_error: { class: 'rate_limit', words: 'refused for billing (credit balance or plan)' },
  authentication_failed: { class: 'auth', words: 'authentication failed' },
  server_error: { class: 'api', words: 'API server error' },
  invalid_request: { class: 'api', words: 'API refused the request' },
  unknown: { class: 'api', words: 'API error' },
};

/** `subtype` of a `result` that is not `success`. */
const RESULT_ERROR: Record<string, (o: Json) => { class: ErrorClass; text: string }> = {
  error_max_turns: (o) => ({
    class: 'turn_limit',
    text: `reached its turn limit${num(o.num_turns) !== undefined ? ` after ${num(o.num_turns)} turns` : ''}`,
  }),
  error_max_budget_usd: () => ({ class: 'turn_limit', text: 'reached its budget limit (--max-budget-usd)' }),
  error_max_structured_output_retries: () => ({
    class: 'crash',
    text: 'gave up producing the structured output',
  }),
  error_during_execution: (o) => {
    const first = arr(o.errors).map(str).find(Boolean);
    return { class: 'crash', text: clip(`failed during execution${first ? `: ${firstLine(first)}` : ''}`) };
  },
};

const words = (cls: ErrorClass, text: string, fallback: string): string => {
  const c = classifyText(text);
  return c && c.class === cls ? c.text : fallback;
};

const resultError = (o: Json): AttemptEventInput => {
  const subtype = str(o.subtype) ?? '';
  const bySubtype = RESULT_ERROR[subtype];
  if (bySubtype) return { kind: 'error', ...bySubtype(o) };
  const text = str(o.result) ?? '';
  const status = num(o.api_error_status);
  const c = classifyText(status !== undefined ? `status ${status}: ${text}` : text);
  return c
    ? { kind: 'error', class: c.class, text: c.text }
    : { kind: 'error', class: 'crash', text: clip(firstLine(text) || `ended with ${subtype || 'an error'}`) };
};

/** Claude's usage splits input into uncached, cache-read and cache-written tokens; ours counts them all. */
const usageOf = (input: number, cacheRead: number, cacheWrite: number, output: number, model?: string) => ({
  kind: 'usage' as const,
  input: input + cacheRead + cacheWrite,
  cachedInput: cacheRead,
  output,
  ...(model ? { model } : {}),
});

const handler = (ctx: ParseContext) => {
  let lastAssistantError = false;
  const system = (o: Json): AttemptEventInput[] => {
    if (o.subtype === 'init') {
      const session = str(o.session_id);
      const model = str(o.model);
      return [{ kind: 'init', ...(session ? { session } : {}), ...(model ? { model } : {}) }];
    }
    if (o.subtype === 'api_retry') {
      const status = num(o.error_status);
      const cls: ErrorClass =
        status === 429 ? 'rate_limit' : status === 401 || status === 403 ? 'auth' : 'api';
      const n = num(o.attempt);
      const of = num(o.max_retries);
      return [
        {
          kind: 'error',
          class: cls,
          text: `API error${status !== undefined ? ` ${status}` : ''}, retrying${n !== undefined ? ` (${n}${of !== undefined ? ` of ${of}` : ''})` : ''}`,
        },
      ];
    }
    return [];
  };
  const assistant = (o: Json): AttemptEventInput[] => {
    const err = str(o.error);
    const blocks = arr(obj(o.message)?.content).map(obj);
    if (err) {
      lastAssistantError = true;
      const known = ASSISTANT_ERROR[err] ?? ASSISTANT_ERROR.unknown!;
      const text = blocks.map((b) => str(b?.text) ?? '').join('\n');
      return [{ kind: 'error', class: known.class, text: words(known.class, text, known.words) }];
    }
    lastAssistantError = false;
    const out: AttemptEventInput[] = [];
    for (const b of blocks) {
      if (b?.type === 'text') {
        const text = str(b.text);
        if (text?.trim()) out.push({ kind: 'message', text });
      } else if (b?.type === 'tool_use') {
        const tool = str(b.name) ?? 'tool';
        const id = str(b.id);
        out.push({
          kind: 'tool_call',
          tool,
          summary: toolSummary(tool, b.input, ctx),
          ...(id ? { id } : {}),
        });
      }
    }
    return out;
  };
  const user = (o: Json): AttemptEventInput[] =>
    arr(obj(o.message)?.content)
      .map(obj)
      .filter((b) => b?.type === 'tool_result')
      .map((b) => {
        const id = str(b!.tool_use_id);
        return {
          kind: 'tool_result' as const,
          ok: b!.is_error !== true,
          summary: resultSummary(b!.content),
          ...(id ? { id } : {}),
        };
      });
  const result = (o: Json): AttemptEventInput[] => {
    const out: AttemptEventInput[] = [];
    const failed = o.is_error === true || (str(o.subtype) ?? 'success') !== 'success';
    if (failed && !lastAssistantError) out.push(resultError(o));
    const perModel = Object.entries(obj(o.modelUsage) ?? {})
      .map(([model, v]) => {
        const u = obj(v) ?? {};
        return usageOf(
          count(u.inputTokens),
          count(u.cacheReadInputTokens),
          count(u.cacheCreationInputTokens),
          count(u.outputTokens),
          model,
        );
      })
      .filter((u) => u.input + u.output > 0);
    if (perModel.length) out.push(...perModel);
    else {
      const u = obj(o.usage) ?? {};
      const total = usageOf(
        count(u.input_tokens),
        count(u.cache_read_input_tokens),
        count(u.cache_creation_input_tokens),
        count(u.output_tokens),
      );
      if (total.input + total.output > 0) out.push(total);
    }
    const usd = num(o.total_cost_usd);
    if (usd !== undefined && usd >= 0) out.push({ kind: 'cost', usd });
    const turns = num(o.num_turns);
    const durationMs = num(o.duration_ms);
    const text = str(o.result);
    out.push({
      kind: 'finished',
      ok: !failed,
      ...(turns !== undefined && turns >= 0 ? { turns: Math.floor(turns) } : {}),
      ...(durationMs !== undefined && durationMs >= 0 ? { durationMs } : {}),
      ...(text ? { text } : {}),
    });
    return out;
  };
  const rateLimit = (o: Json): AttemptEventInput[] => {
    const info = obj(o.rate_limit_info) ?? {};
    const status = RATE_STATUS[str(info.status) ?? ''];
    if (!status) return [];
    const resetsAt = num(info.resetsAt);
    const window = str(info.rateLimitType);
    const utilization = num(info.utilization);
    return [
      {
        kind: 'rate_limit',
        status,
        // resetsAt is in epoch seconds; ours is in ms.
        ...(resetsAt !== undefined ? { resetsAt: resetsAt * 1000 } : {}),
        ...(window ? { window } : {}),
        ...(utilization !== undefined ? { utilization } : {}),
      },
    ];
  };
  return {
    event(o: Json): AttemptEventInput[] {
      switch (o.type) {
        case 'system':
          return system(o);
        case 'assistant':
          return assistant(o);
        case 'user':
          return user(o);
        case 'result':
          return result(o);
        case 'rate_limit_event':
          return rateLimit(o);
        default:
          return [];
      }
    },
  };
};

const classify = (end: RunEnd): Failure | undefined => {
  if (end.exitCode !== 0 || end.signal !== null) {
    if (tailLines(end.tail).some((l) => /cannot be used with root\/sudo privileges/i.test(l)))
      return {
        class: 'tool',
        reason: 'refused --dangerously-skip-permissions as root (IS_SANDBOX=1 was not set)',
      };
    // A used-up window with overage off: exit 1, nothing on stderr, the rejected event the only sign.
    const events = end.events;
    const rejected = events.findLastIndex((e) => e.kind === 'rate_limit' && e.status === 'rejected');
    const later = events.findLastIndex((e) => e.kind === 'error' || e.kind === 'finished');
    if (rejected >= 0 && rejected > later && !lastFinished(events)) {
      const e = events[rejected] as Extract<AttemptEventInput, { kind: 'rate_limit' }>;
      return {
        class: 'rate_limit',
        reason: `rate limit reached${e.window ? ` (${e.window} window)` : ''}${
          e.resetsAt !== undefined ? `; resets ${new Date(e.resetsAt).toISOString()}` : ''
        }`,
      };
    }
  }
  return baseClassify(end);
};

export const claude: CliAdapter = {
  name: 'claude',
  bin: 'claude',
  args: ['--print', '--output-format', 'stream-json', '--verbose', '--dangerously-skip-permissions'],
  env: [
    {
      name: 'IS_SANDBOX',
      value: '1',
      rootOnly: true,
      why: 'claude refuses --dangerously-skip-permissions as root without it',
    },
    { name: 'DISABLE_AUTOUPDATER', value: '1', why: 'no self-update in the middle of a round' },
    {
      name: 'CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC',
      value: '1',
      why: 'no telemetry, error reports or update checks from agents',
    },
  ],
  setup:
    'an Anthropic key in ANTHROPIC_API_KEY, or a login: run `claude` once (or CLAUDE_CODE_OAUTH_TOKEN from `claude setup-token`)',
  install: 'npm i -g @anthropic-ai/claude-code@2.1.197',
  release: '2.1.197',
  judge: 'report',
  verify: 'e2e',
  versionArgs: ['--version'],
  helpArgs: ['--help'],
  credentials: {
    env: ['ANTHROPIC_API_KEY', 'CLAUDE_CODE_OAUTH_TOKEN', 'ANTHROPIC_AUTH_TOKEN'],
    files: ['.claude/.credentials.json'],
  },
  parser: (ctx = {}) => jsonLinesParser(handler(ctx)),
  classify,
};
