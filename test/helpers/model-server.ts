// A stand-in model for the real coding-agent CLIs (test/agents): an HTTP server on 127.0.0.1 that
// speaks the three wire protocols they use -- Anthropic Messages (claude), OpenAI Responses
// (codex) and Gemini generateContent (gemini) -- and answers from a script written by the test.
//
// The script is a list of turns. A "main" request (one that offers the agent its tools) takes the
// next turn: run a shell command through that vendor's shell tool, say a text and end, fail with
// an HTTP status, hang, or stall after the headers. After a shell turn the CLI runs the command
// and sends its result in the next main request, which takes the next turn. Requests without
// tools (titles, routers, quota probes, token counts) are side calls: they get a short generic
// answer and take no turn. Every request is recorded (auth headers dropped) so a test can assert
// what the CLI sent.
//
// Usage numbers are per turn. `input` is the uncached prompt tokens, `cached` the cache reads and
// `output` the completion; each vendor's usage block is built from them in its own convention
// (Anthropic counts cache reads apart from input_tokens; OpenAI and Gemini include them in the
// prompt total and report the cached part beside it).
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type Vendor = 'anthropic' | 'openai' | 'gemini';

export interface Usage {
  /** Prompt tokens not read from a cache. */
  input?: number;
  /** Completion tokens. */
  output?: number;
  /** Prompt tokens read from a cache. */
  cached?: number;
  /** Prompt tokens written to a cache (Anthropic only). */
  cacheWrite?: number;
}

interface TurnBase {
  /** How many main requests this turn answers before the next one is used (default 1). */
  times?: number;
}

export type Turn = TurnBase &
  (
    | {
        kind: 'shell';
        /** The command, or a function of the request it answers (to run what the prompt says). */
        command: string | ((req: RecordedRequest) => string);
        text?: string;
        usage?: Usage;
        headers?: Record<string, string>;
      }
    | { kind: 'text'; text: string; usage?: Usage; headers?: Record<string, string> }
    | {
        kind: 'fail';
        status: number;
        headers?: Record<string, string>;
        /** A string is sent as is; an object as JSON; absent: the vendor's usual error body. */
        body?: unknown;
      }
    | { kind: 'hang' }
    | { kind: 'stall' }
  );

export const DEFAULT_USAGE: Required<Usage> = { input: 100, output: 20, cached: 0, cacheWrite: 0 };

/** Script building blocks. */
export const turn = {
  /** Have the CLI run `command` with its shell tool (optionally saying `text` first). */
  shell: (
    command: string | ((req: RecordedRequest) => string),
    opts: { text?: string; usage?: Usage; headers?: Record<string, string>; times?: number } = {},
  ): Turn => ({
    kind: 'shell',
    command,
    ...opts,
  }),
  /** Say `text` and end the turn. */
  say: (
    text: string,
    opts: { usage?: Usage; headers?: Record<string, string>; times?: number } = {},
  ): Turn => ({
    kind: 'text',
    text,
    ...opts,
  }),
  fail: (
    status: number,
    opts: { headers?: Record<string, string>; body?: unknown; times?: number } = {},
  ): Turn => ({ kind: 'fail', status, ...opts }),
  hang: (times = Infinity): Turn => ({ kind: 'hang', times }),
  stall: (times = Infinity): Turn => ({ kind: 'stall', times }),
};

/**
 * A 429 as each vendor sends it when a quota is used up. For Anthropic: the unified rate-limit
 * headers of a subscription window (status rejected, reset time, 5-hour utilization) plus
 * retry-after. The turn repeats for every retry unless `times` says otherwise.
 */
