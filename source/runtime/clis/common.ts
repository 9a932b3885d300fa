import { constants } from 'node:os';
import { ATTEMPT_TEXT_MAX, type AttemptEventInput, type ErrorClass } from '../../model/attempt.js';
import type { Failure, OutputParser, ParseContext, RunEnd } from './types.js';

/** Pieces the adapters share: reading untyped JSON, one-line summaries, text classification. */

export type Json = Record<string, unknown>;
type ErrorEvent = Extract<AttemptEventInput, { kind: 'error' }>;
type FinishedEvent = Extract<AttemptEventInput, { kind: 'finished' }>;

export const obj = (v: unknown): Json | undefined =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined;
export const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
export const num = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isFinite(v) ? v : undefined;
export const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
/** A token count: a whole number, 0 or more (anything else is 0). */
export const count = (v: unknown): number => {
  const n = num(v);
  return n !== undefined && n > 0 ? Math.floor(n) : 0;
};

/** A line that is one JSON object, parsed; anything else is undefined. */
export const jsonObject = (line: string): Json | undefined => {
  const t = line.trim();
  if (!t.startsWith('{')) return undefined;
  try {
    return obj(JSON.parse(t));
  } catch {
    return undefined;
  }
};

// CSI / OSC escape sequences and other lone escapes (colour, cursor moves).
const ANSI = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[@-_]/g;

/** A raw output line as a terminal would have left it: escapes gone, carriage-return redraws resolved. */
export const cleanLine = (raw: string): string => {
  const l = raw.replace(ANSI, '').replace(/\r+$/, '');
  return l.slice(l.lastIndexOf('\r') + 1);
};

export const clip = (s: string, max = 200): string => (s.length > max ? `${s.slice(0, max - 1)}…` : s);
/** Whitespace (newlines included) collapsed to single spaces. */
export const oneLine = (s: string): string => s.replace(/\s+/g, ' ').trim();
/** The first non-blank line, trimmed. */
export const firstLine = (s: string): string =>
  s
    .split('\n')
    .map((l) => l.trim())
    .find(Boolean) ?? '';

/** A path relative to the working directory when it lies under it. */
export const relPath = (p: string, ctx: ParseContext = {}): string => {
  const cwd = ctx.cwd?.replace(/\/+$/, '');
  return cwd && p.startsWith(`${cwd}/`) ? p.slice(cwd.length + 1) : p;
};

const FILE_KEYS = ['file_path', 'notebook_path', 'absolute_path', 'dir_path', 'path'];
const TEXT_KEYS = ['pattern', 'query', 'url', 'description', 'prompt'];

/**
 * A one-line summary of a tool call from its name and input: `Bash: npm test` for a command,
 * `Edit src/a.ts` for a file, `Grep: TODO` for a search. `labels` renames a CLI's tool names
 * (gemini's `run_shell_command` reads `Shell`).
 */
export const toolSummary = (
  tool: string,
  input: unknown,
  ctx: ParseContext = {},
  labels: Readonly<Record<string, string>> = {},
): string => {
  const label = labels[tool] ?? tool;
  const o = obj(input) ?? {};
  const command = str(o.command);
  if (command) return `${label}: ${oneLine(command)}`;
  for (const k of FILE_KEYS) {
    const p = str(o[k]);
    if (p) return `${label} ${relPath(p, ctx)}`;
  }
  for (const k of TEXT_KEYS) {
    const v = str(o[k]);
    if (v) return `${label}: ${oneLine(v)}`;
  }
  return label;
};

/** The first line of a tool's output, for a tool_result summary. */
export const resultSummary = (content: unknown): string => {
  if (typeof content === 'string') return firstLine(content);
  // Anthropic content blocks: [{ type: 'text', text }].
  for (const block of arr(content)) {
    const text = str(obj(block)?.text);
    if (text?.trim()) return firstLine(text);
  }
  return '';
};

// An HTTP status named as one: "API Error: 500", "last status: 503", "\"code\":429", "(429)".
const STATUS = /\b(?:api error|status(?: code)?|code|http|error)\W{0,3}([45]\d\d)\b|\(([45]\d\d)\)/i;

export const httpStatus = (text: string): number | undefined => {
  const m = STATUS.exec(text);
  return m ? Number(m[1] ?? m[2]) : undefined;
};

