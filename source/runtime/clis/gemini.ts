import type { AttemptEventInput, ErrorClass } from '../../model/attempt.js';
import {
  baseClassify,
  classifyText,
  clip,
  count,
  firstLine,
  jsonLinesParser,
  lastError,
  num,
  obj,
  str,
  toolSummary,
  type Json,
} from './common.js';
import type { CliAdapter, Failure, ParseContext, RunEnd } from './types.js';

/**
 * Gemini CLI (`@google/gemini-cli`), `--output-format stream-json`: JSONL events `init`,
 * `message`, `tool_use`, `tool_result`, `error`, `result`. Shapes from packages/core/src/output/
 * types.ts and 0.61.0's bundle (stream-json-formatter, nonInteractiveCli: assistant text comes as
 * `delta` fragments; `result.stats.models` holds per-model tokens), checked against 0.61.0's
 * output recorded against a stand-in model (test/unit/fixtures/clis/gemini-*.jsonl). Exit codes
 * from its FatalError classes; an API error exits with its HTTP status & 0xff (429 -> 173).
 */

/** Its warnings on stderr (docs/AGENT-CLIS.md): never why a run failed. */
const NOISE = [/YOLO mode is enabled/i, /Ripgrep is not available/i];

/** Its built-in tool names (0.61.0 *_TOOL_NAME constants) as summary labels. */
const LABELS: Record<string, string> = {
  run_shell_command: 'Shell',
  write_file: 'Write',
  replace: 'Edit',
  read_file: 'Read',
  read_many_files: 'Read',
  list_directory: 'List',
  glob: 'Glob',
  grep_search: 'Grep',
  google_web_search: 'WebSearch',
  web_fetch: 'WebFetch',
};

/** `error.type` of a failed `result`: the name of the FatalError it ended with. */
const FATAL: Record<string, { class: ErrorClass; words: string }> = {
  FatalAuthenticationError: { class: 'auth', words: 'authentication failed' },
  FatalTurnLimitedError: { class: 'turn_limit', words: 'reached its session turn limit' },
  FatalToolExecutionError: { class: 'tool', words: 'a tool failed' },
  FatalSandboxError: { class: 'tool', words: 'sandbox error' },
  FatalUntrustedWorkspaceError: { class: 'tool', words: 'refused to work in an untrusted folder' },
  FatalCancellationError: { class: 'crash', words: 'cancelled' },
  FatalInputError: { class: 'crash', words: 'input error' },
  FatalConfigError: { class: 'crash', words: 'configuration error' },
};