export function rateLimited(
  vendor: Vendor,
  opts: { resetAt?: number; retryAfterSeconds?: number; times?: number } = {},
): Turn {
  const resetAt = opts.resetAt ?? Math.floor(Date.now() / 1000) + 3600;
  const retryAfter = String(opts.retryAfterSeconds ?? 3600);
  const times = opts.times ?? Infinity;
  switch (vendor) {
    case 'anthropic':
      return turn.fail(429, {
        times,
        headers: {
          'retry-after': retryAfter,
          'anthropic-ratelimit-unified-status': 'rejected',
          'anthropic-ratelimit-unified-reset': String(resetAt),
          'anthropic-ratelimit-unified-representative-claim': 'five_hour',
          'anthropic-ratelimit-unified-fallback-percentage': '0.5',
          'anthropic-ratelimit-unified-5h-status': 'rejected',
          'anthropic-ratelimit-unified-5h-reset': String(resetAt),
          'anthropic-ratelimit-unified-5h-utilization': '1.0',
          'anthropic-ratelimit-unified-7d-status': 'allowed',
          'anthropic-ratelimit-unified-7d-utilization': '0.4',
          'anthropic-ratelimit-unified-overage-status': 'rejected',
          'anthropic-ratelimit-unified-overage-disabled-reason': 'org_level_disabled',
        },
        body: {
          type: 'error',
          error: { type: 'rate_limit_error', message: 'This request would exceed your rate limit.' },
        },
      });
    case 'openai':
      return turn.fail(429, {
        times,
        headers: {
          'retry-after': retryAfter,
          'x-codex-primary-used-percent': '100',
          'x-codex-primary-window-minutes': '300',
          'x-codex-primary-reset-at': String(resetAt),
          'x-codex-secondary-used-percent': '40',
          'x-codex-secondary-window-minutes': '10080',
        },
        body: {
          error: {
            type: 'usage_limit_reached',
            code: 'rate_limit_exceeded',
            message: 'You have hit your usage limit.',
            resets_at: resetAt,
          },
        },
      });
    case 'gemini':
      return turn.fail(429, {
        times,
        headers: { 'retry-after': retryAfter },
        body: {
          error: {
            code: 429,
            message: 'Resource has been exhausted (e.g. check quota).',
            status: 'RESOURCE_EXHAUSTED',
            details: [
              {
                '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
                violations: [{ quotaMetric: 'generativelanguage.googleapis.com/generate_content_requests' }],
              },
              { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: `${retryAfter}s` },
            ],
          },
        },
      });
  }
}

export type RequestRole = 'main' | 'side' | 'other';

export interface RecordedRequest {
  seq: number;
  /** ms since the server started. */
  at: number;
  method: string;
  path: string;
  /** Query parameters, `key` dropped. */
  query: Record<string, string>;
  /** Lower-case names; authorization, x-api-key, x-goog-api-key and cookie dropped. */
  headers: Record<string, string>;
  /** Parsed JSON, or the raw text when it is not JSON (undefined when empty). */
  body: unknown;
  vendor?: Vendor;
  role: RequestRole;
  /** Index of the script turn this main request was answered with. */
  turn?: number;
  /** The shell tool result this request carried back (main requests after a shell turn). */
  toolResult?: string;
  /** What the server did: status code sent, 'hang' or 'stall'. */
  answer?: number | 'hang' | 'stall';
}

export interface ModelServer {
  /** http://127.0.0.1:<port> */
  readonly url: string;
  readonly port: number;
  /** Epoch ms when the server started; RecordedRequest.at counts from here. */
  readonly startedAt: number;
  readonly requests: RecordedRequest[];
  /** The requests that took a turn. */
  mainRequests(): RecordedRequest[];
  /** Main requests answered after the script ran out (answered with a short text). */
  readonly overrun: number;
  /** Replace the script (the turn pointer starts again). */
  setScript(script: Turn[]): void;
  /** Resolves at the first request whose role is one of `roles` (default main). */
  waitForRequest(roles?: RequestRole[]): Promise<RecordedRequest>;
  close(): Promise<void>;
}

const SECRET_HEADERS = new Set([
  'authorization',
  'x-api-key',
  'x-goog-api-key',
  'cookie',
  'proxy-authorization',
]);

/** codex's shell functions, in order of preference (when it offers one outside code mode). */
const OPENAI_SHELL_TOOLS = ['exec_command', 'shell_command', 'shell'];

export interface ModelServerOptions {
  /** Usage reported by side calls (default DEFAULT_USAGE). */
  sideUsage?: Usage;
}