/** When the vendor says the limit lifts, as a fact (never its advice on what to buy). */
const resetHint = (text: string): string => {
  const at = /try again at (.+?)(?:\.\s|\.?$)/im.exec(text);
  if (at) return `; resets at ${at[1]!.trim()}`;
  const after = /retry(?:[- ]after|ing in)\W{0,3}(\d+(?:\.\d+)?)\s*s\b/i.exec(text);
  return after ? `; retry after ${after[1]}s` : '';
};

const RATE =
  /usage limit|quota|rate[ _-]?limit|too many requests|resource[ _]?exhausted|resource has been exhausted/i;
const AUTH =
  /unauthori[sz]ed|forbidden|authenticat|not logged in|no auth provided|log ?in (?:required|again|first)|invalid[ _](?:x-)?api[ _]key|api key (?:not valid|is invalid|missing)|missing api key|UNAUTHENTICATED|PERMISSION_DENIED|missing environment variable|refresh token|credentials? (?:not found|missing|expired|invalid)/i;
const OVERLOADED = /overloaded|high demand/i;
const SERVER =
  /internal server error|server error|service unavailable|bad gateway|gateway timeout|\bUNAVAILABLE\b|"status":\s*"INTERNAL"/i;
const CONNECT =
  /connection (?:failed|refused|reset|error|closed)|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|could not connect|unable to connect|stream disconnected|network error|fetch failed|socket hang up/i;
const CONTEXT = /context (?:window|length)|prompt is too long|maximum context/i;
const TIMEOUT = /request timed out|timed out waiting|idle timeout/i;

/**
 * The class of an error message from a CLI or its vendor, and tt's own words for it: never the
 * vendor's advice (plans, upgrades, "check your gateway"), only what happened and, when the vendor
 * says, when a limit lifts. Undefined when the text names no known failure.
 */
export const classifyText = (text: string): { class: ErrorClass; text: string } | undefined => {
  const status = httpStatus(text);
  const code = status ? ` (HTTP ${status})` : '';
  if (status === 429 || RATE.test(text)) {
    const what = /usage limit/i.test(text)
      ? 'usage limit reached'
      : /quota|exhausted/i.test(text)
        ? 'quota exhausted'
        : 'rate limited';
    return { class: 'rate_limit', text: `${what}${code}${resetHint(text)}` };
  }
  if (status === 401 || status === 403 || AUTH.test(text)) {
    const what = /not logged in|no auth provided|log ?in\b/i.test(text)
      ? 'not logged in'
      : 'authentication failed';
    return { class: 'auth', text: `${what}${code}` };
  }
  if (status === 529 || OVERLOADED.test(text)) return { class: 'api', text: `API overloaded${code}` };
  if (status !== undefined && status >= 500) return { class: 'api', text: `API error ${status}` };
  if (SERVER.test(text)) return { class: 'api', text: 'API server error' };
  if (CONNECT.test(text))
    return {
      class: 'api',
      text: /stream disconnected/i.test(text) ? 'API stream disconnected' : 'could not reach the API',
    };
  if (CONTEXT.test(text)) return { class: 'api', text: 'the request exceeded the model context window' };
  if (TIMEOUT.test(text)) return { class: 'api', text: 'the API timed out' };
  if (status !== undefined) return { class: 'api', text: `API refused the request${code}` };
  return undefined;
};

/** An error event from a vendor message: classified when known, else its first line as `fallback`. */
export const errorEvent = (message: string, fallback: ErrorClass): ErrorEvent => {
  const c = classifyText(message);
  return {
    kind: 'error',
    class: c?.class ?? fallback,
    text: c?.text ?? clip(firstLine(message) || 'unknown error'),
  };
};

/**
 * Plain text output as messages: consecutive non-blank lines make one message (a paragraph), cut
 * into pieces no longer than a stored message. `special` may claim a line first: events for it,
 * `[]` to drop it, undefined to keep it as text.
 */
export const textParser = (special?: (line: string) => AttemptEventInput[] | undefined): OutputParser => {
  let para: string[] = [];
  let size = 0;
  const flush = (): AttemptEventInput[] => {
    if (!para.length) return [];
    const text = para.join('\n');
    para = [];
    size = 0;
    return [{ kind: 'message', text }];
  };
  return {
    line(raw) {
      const l = cleanLine(raw).trimEnd();
      if (!l.trim()) return flush();
      const claimed = special?.(l.trim());
      if (claimed) return [...flush(), ...claimed];
      para.push(l);
      size += l.length + 1;
      return size >= ATTEMPT_TEXT_MAX ? flush() : [];
    },
    end: flush,
  };
};

