import type { AttemptEventInput, ErrorClass } from '../../model/attempt.js';
import {
  arr,
  baseClassify,
  classifyText,
  clip,
  count,
  firstLine,
  jsonLinesParser,
  num,
  obj,
  relPath,
  str,
  type Json,
} from './common.js';
import type { CliAdapter, ParseContext } from './types.js';

/**
 * OpenAI Codex (`@openai/codex`), `codex exec --json`: JSONL thread events. Shapes from codex-rs
 * exec/src/exec_events.rs (ThreadEvent, ThreadItemDetails), checked against 0.171.0's output
 * recorded against a stand-in model (test/unit/fixtures/clis/codex-*.jsonl). Error texts from
 * codex-rs core/src/error.rs.
 */

/** Lines that are not events: its progress note, and the trailing `tokens used` and its number. */
const NOISE = [/^tokens used\b/i, /^[\d,]+$/, /^Reading prompt from stdin/i];

/** `/bin/bash -c 'echo hi'` -> `echo hi` (the model's own command, without the shell codex wraps it in). */
export const unwrapShell = (command: string): string => {
  const m = /^(?:\S*\/)?(?:ba|z)?sh\s+-l?c\s+([\s\S]+)$/.exec(command.trim());
  if (!m) return command;
  const rest = m[1]!.trim();
  if (rest.length >= 2 && rest.startsWith("'") && rest.endsWith("'"))
    return rest.slice(1, -1).replace(/'\\''/g, "'");
  if (rest.length >= 2 && rest.startsWith('"') && rest.endsWith('"')) return rest.slice(1, -1);
  return rest;
};

const codexError = (message: string): AttemptEventInput => {
  const c = classifyText(message);
  const retry = /^Reconnecting\.\.\.\s*(\d+\/\d+)/.exec(message);
  const cls: ErrorClass = c?.class ?? 'crash';
  const text =
    c?.text ?? clip(firstLine(message.replace(/^Reconnecting\.\.\.\s*\d+\/\d+\s*/, '')) || 'error');
  return { kind: 'error', class: cls, text: retry ? `${text}, reconnecting (${retry[1]})` : text };
};

const KIND_WORD: Record<string, string> = { add: 'Add', delete: 'Delete', update: 'Edit' };

const handler = (ctx: ParseContext) => {
  let turns = 0;
  let lastMessage: string | undefined;
  let lastErrorText: string | undefined;
  const started = new Set<string>();

  const call = (item: Json): AttemptEventInput | undefined => {
    const id = str(item.id);
    const withId = id ? { id } : {};
    switch (item.type) {
      case 'command_execution': {
        const command = str(item.command) ?? '';
        return { kind: 'tool_call', tool: 'shell', summary: `Shell: ${unwrapShell(command)}`, ...withId };
      }
      case 'file_change': {
        const changes = arr(item.changes).map(obj);
        const paths = changes.map((c) => relPath(str(c?.path) ?? '?', ctx));
        const word = changes.length === 1 ? (KIND_WORD[str(changes[0]?.kind) ?? ''] ?? 'Edit') : 'Edit';
        const more = paths.length > 3 ? ` (+${paths.length - 3} more)` : '';
        return {
          kind: 'tool_call',
          tool: 'edit',
          summary: `${word} ${paths.slice(0, 3).join(', ')}${more}`,
          ...withId,
        };
      }
      case 'mcp_tool_call': {
        const name = `${str(item.server) ?? '?'}.${str(item.tool) ?? '?'}`;
        return { kind: 'tool_call', tool: name, summary: `MCP ${name}`, ...withId };
      }
      case 'web_search':
        return {
          kind: 'tool_call',
          tool: 'web_search',
          summary: `Search: ${str(item.query) ?? ''}`,
          ...withId,
        };
      default:
        return undefined;
    }
  };

  const result = (item: Json): AttemptEventInput | undefined => {
    const id = str(item.id);
    const withId = id ? { id } : {};
    const status = str(item.status);
    switch (item.type) {
      case 'command_execution': {
        const code = num(item.exit_code);
        const out = firstLine(str(item.aggregated_output) ?? '');
        const ok = status === 'completed' && (code === undefined || code === 0);
        const summary =
          status === 'declined'
            ? 'declined'
            : code !== undefined && code !== 0
              ? `exit ${code}${out ? `: ${out}` : ''}`
              : out;
        return { kind: 'tool_result', ok, summary, ...withId };
      }
      case 'file_change':
        return {
          kind: 'tool_result',
          ok: status === 'completed',
          summary: status === 'completed' ? '' : (status ?? ''),
          ...withId,
        };
      case 'mcp_tool_call': {
        const error = str(obj(item.error)?.message);
        const text = arr(obj(item.result)?.content)
          .map((c) => str(obj(c)?.text))
          .find(Boolean);
        return {
          kind: 'tool_result',
          ok: status === 'completed' && !error,
          summary: firstLine(error ?? text ?? ''),
          ...withId,
        };
      }
      case 'web_search':
        return { kind: 'tool_result', ok: true, summary: '', ...withId };
      default:
        return undefined;
    }
  };

  const completed = (item: Json): AttemptEventInput[] => {
    if (item.type === 'agent_message') {
      const text = str(item.text);
      if (!text?.trim()) return [];
      lastMessage = text;
      return [{ kind: 'message', text }];
    }
    if (item.type === 'error') {
      // A non-fatal error surfaced as an item: worth reading, not a failure.
      const text = str(item.message);
      return text ? [{ kind: 'message', text }] : [];
    }
    const out: AttemptEventInput[] = [];
    const id = str(item.id);
    if (!id || !started.has(id)) {
      const c = call(item);
      if (c) out.push(c);
    }
    const r = result(item);
    if (r) out.push(r);
    return out;
  };

  return {
    event(o: Json): AttemptEventInput[] {
      switch (o.type) {
        case 'thread.started': {
          const session = str(o.thread_id);
          return [{ kind: 'init', ...(session ? { session } : {}) }];
        }
        case 'turn.completed': {
          turns++;
          const u = obj(o.usage) ?? {};
          // input_tokens already counts the cached ones (OpenAI's convention, and ours).
          const usage: AttemptEventInput = {
            kind: 'usage',
            input: count(u.input_tokens),
            cachedInput: count(u.cached_input_tokens),
            output: count(u.output_tokens),
          };
          return [
            usage,
            { kind: 'finished', ok: true, turns, ...(lastMessage ? { text: lastMessage } : {}) },
          ];
        }
        case 'turn.failed': {
          turns++;
          const message = str(obj(o.error)?.message) ?? 'the turn failed';
          const err = message === lastErrorText ? [] : [codexError(message)];
          return [...err, { kind: 'finished', ok: false, turns }];
        }
        case 'error': {
          const message = str(o.message) ?? 'error';
          lastErrorText = message;
          return [codexError(message)];
        }
        case 'item.started': {
          const item = obj(o.item);
          const c = item && call(item);
          if (!c) return [];
          const id = str(item.id);
          if (id) started.add(id);
          return [c];
        }
        case 'item.completed': {
          const item = obj(o.item);
          return item ? completed(item) : [];
        }
        default:
          return [];
      }
    },
  };
};

export const codex: CliAdapter = {
  name: 'codex',
  bin: 'codex',
  // The prompt is read from stdin. --skip-git-repo-check: a town need not be a git repository.
  // allow_login_shell=false: a login shell resets PATH from /etc/profile and loses the `tt` shim.
  args: [
    'exec',
    '--json',
    '--dangerously-bypass-approvals-and-sandbox',
    '--skip-git-repo-check',
    '-c',
    'allow_login_shell=false',
  ],
  variants: { 'codex-mini': ['-m', 'gpt-5.4-mini', '-c', 'model_reasoning_effort="medium"'] },
  env: [],
  setup: 'a login: run `codex login` once (ChatGPT account or API key), or CODEX_API_KEY',
  install: 'npm i -g @openai/codex@0.171.0',
  release: '0.171.0',
  judge: 'report',
  verify: 'e2e',
  versionArgs: ['--version'],
  helpArgs: ['exec', '--help'],
  credentials: { env: ['CODEX_API_KEY', 'OPENAI_API_KEY'], files: ['.codex/auth.json'] },
  parser: (ctx = {}) => jsonLinesParser(handler(ctx), NOISE),
  classify: (end) => baseClassify(end, { noise: NOISE }),
};