export async function startModelServer(
  script: Turn[] = [],
  opts: ModelServerOptions = {},
): Promise<ModelServer> {
  const sideUsage = { ...DEFAULT_USAGE, ...opts.sideUsage };
  const started = Date.now();
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const waiters: { roles: RequestRole[]; resolve: (r: RecordedRequest) => void }[] = [];
  let turns = script;
  let pointer = 0;
  let usedOfCurrent = 0;
  let overrun = 0;
  let ids = 0;
  const nextId = (prefix: string) => `${prefix}_${String(++ids).padStart(6, '0')}${started.toString(36)}`;

  function takeTurn(): { turn: Turn; index: number } | undefined {
    while (pointer < turns.length) {
      const t = turns[pointer]!;
      if (usedOfCurrent < (t.times ?? 1)) {
        usedOfCurrent++;
        return { turn: t, index: pointer };
      }
      pointer++;
      usedOfCurrent = 0;
    }
    return undefined;
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      try {
        handle(req, res, raw);
      } catch (err) {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`model-server: ${String(err)}`);
      }
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  function handle(req: http.IncomingMessage, res: http.ServerResponse, raw: string): void {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const query: Record<string, string> = {};
    for (const [k, v] of url.searchParams) if (k !== 'key') query[k] = v;
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (!SECRET_HEADERS.has(k) && v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
    }
    let body: unknown = undefined;
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw);
      } catch {
        body = raw;
      }
    }
    const rec: RecordedRequest = {
      seq: requests.length,
      at: Date.now() - started,
      method: req.method ?? 'GET',
      path: url.pathname,
      query,
      headers,
      body,
      role: 'other',
    };
    rec.vendor = vendorOf(url.pathname);
    const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, any>;
    if (rec.vendor && rec.method === 'POST' && isGenerate(rec.vendor, url.pathname)) {
      rec.role = hasTools(rec.vendor, b) ? 'main' : 'side';
    }
    requests.push(rec);
    for (let i = waiters.length - 1; i >= 0; i--) {
      if (waiters[i]!.roles.includes(rec.role)) {
        waiters[i]!.resolve(rec);
        waiters.splice(i, 1);
      }
    }

    const send = (status: number, json: unknown) => {
      rec.answer = status;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(json));
    };

    if (rec.role === 'other') {
      if (rec.method === 'HEAD' || (rec.method === 'GET' && url.pathname === '/')) {
        rec.answer = 200;
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end();
        return;
      }
      if (url.pathname.endsWith('/count_tokens') || url.pathname.endsWith(':countTokens')) {
        const n = Math.max(1, Math.round(raw.length / 4));
        send(200, url.pathname.endsWith(':countTokens') ? { totalTokens: n } : { input_tokens: n });
        return;
      }
      if (rec.method === 'GET' && /\/models\/?$/.test(url.pathname)) {
        send(200, { object: 'list', data: [], models: [] });
        return;
      }
      send(404, {
        error: { type: 'not_found_error', message: `model-server: no route ${rec.method} ${url.pathname}` },
      });
      return;
    }

    const vendor = rec.vendor!;
    const streaming = isStreaming(vendor, url.pathname, b);
    const model = modelOf(vendor, url.pathname, b);
    const answer = (parts: Part[], usage: Usage, headers: Record<string, string> = {}) => {
      rec.answer = 200;
      const out = reply(vendor, model, parts, { ...DEFAULT_USAGE, ...usage }, nextId);
      if (streaming) {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', ...headers });
        for (const [name, data] of out.events) {
          res.write(`${name ? `event: ${name}\n` : ''}data: ${JSON.stringify(data)}\n\n`);
        }
        res.end();
      } else {
        res.writeHead(200, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify(out.json));
      }
    };
    if (rec.role === 'side') {
      answer([{ type: 'text', text: sideText(vendor, b) }], sideUsage);
      return;
    }

    rec.toolResult = lastToolResult(vendor, b);
    const taken = takeTurn();
    if (!taken) {
      overrun++;
      answer([{ type: 'text', text: 'model-server: the script has no more turns.' }], DEFAULT_USAGE);
      return;
    }
    rec.turn = taken.index;
    const t = taken.turn;
    switch (t.kind) {
      case 'text':
        answer([{ type: 'text', text: t.text }], { ...t.usage }, t.headers);
        return;
      case 'shell': {
        const parts: Part[] = t.text ? [{ type: 'text', text: t.text }] : [];
        const command = typeof t.command === 'function' ? t.command(rec) : t.command;
        parts.push({ type: 'shell', command, openaiTool: openaiShellTool(b) });
        answer(parts, { ...t.usage }, t.headers);
        return;
      }
      case 'fail': {
        const errBody = t.body === undefined ? defaultErrorBody(vendor, t.status) : t.body;
        rec.answer = t.status;
        res.writeHead(t.status, {
          'content-type': typeof errBody === 'string' ? 'text/plain' : 'application/json',
          ...t.headers,
        });
        res.end(typeof errBody === 'string' ? errBody : JSON.stringify(errBody));
        return;
      }
      case 'hang':
        rec.answer = 'hang';
        return; // never answered; close() destroys the socket
      case 'stall':
        rec.answer = 'stall';
        res.writeHead(200, {
          'content-type': streaming ? 'text/event-stream' : 'application/json',
          'cache-control': 'no-cache',
        });
        res.flushHeaders();
        return;
    }
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    startedAt: started,
    requests,
    mainRequests: () => requests.filter((r) => r.role === 'main'),
    get overrun() {
      return overrun;
    },
    setScript(next: Turn[]) {
      turns = next;
      pointer = 0;
      usedOfCurrent = 0;
    },
    waitForRequest(roles: RequestRole[] = ['main']) {
      const seen = requests.find((r) => roles.includes(r.role));
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve) => waiters.push({ roles, resolve }));
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