/** A JSON-lines stream: each object goes to `event`; other lines are text (noise dropped). */
export const jsonLinesParser = (
  handler: { event(o: Json): AttemptEventInput[]; end?(): AttemptEventInput[] },
  noise: readonly RegExp[] = [],
): OutputParser => {
  const text = textParser((l) => (noise.some((r) => r.test(l)) ? [] : undefined));
  const safe = (f: () => AttemptEventInput[]): AttemptEventInput[] => {
    try {
      return f();
    } catch {
      return []; // an object of a shape this adapter does not expect: ignored
    }
  };
  return {
    line(raw) {
      const o = jsonObject(raw);
      return o ? [...text.end(), ...safe(() => handler.event(o))] : text.line(raw);
    },
    end: () => [...text.end(), ...safe(() => handler.end?.() ?? [])],
  };
};

const isError = (e: AttemptEventInput): e is ErrorEvent => e.kind === 'error';
const isFinished = (e: AttemptEventInput): e is FinishedEvent => e.kind === 'finished';

/** The last error that names a known cause, else the last error. */
export const lastError = (events: readonly AttemptEventInput[]): ErrorEvent | undefined =>
  events.findLast((e): e is ErrorEvent => isError(e) && e.class !== 'crash') ?? events.findLast(isError);
export const lastFinished = (events: readonly AttemptEventInput[]): FinishedEvent | undefined =>
  events.findLast(isFinished);

/** Readable lines of an output tail, oldest first: no blanks, no JSON, no stack frames, no noise. */
export const tailLines = (tail: string, noise: readonly RegExp[] = []): string[] =>
  tail
    .split('\n')
    .map((l) => cleanLine(l).trim())
    .filter((l) => l && !/^[[{]/.test(l) && !/^at \S+/.test(l) && !noise.some((r) => r.test(l)));

const signalName = (n: number): string | undefined =>
  Object.entries(constants.signals).find(([, v]) => v === n)?.[0];

/** "exited with code 3", "killed by SIGTERM (exit 143)". */
export const exitWords = (end: Pick<RunEnd, 'exitCode' | 'signal'>): string => {
  if (end.signal) return `killed by ${end.signal}`;
  if (end.exitCode === null) return 'ended without an exit status';
  const sig = end.exitCode > 128 ? signalName(end.exitCode - 128) : undefined;
  return sig ? `killed by ${sig} (exit ${end.exitCode})` : `exited with code ${end.exitCode}`;
};

export interface ClassifyOptions {
  /** Lines that never make a reason (a token count, a banner). */
  noise?: readonly RegExp[];
  /** When the events name no error, look for a known one in the last lines of output. */
  readTail?: boolean;
}

/**
 * What every adapter's classifier does after its own cases. Exit 0: a failure only when the CLI
 * itself said it failed. Otherwise, in order: exit 127 (not found), the last classified error
 * event, a known error in the output tail (`readTail`), and else a crash with the last readable
 * line (never a JSON event, a token count or other noise).
 */
export const baseClassify = (end: RunEnd, o: ClassifyOptions = {}): Failure | undefined => {
  const err = lastError(end.events);
  const fin = lastFinished(end.events);
  if (end.signal === null && end.exitCode === 0) {
    if (!fin || fin.ok) return undefined;
    return err
      ? { class: err.class, reason: err.text }
      : { class: 'crash', reason: clip(`reported failure${fin.text ? `: ${firstLine(fin.text)}` : ''}`) };
  }
  const lines = tailLines(end.tail, o.noise);
  if (end.exitCode === 127)
    return {
      class: 'not_found',
      reason: clip(lines.findLast((l) => /not found/i.test(l)) ?? 'command not found (exit 127)'),
    };
  if (err) return { class: err.class, reason: err.text };
  if (o.readTail)
    for (const l of lines.slice(-5).reverse()) {
      const c = classifyText(l);
      if (c) return { class: c.class, reason: c.text };
    }
  const said = fin && !fin.ok && fin.text ? firstLine(fin.text) : lines.at(-1);
  return { class: 'crash', reason: clip(`${exitWords(end)}${said ? `: ${said}` : ''}`) };
};

const SAFE_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;
/** A word for `sh -c`, quoted only when it needs to be. */
export const shellWord = (w: string): string => (SAFE_WORD.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`);
export const commandLine = (bin: string, args: readonly string[]): string =>
  [bin, ...args].map(shellWord).join(' ');