const geminiError = (error: Json | undefined): AttemptEventInput => {
  const type = str(error?.type) ?? '';
  const message = str(error?.message) ?? '';
  const fatal = FATAL[type];
  if (fatal) {
    const detail = fatal.class === 'tool' || fatal.class === 'crash' ? firstLine(message) : '';
    return {
      kind: 'error',
      class: fatal.class,
      text: clip(detail ? `${fatal.words}: ${detail}` : fatal.words),
    };
  }
  const c = classifyText(message);
  if (c) return { kind: 'error', class: c.class, text: c.text };
  const apiError = /^\[API Error/.test(message);
  return {
    kind: 'error',
    class: apiError ? 'api' : 'crash',
    text: clip(firstLine(message.replace(/^\[API Error:\s*/, '')) || type || 'error'),
  };
};

const handler = (ctx: ParseContext) => {
  let pending: string[] = [];
  let lastMessage: string | undefined;
  /** Assistant text arrives in `delta` fragments: one message per run of them. */
  const flush = (): AttemptEventInput[] => {
    const text = pending.join('');
    pending = [];
    if (!text.trim()) return [];
    lastMessage = text;
    return [{ kind: 'message', text }];
  };
  const result = (o: Json): AttemptEventInput[] => {
    const out: AttemptEventInput[] = [];
    const ok = o.status === 'success';
    if (!ok) out.push(geminiError(obj(o.error)));
    const stats = obj(o.stats) ?? {};
    // input_tokens is the prompt, cached included (ours too); `input` is the uncached part.
    const perModel = Object.entries(obj(stats.models) ?? {})
      .map(([model, v]) => {
        const s = obj(v) ?? {};
        return {
          kind: 'usage' as const,
          input: count(s.input_tokens),
          cachedInput: count(s.cached),
          output: count(s.output_tokens),
          model,
        };
      })
      .filter((u) => u.input + u.output > 0);
    if (perModel.length) out.push(...perModel);
    else if (count(stats.input_tokens) + count(stats.output_tokens) > 0)
      out.push({
        kind: 'usage',
        input: count(stats.input_tokens),
        cachedInput: count(stats.cached),
        output: count(stats.output_tokens),
      });
    const durationMs = num(stats.duration_ms);
    out.push({
      kind: 'finished',
      ok,
      ...(durationMs !== undefined && durationMs > 0 ? { durationMs } : {}),
      ...(ok && lastMessage ? { text: lastMessage } : {}),
    });
    return out;
  };
  return {
    event(o: Json): AttemptEventInput[] {
      if (o.type === 'message' && o.role === 'assistant') {
        const content = str(o.content) ?? '';
        if (o.delta === true) {
          pending.push(content);
          return [];
        }
        pending.push(content);
        return flush();
      }
      const out = flush();
      switch (o.type) {
        case 'init': {
          const session = str(o.session_id);
          const model = str(o.model);
          out.push({ kind: 'init', ...(session ? { session } : {}), ...(model ? { model } : {}) });
          break;
        }
        case 'tool_use': {
          const tool = str(o.tool_name) ?? 'tool';
          const id = str(o.tool_id);
          out.push({
            kind: 'tool_call',
            tool,
            summary: toolSummary(tool, o.parameters, ctx, LABELS),
            ...(id ? { id } : {}),
          });
          break;
        }
        case 'tool_result': {
          const id = str(o.tool_id);
          const ok = o.status === 'success';
          const said = ok ? str(o.output) : (str(obj(o.error)?.message) ?? str(o.output));
          out.push({ kind: 'tool_result', ok, summary: firstLine(said ?? ''), ...(id ? { id } : {}) });
          break;
        }
        case 'error': {
          const message = str(o.message) ?? '';
          if (o.severity === 'error') {
            const c = classifyText(message);
            out.push({ kind: 'error', class: c?.class ?? 'api', text: c?.text ?? clip(firstLine(message)) });
          } else if (message.trim()) out.push({ kind: 'message', text: `warning: ${message}` });
          break;
        }
        case 'result':
          out.push(...result(o));
          break;
        default:
          break; // `message` from the user (the prompt echoed back) and anything newer
      }
      return out;
    },
    end: flush,
  };
};

/** Exit codes of its FatalError classes: definite whatever else was printed. */
const EXIT: Record<number, Failure> = {
  41: { class: 'auth', reason: 'authentication failed (gemini exit 41)' },
  42: { class: 'crash', reason: 'input error (gemini exit 42)' },
  44: { class: 'tool', reason: 'sandbox error (gemini exit 44)' },
  52: { class: 'crash', reason: 'configuration error (gemini exit 52)' },
  53: { class: 'turn_limit', reason: 'reached its session turn limit (gemini exit 53)' },
  54: { class: 'tool', reason: 'a tool failed fatally (gemini exit 54)' },
  55: { class: 'tool', reason: 'refused to work in an untrusted folder (gemini exit 55)' },
};

/** An API error exits with its HTTP status & 0xff; read back when nothing else says why. */
const HTTP_EXIT: Record<number, Failure> = Object.fromEntries(
  [400, 401, 403, 404, 429, 500, 502, 503, 504].map((status) => {
    const c = classifyText(`status ${status}`)!;
    return [status & 0xff, { class: c.class, reason: `${c.text} (gemini exit ${status & 0xff})` }];
  }),
);

const classify = (end: RunEnd): Failure | undefined => {
  const byCode = end.exitCode !== null ? EXIT[end.exitCode] : undefined;
  if (byCode) {
    const err = lastError(end.events);
    return err?.class === byCode.class ? { class: err.class, reason: err.text } : byCode;
  }
  const base = baseClassify(end, { noise: NOISE, readTail: true });
  const http = end.exitCode !== null ? HTTP_EXIT[end.exitCode] : undefined;
  return base?.class === 'crash' && http ? http : base;
};

export const gemini: CliAdapter = {
  name: 'gemini',
  bin: 'gemini',
  // A piped prompt runs headless (no -p). Without --yolo it is offered no shell, write or edit tool.
  args: ['--output-format', 'stream-json', '--yolo', '--skip-trust'],
  env: [
    {
      name: 'GEMINI_CLI_TRUST_WORKSPACE',
      value: 'true',
      why: 'gemini exits 55 in a folder it does not trust',
    },
  ],
  setup:
    'GEMINI_API_KEY with {"security":{"auth":{"selectedType":"gemini-api-key"}}} in ~/.gemini/settings.json, or a login: run `gemini` once',
  install: 'npm i -g @google/gemini-cli@0.61.0',
  release: '0.61.0',
  judge: 'report',
  verify: 'e2e',
  versionArgs: ['--version'],
  helpArgs: ['--help'],
  credentials: {
    env: ['GEMINI_API_KEY', 'GOOGLE_API_KEY', 'GOOGLE_APPLICATION_CREDENTIALS'],
    files: ['.gemini/oauth_creds.json'],
  },
  parser: (ctx = {}) => jsonLinesParser(handler(ctx), NOISE),
  classify,
};