// ---- request classification ----

function vendorOf(path: string): Vendor | undefined {
  if (path.startsWith('/v1/messages')) return 'anthropic';
  if (path.startsWith('/v1/responses') || path.startsWith('/v1/chat/completions')) return 'openai';
  if (/^\/v1(beta|alpha)?\/models\/[^/]+:/.test(path)) return 'gemini';
  return undefined;
}

function isGenerate(vendor: Vendor, path: string): boolean {
  switch (vendor) {
    case 'anthropic':
      return path === '/v1/messages';
    case 'openai':
      return path === '/v1/responses';
    case 'gemini':
      return path.endsWith(':generateContent') || path.endsWith(':streamGenerateContent');
  }
}

function hasTools(vendor: Vendor, b: Record<string, any>): boolean {
  if (vendor === 'gemini') {
    return (
      Array.isArray(b.tools) &&
      b.tools.some((t: any) => Array.isArray(t?.functionDeclarations) && t.functionDeclarations.length > 0)
    );
  }
  if (vendor === 'openai') return openaiTools(b).length > 0;
  return Array.isArray(b.tools) && b.tools.length > 0;
}

interface OfferedTool {
  /** function | custom | ... */
  type: string;
  name: string;
  namespace?: string;
}

/**
 * The tools a Responses request offers: the top-level `tools`, and (codex 0.17x) those of
 * `additional_tools` input items, whose namespaces nest further tools.
 */
function openaiTools(b: Record<string, any>): OfferedTool[] {
  const out: OfferedTool[] = [];
  const walk = (tools: unknown, namespace?: string) => {
    if (!Array.isArray(tools)) return;
    for (const t of tools as any[]) {
      if (t?.type === 'namespace') walk(t.tools, t.name);
      else out.push({ type: String(t?.type), name: String(t?.name ?? t?.type), namespace });
    }
  };
  walk(b.tools);
  if (Array.isArray(b.input)) {
    for (const item of b.input) if (item?.type === 'additional_tools') walk(item.tools);
  }
  return out;
}

function isStreaming(vendor: Vendor, path: string, b: Record<string, any>): boolean {
  if (vendor === 'gemini') return path.endsWith(':streamGenerateContent');
  return b.stream === true;
}

function modelOf(vendor: Vendor, path: string, b: Record<string, any>): string {
  if (vendor === 'gemini') return decodeURIComponent(path.replace(/^.*\/models\/([^:]+):.*$/, '$1'));
  return typeof b.model === 'string' ? b.model : 'stand-in-model';
}

/**
 * How to make codex run a command with the tools this request offers: a shell function when one
 * is offered (exec_command, shell_command, shell), else code mode's `exec` custom tool, whose
 * input is JavaScript that calls the nested `tools.exec_command`.
 */
function openaiShellTool(b: Record<string, any>): OpenaiShell {
  const offered = openaiTools(b);
  for (const name of OPENAI_SHELL_TOOLS) {
    const t = offered.find((o) => o.type === 'function' && o.name === name);
    if (t) return { kind: 'function', name, namespace: t.namespace };
  }
  const exec = offered.find((o) => o.type === 'custom' && o.name === 'exec');
  if (exec) return { kind: 'code', name: 'exec', namespace: exec.namespace };
  return { kind: 'function', name: 'shell' };
}

