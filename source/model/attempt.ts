import { z } from 'zod';

/**
 * What a coding-agent CLI did during one attempt, normalized across CLIs. Each CLI adapter
 * (runtime/clis/) parses its own structured output (claude stream-json, codex --json, gemini
 * stream-json, aider's text) into these; they are kept per attempt in a bounded Redis stream
 * beside the raw log, and `tt logs`, the console's log view, cost accounting and rate-limit
 * handling all read that one stream. Every text field is untrusted (it came from a model) and is
 * stored cut to a size limit; nothing here is ever interpreted.
 */

/** Why an attempt failed, as a class an operator and the retry policy can act on. */
export const ERROR_CLASSES = [
  'rate_limit', // the vendor refused for quota or a usage window; wait for the reset
  'auth', // missing or wrong credentials
  'api', // the vendor's API failed (5xx, overloaded, bad request)
  'timeout', // the attempt ran past the task timeout
  'stalled', // no output event for the stall timeout
  'crash', // the CLI died (a signal, a non-zero exit with no better reason)
  'no_report', // the CLI exited 0 without the agent reporting the task done or failed
  'not_found', // the CLI could not be started (missing binary)
  'turn_limit', // the CLI stopped at its own turn or budget limit
  'tool', // the CLI was denied or could not use its tools (untrusted folder, sandbox)
] as const;
export const ErrorClass = z.enum(ERROR_CLASSES);
export type ErrorClass = z.infer<typeof ErrorClass>;

/** Limits for stored text: a message or tool summary is shown on one screen, not archived. */
export const ATTEMPT_TEXT_MAX = 2000;
export const ATTEMPT_SUMMARY_MAX = 200;

const text = (max: number) => z.string().transform((s) => (s.length > max ? `${s.slice(0, max - 1)}…` : s));
const tokens = z.number().int().min(0);

export const AttemptEvent = z.discriminatedUnion('kind', [
  /** The CLI started: its session id and model, when it says. */
  z.object({ kind: z.literal('init'), session: text(200).optional(), model: text(200).optional() }),
  /** Text the model wrote to the operator. */
  z.object({ kind: z.literal('message'), text: text(ATTEMPT_TEXT_MAX) }),
  /** A tool call, with a one-line summary (`Bash: npm test`, `Edit src/a.ts`). */
  z.object({
    kind: z.literal('tool_call'),
    tool: text(100),
    summary: text(ATTEMPT_SUMMARY_MAX),
    id: text(200).optional(),
  }),
  /** A tool's result: whether it worked, and its first line. */
  z.object({
    kind: z.literal('tool_result'),
    ok: z.boolean(),
    summary: text(ATTEMPT_SUMMARY_MAX),
    id: text(200).optional(),
  }),
  /** Tokens used since the last usage event (per turn), by model when known. */
  z.object({
    kind: z.literal('usage'),
    input: tokens,
    cachedInput: tokens.default(0),
    output: tokens,
    model: text(200).optional(),
  }),
  /** Dollars, as the CLI reports them (total for the attempt so far). */
  z.object({ kind: z.literal('cost'), usd: z.number().min(0) }),
  /** The vendor's rate-limit state: allowed, near the limit, or refused until `resetsAt` (ms). */
  z.object({
    kind: z.literal('rate_limit'),
    status: z.enum(['allowed', 'warning', 'rejected']),
    resetsAt: z.number().optional(),
    window: text(50).optional(),
    utilization: z.number().optional(),
  }),
  /** Something went wrong, classified. */
  z.object({ kind: z.literal('error'), class: ErrorClass, text: text(ATTEMPT_SUMMARY_MAX) }),
  /** The CLI finished: ok as the CLI itself judged it, and its own figures when it gives them. */
  z.object({
    kind: z.literal('finished'),
    ok: z.boolean(),
    turns: z.number().int().min(0).optional(),
    durationMs: z.number().min(0).optional(),
    text: text(ATTEMPT_TEXT_MAX).optional(),
  }),
]);
export type AttemptEvent = z.infer<typeof AttemptEvent>;
/** An event as written, before its text is cut (what parsers produce). */
export type AttemptEventInput = z.input<typeof AttemptEvent>;

/** One line for a log view: `tool  Bash: npm test`, `usage 1200 in (300 cached) 80 out`. */
export const attemptEventLine = (e: AttemptEvent): string => {
  switch (e.kind) {
    case 'init':
      return `init    ${[e.model, e.session && `session ${e.session}`].filter(Boolean).join(', ')}`;
    case 'message':
      return `message ${e.text}`;
    case 'tool_call':
      return `tool    ${e.summary}`;
    case 'tool_result':
      return `result  ${e.ok ? 'ok' : 'failed'}${e.summary ? `: ${e.summary}` : ''}`;
    case 'usage':
      return `usage   ${e.input} in${e.cachedInput ? ` (${e.cachedInput} cached)` : ''} ${e.output} out`;
    case 'cost':
      return `cost    $${e.usd.toFixed(4)}`;
    case 'rate_limit':
      return `limit   ${e.status}${e.window ? ` ${e.window}` : ''}${
        e.resetsAt ? ` resets ${new Date(e.resetsAt).toISOString()}` : ''
      }`;
    case 'error':
      return `error   ${e.class}: ${e.text}`;
    case 'finished':
      return `done    ${e.ok ? 'ok' : 'failed'}${e.turns !== undefined ? `, ${e.turns} turns` : ''}`;
  }
};