interface OpenaiShell {
  kind: 'function' | 'code';
  name: string;
  namespace?: string;
}

/** The text a side call gets: JSON that fits a requested schema, else a short phrase. */
function sideText(vendor: Vendor, b: Record<string, any>): string {
  if (vendor === 'gemini') {
    const cfg = b.generationConfig ?? {};
    const schema = cfg.responseJsonSchema ?? cfg.responseSchema;
    if (schema) return JSON.stringify(sampleOf(schema));
    if (cfg.responseMimeType === 'application/json') return '{}';
  }
  if (vendor === 'openai') {
    const schema = b.text?.format?.schema;
    if (schema) return JSON.stringify(sampleOf(schema));
  }
  if (vendor === 'anthropic') {
    const schema = b.output_format?.schema ?? b.output_config?.format?.schema;
    if (schema) return JSON.stringify(sampleOf(schema));
  }
  return 'Stand-in answer';
}

/** A value that satisfies a JSON schema well enough for the CLIs' side calls. */
function sampleOf(schema: any): unknown {
  const type = String(schema?.type ?? 'object').toLowerCase();
  if (Array.isArray(schema?.enum) && schema.enum.length > 0) {
    // next-speaker checks: hand the turn back to the user so the CLI stops.
    return schema.enum.includes('user') ? 'user' : schema.enum[0];
  }
  switch (type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(schema?.properties ?? {})) out[k] = sampleOf(v);
      return out;
    }
    case 'array':
      return [];
    case 'string':
      return 'stand-in';
    case 'number':
    case 'integer': {
      // e.g. gemini's router wants a complexity_score of 1-100 and rejects 0.
      const min = typeof schema?.minimum === 'number' ? schema.minimum : 1;
      return typeof schema?.maximum === 'number' ? Math.min(min, schema.maximum) : min;
    }
    case 'boolean':
      return false;
    default:
      return null;
  }
}

/** The output of the last shell call as the CLI sent it back, if the request ends with one. */
function lastToolResult(vendor: Vendor, b: Record<string, any>): string | undefined {
  const str = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));
  if (vendor === 'anthropic') {
    const last = Array.isArray(b.messages) ? b.messages[b.messages.length - 1] : undefined;
    if (last?.role !== 'user' || !Array.isArray(last.content)) return undefined;
    const results = last.content.filter((c: any) => c?.type === 'tool_result');
    if (results.length === 0) return undefined;
    const c = results[results.length - 1].content;
    return Array.isArray(c) ? c.map((x: any) => (x?.type === 'text' ? x.text : str(x))).join('\n') : str(c);
  }
  if (vendor === 'openai') {
    const input: any[] = Array.isArray(b.input) ? b.input : [];
    const types = input.map((x) => x?.type);
    const i = Math.max(
      types.lastIndexOf('function_call_output'),
      types.lastIndexOf('custom_tool_call_output'),
    );
    if (i < 0 || input.slice(i + 1).some((x) => x?.role === 'user')) return undefined;
    const out = input[i].output;
    if (Array.isArray(out))
      return out.map((x: any) => (typeof x?.text === 'string' ? x.text : str(x))).join('\n');
    return typeof out === 'string' ? out : str(out);
  }
  const contents: any[] = Array.isArray(b.contents) ? b.contents : [];
  const last = contents[contents.length - 1];
  const parts: any[] = Array.isArray(last?.parts) ? last.parts : [];
  const fr = parts.filter((p) => p?.functionResponse);
  if (fr.length === 0) return undefined;
  return str(fr[fr.length - 1].functionResponse.response);
}

function defaultErrorBody(vendor: Vendor, status: number): unknown {
  const message = `Stand-in error ${status}`;
  switch (vendor) {
    case 'anthropic':
      return {
        type: 'error',
        error: {
          type:
            status === 429
              ? 'rate_limit_error'
              : status === 529
                ? 'overloaded_error'
                : status >= 500
                  ? 'api_error'
                  : 'invalid_request_error',
          message,
        },
      };
    case 'openai':
      return {
        error: { type: status >= 500 ? 'server_error' : 'invalid_request_error', message, code: null },
      };
    case 'gemini':
      return {
        error: {
          code: status,
          message,
          status: status === 429 ? 'RESOURCE_EXHAUSTED' : status >= 500 ? 'INTERNAL' : 'INVALID_ARGUMENT',
        },
      };
  }
}

// ---- responses ----

type Part = { type: 'text'; text: string } | { type: 'shell'; command: string; openaiTool: OpenaiShell };

interface Reply {
  /** SSE events: [event name (or undefined for data-only), payload]. */
  events: [string | undefined, unknown][];
  json: unknown;
}

function reply(
  vendor: Vendor,
  model: string,
  parts: Part[],
  usage: Required<Usage>,
  nextId: (p: string) => string,
): Reply {
  switch (vendor) {
    case 'anthropic':
      return anthropicReply(model, parts, usage, nextId);
    case 'openai':
      return openaiReply(model, parts, usage, nextId);
    case 'gemini':
      return geminiReply(model, parts, usage);
  }
}

function anthropicReply(
  model: string,
  parts: Part[],
  u: Required<Usage>,
  nextId: (p: string) => string,
): Reply {
  const id = nextId('msg');
  const usage = {
    input_tokens: u.input,
    cache_creation_input_tokens: u.cacheWrite,
    cache_read_input_tokens: u.cached,
    output_tokens: u.output,
  };
  const content = parts.map((p) =>
    p.type === 'text'
      ? { type: 'text', text: p.text }
      : { type: 'tool_use', id: nextId('toolu'), name: 'Bash', input: { command: p.command } },
  );
  const stopReason = parts.some((p) => p.type === 'shell') ? 'tool_use' : 'end_turn';
  const events: [string, unknown][] = [
    [
      'message_start',
      {
        type: 'message_start',
        message: {
          id,
          type: 'message',
          role: 'assistant',
          model,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: { ...usage, output_tokens: 1 },
        },
      },
    ],
    ['ping', { type: 'ping' }],
  ];
  content.forEach((c, index) => {
    if (c.type === 'text') {
      events.push([
        'content_block_start',
        { type: 'content_block_start', index, content_block: { type: 'text', text: '' } },
      ]);
      for (const piece of chunk(c.text!, 24)) {
        events.push([
          'content_block_delta',
          { type: 'content_block_delta', index, delta: { type: 'text_delta', text: piece } },
        ]);
      }
    } else {
      events.push([
        'content_block_start',
        {
          type: 'content_block_start',
          index,
          content_block: { type: 'tool_use', id: c.id, name: c.name, input: {} },
        },
      ]);
      for (const piece of chunk(JSON.stringify(c.input), 16)) {
        events.push([
          'content_block_delta',
          { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: piece } },
        ]);
      }
    }
    events.push(['content_block_stop', { type: 'content_block_stop', index }]);
  });
  events.push([
    'message_delta',
    { type: 'message_delta', delta: { stop_reason: stopReason, stop_sequence: null }, usage },
  ]);
  events.push(['message_stop', { type: 'message_stop' }]);
  return {
    events,
    json: {
      id,
      type: 'message',
      role: 'assistant',
      model,
      content,
      stop_reason: stopReason,
      stop_sequence: null,
      usage,
    },
  };
}

function openaiReply(model: string, parts: Part[], u: Required<Usage>, nextId: (p: string) => string): Reply {
  const id = nextId('resp');
  const created = Math.floor(Date.now() / 1000);
  const usage = {
    input_tokens: u.input + u.cached,
    input_tokens_details: { cached_tokens: u.cached },
    output_tokens: u.output,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: u.input + u.cached + u.output,
  };
  const base = {
    id,
    object: 'response',
    created_at: created,
    model,
    status: 'in_progress',
    output: [] as unknown[],
  };
  const events: [string, unknown][] = [];
  let seq = 0;
  const push = (type: string, payload: Record<string, unknown>) =>
    events.push([type, { type, sequence_number: seq++, ...payload }]);
  push('response.created', { response: base });
  push('response.in_progress', { response: base });
  const output: unknown[] = [];
  parts.forEach((p, output_index) => {
    if (p.type === 'text') {
      const itemId = nextId('msg');
      push('response.output_item.added', {
        output_index,
        item: { id: itemId, type: 'message', status: 'in_progress', role: 'assistant', content: [] },
      });
      push('response.content_part.added', {
        item_id: itemId,
        output_index,
        content_index: 0,
        part: { type: 'output_text', text: '', annotations: [] },
      });
      for (const piece of chunk(p.text, 24)) {
        push('response.output_text.delta', { item_id: itemId, output_index, content_index: 0, delta: piece });
      }
      push('response.output_text.done', { item_id: itemId, output_index, content_index: 0, text: p.text });
      const part = { type: 'output_text', text: p.text, annotations: [] };
      push('response.content_part.done', { item_id: itemId, output_index, content_index: 0, part });
      const item = { id: itemId, type: 'message', status: 'completed', role: 'assistant', content: [part] };
      push('response.output_item.done', { output_index, item });
      output.push(item);
    } else {
      const itemId = nextId('fc');
      const callId = nextId('call');
      const tool = p.openaiTool;
      const ns = tool.namespace && tool.namespace !== 'functions' ? { namespace: tool.namespace } : {};
      let item: Record<string, unknown>;
      if (tool.kind === 'code') {
        const code = `text(await tools.exec_command(${JSON.stringify({ cmd: p.command })}));`;
        item = {
          id: itemId,
          type: 'custom_tool_call',
          status: 'completed',
          call_id: callId,
          name: tool.name,
          input: code,
          ...ns,
        };
        push('response.output_item.added', {
          output_index,
          item: { ...item, status: 'in_progress', input: '' },
        });
        push('response.custom_tool_call_input.delta', { item_id: itemId, output_index, delta: code });
        push('response.custom_tool_call_input.done', { item_id: itemId, output_index, input: code });
      } else {
        const args = JSON.stringify(openaiShellArgs(tool.name, p.command));
        item = {
          id: itemId,
          type: 'function_call',
          status: 'completed',
          call_id: callId,
          name: tool.name,
          arguments: args,
          ...ns,
        };
        push('response.output_item.added', {
          output_index,
          item: { ...item, status: 'in_progress', arguments: '' },
        });
        push('response.function_call_arguments.delta', { item_id: itemId, output_index, delta: args });
        push('response.function_call_arguments.done', { item_id: itemId, output_index, arguments: args });
      }
      push('response.output_item.done', { output_index, item });
      output.push(item);
    }
  });
  const done = { ...base, status: 'completed', output, usage };
  push('response.completed', { response: done });
  return { events, json: done };
}

/** Argument shapes of codex's shell tools (codex-rs tool specs). */
function openaiShellArgs(tool: string, command: string): Record<string, unknown> {
  switch (tool) {
    case 'exec_command':
      return { cmd: command };
    case 'shell_command':
      return { command };
    default:
      return { command: ['bash', '-c', command] };
  }
}

function geminiReply(model: string, parts: Part[], u: Required<Usage>): Reply {
  const usageMetadata = {
    promptTokenCount: u.input + u.cached,
    candidatesTokenCount: u.output,
    totalTokenCount: u.input + u.cached + u.output,
    cachedContentTokenCount: u.cached,
  };
  const out = parts.map((p) =>
    p.type === 'text'
      ? { text: p.text }
      : { functionCall: { name: 'run_shell_command', args: { command: p.command } } },
  );
  const candidate = (ps: unknown[], finish?: string) => ({
    content: { role: 'model', parts: ps },
    index: 0,
    ...(finish ? { finishReason: finish } : {}),
  });
  const events: [undefined, unknown][] = [];
  const lastIndex = out.length - 1;
  out.forEach((p, i) => {
    const last = i === lastIndex;
    events.push([
      undefined,
      {
        candidates: [candidate([p], last ? 'STOP' : undefined)],
        ...(last ? { usageMetadata } : {}),
        modelVersion: model,
        responseId: `stand-in-${i}`,
      },
    ]);
  });
  return {
    events,
    json: { candidates: [candidate(out, 'STOP')], usageMetadata, modelVersion: model },
  };
}

function chunk(s: string, n: number): string[] {
  if (s.length === 0) return [''];
  const out: string[] = [];
  for (let i = 0; i < s.length; i += n) out.push(s.slice(i, i + n));
  return out;
}
