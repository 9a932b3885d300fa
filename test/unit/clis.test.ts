/**
 * The coding-agent CLI adapters (source/runtime/clis): each parser against recorded output, each
 * classifier's cases, and each preset's command line against the pinned release's --help.
 *
 * Where the lines come from:
 * - fixtures/clis/<cli>-<case>.jsonl: the real claude 2.1.197, codex 0.171.0 and gemini 0.61.0
 *   run against a stand-in model (recorded by test/agents/spike.test.ts, copied here unchanged).
 * - Lines written here by hand are copied from the shapes in each CLI's source or docs, named at
 *   each one; "measured" ones were printed by the pinned release on this machine.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { normaliseCli } from '../../source/config/presets.js';
import { AttemptEvent, type AttemptEventInput } from '../../source/model/attempt.js';
import {
  ADAPTERS,
  CLI_PRESETS,
  adapterEnv,
  adapterFor,
  attemptFailure,
  command,
  commandProgram,
  findExecutable,
  parseOutput,
  type CliAdapter,
  type RunEnd,
} from '../../source/runtime/clis/index.js';
import { aider } from '../../source/runtime/clis/aider.js';
import { auggie } from '../../source/runtime/clis/auggie.js';
import { claude } from '../../source/runtime/clis/claude.js';
import { codex, unwrapShell } from '../../source/runtime/clis/codex.js';
import { copilot } from '../../source/runtime/clis/copilot.js';
import { gemini } from '../../source/runtime/clis/gemini.js';

const fixture = (name: string): string =>
  readFileSync(new URL(`./fixtures/clis/${name}.jsonl`, import.meta.url), 'utf8');

const run = (
  events: AttemptEventInput[],
  exitCode: number | null,
  tail = '',
  signal: string | null = null,
): RunEnd => ({ exitCode, signal, events, tail });

/** Parses an output and checks every event against the stored schema. */
const parse = (a: CliAdapter, text: string, cwd?: string): AttemptEventInput[] => {
  const events = parseOutput(a, text, cwd ? { cwd } : {});
  for (const e of events) expect(() => AttemptEvent.parse(e), JSON.stringify(e)).not.toThrow();
  return events;
};

/** Vendor advice that must never be a reason. */
const ADVICE = /try again in a moment|inference gateway|AI Studio|\/auth|upgrade|check your/i;

describe('presets', () => {
  it('derive the built-in command lines from the adapters', () => {
    expect(CLI_PRESETS).toMatchObject({
      claude: 'claude --print --output-format stream-json --verbose --dangerously-skip-permissions',
      codex:
        'codex exec --json --dangerously-bypass-approvals-and-sandbox --skip-git-repo-check -c allow_login_shell=false',
      'codex-mini':
        'codex exec --json --dangerously-bypass-approvals-and-sandbox --skip-git-repo-check -c allow_login_shell=false -m gpt-5.4-mini -c \'model_reasoning_effort="medium"\'',
      gemini: 'gemini --output-format stream-json --yolo --skip-trust',
      aider:
        'aider --yes-always --no-auto-commits --no-stream --no-pretty --no-check-update --message-file /dev/stdin',
      copilot: 'copilot --allow-all-tools --no-auto-update --no-color',
      auggie: 'auggie --print',
      sim: expect.stringContaining('simulated'),
    });
  });

  it('name a preset given as its command line, and find its adapter', () => {
    expect(normaliseCli(CLI_PRESETS.codex!, { ...CLI_PRESETS })).toBe('codex');
    expect(adapterFor('codex-mini')).toBe(codex);
    expect(adapterFor('claude')).toBe(claude);
    expect(adapterFor('make test')).toBe(command);
  });

  it('give each CLI its environment, IS_SANDBOX only as root', () => {
    expect(adapterEnv(claude, { root: true })).toEqual({
      IS_SANDBOX: '1',
      DISABLE_AUTOUPDATER: '1',
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    });
    expect(adapterEnv(claude, { root: false }).IS_SANDBOX).toBeUndefined();
    expect(adapterEnv(gemini, { root: false })).toEqual({ GEMINI_CLI_TRUST_WORKSPACE: 'true' });
  });

  it('judge agents by their report, plain commands and aider by the exit code', () => {
    expect(Object.fromEntries(ADAPTERS.map((a) => [a.name, [a.judge, a.verify]]))).toEqual({
      claude: ['report', 'e2e'],
      codex: ['report', 'e2e'],
      gemini: ['report', 'e2e'],
      aider: ['exit', 'contract'],
      copilot: ['report', 'contract'],
      auggie: ['report', 'contract'],
    });
    expect(command.judge).toBe('exit');
  });
});

describe('claude stream-json', () => {
  it('reads a shell round: init, the Bash call and its result, the text, usage, cost, the end', () => {
    const events = parse(claude, fixture('claude-shell'), '/tmp/tt-claude-work-5wxfpa');
    expect(events).toEqual([
      { kind: 'init', session: '49e70cc9-9561-4364-bae9-2e6cdd51dc8e', model: 'claude-opus-4-8[1m]' },
      { kind: 'tool_call', tool: 'Bash', summary: 'Bash: echo hello > out.txt', id: 'toolu_000002mxauu865' },
      {
        kind: 'tool_result',
        ok: true,
        summary: '(Bash completed with no output)',
        id: 'toolu_000002mxauu865',
      },
      { kind: 'message', text: 'Done: out.txt contains hello.' },
      // 270 uncached + 140 cache reads: ours counts both as input.
      { kind: 'usage', input: 410, cachedInput: 140, output: 40, model: 'claude-opus-4-8[1m]' },
      { kind: 'cost', usd: 0.0024200000000000003 },
      { kind: 'finished', ok: true, turns: 2, durationMs: 498, text: 'Done: out.txt contains hello.' },
    ]);
    expect(claude.classify(run(events, 0))).toBeUndefined();
    expect(attemptFailure(claude, { ...run(events, 0), reported: false })).toEqual({
      class: 'no_report',
      reason: expect.stringMatching(/^exited without reporting/),
    });
    expect(attemptFailure(claude, { ...run(events, 0), reported: true })).toBeUndefined();
  });

  it('classifies the 429 result as a rate limit', () => {
    const events = parse(claude, fixture('claude-rate-limit'));
    expect(events.filter((e) => e.kind === 'error')).toEqual([
      { kind: 'error', class: 'rate_limit', text: 'rate limited (HTTP 429)' },
    ]);
    expect(events.at(-1)).toMatchObject({ kind: 'finished', ok: false, turns: 1 });
    expect(claude.classify(run(events, 1))).toEqual({
      class: 'rate_limit',
      reason: 'rate limited (HTTP 429)',
    });
  });

  it('classifies a 500 after its retry as an API error, without its advice', () => {
    const events = parse(claude, fixture('claude-server-error'));
    expect(events.filter((e) => e.kind === 'error')).toEqual([
      { kind: 'error', class: 'api', text: 'API error 500, retrying (1 of 1)' },
      { kind: 'error', class: 'api', text: 'API error 500' },
    ]);
    const f = claude.classify(run(events, 1))!;
    expect(f).toEqual({ class: 'api', reason: 'API error 500' });
    expect(f.reason).not.toMatch(ADVICE);
  });

  it('says a run killed while it waited was killed', () => {
    const events = parse(claude, fixture('claude-hang'));
    expect(events).toEqual([{ kind: 'init', session: expect.any(String), model: 'claude-opus-4-8[1m]' }]);
    expect(claude.classify(run(events, 143))).toEqual({
      class: 'crash',
      reason: 'killed by SIGTERM (exit 143)',
    });
  });

  // Hand-written from the Agent SDK's parser (claude-agent-sdk-python _internal/message_parser.py:
  // rate_limit_event.rate_limit_info {status, resetsAt, rateLimitType, utilization}).
  const rateLimitEvent = (status: string) =>
    JSON.stringify({
      type: 'rate_limit_event',
      rate_limit_info: { status, resetsAt: 1767225600, rateLimitType: 'five_hour', utilization: 0.91 },
      uuid: 'u1',
      session_id: 's1',
    });

  it('reads rate_limit_event: resetsAt from epoch seconds to ms, allowed_warning as warning', () => {
    expect(parse(claude, `${rateLimitEvent('allowed_warning')}\n${rateLimitEvent('bogus')}`)).toEqual([
      {
        kind: 'rate_limit',
        status: 'warning',
        resetsAt: 1767225600000,
        window: 'five_hour',
        utilization: 0.91,
      },
    ]);
  });

  it('takes an exit 1 right after a rejected rate_limit_event, with nothing on stderr, as a rate limit', () => {
    const events = parse(claude, `${fixture('claude-hang')}${rateLimitEvent('rejected')}\n`);
    expect(claude.classify(run(events, 1))).toEqual({
      class: 'rate_limit',
      reason: 'rate limit reached (five_hour window); resets 2026-01-01T00:00:00.000Z',
    });
    // A rejected window that overage carried: the run went on and ended well.
    expect(claude.classify(run([...events, { kind: 'finished', ok: true }], 0))).toBeUndefined();
  });

  it('classifies error_max_turns as the turn limit (SDK ResultMessage shape)', () => {
    const line = JSON.stringify({
      type: 'result',
      subtype: 'error_max_turns',
      is_error: true,
      duration_ms: 9000,
      duration_api_ms: 8000,
      num_turns: 12,
      session_id: 's1',
      total_cost_usd: 0.5,
      usage: {
        input_tokens: 1000,
        cache_read_input_tokens: 0,
        cache_creation_input_tokens: 0,
        output_tokens: 50,
      },
    });
    const events = parse(claude, line);
    expect(events).toEqual([
      { kind: 'error', class: 'turn_limit', text: 'reached its turn limit after 12 turns' },
      { kind: 'usage', input: 1000, cachedInput: 0, output: 50 },
      { kind: 'cost', usd: 0.5 },
      { kind: 'finished', ok: false, turns: 12, durationMs: 9000 },
    ]);
    expect(claude.classify(run(events, 1))?.class).toBe('turn_limit');
  });

  it('classifies a hung request that API_TIMEOUT_MS ended as an API timeout', () => {
    // docs/AGENT-CLIS.md (test/agents): exit 1, result "Request timed out".
    const line = JSON.stringify({
      type: 'result',
      subtype: 'success',
      is_error: true,
      api_error_status: null,
      duration_ms: 4100,
      num_turns: 1,
      result: 'Request timed out',
      session_id: 's1',
      total_cost_usd: 0,
    });
    expect(claude.classify(run(parse(claude, line), 1))).toEqual({
      class: 'api',
      reason: 'the API timed out',
    });
  });

  it('summarises file tools relative to the working directory (sdk-tools.d.ts inputs)', () => {
    const line = JSON.stringify({
      type: 'assistant',
      message: {
        model: 'm',
        content: [
          {
            type: 'tool_use',
            id: 't1',
            name: 'Edit',
            input: { file_path: '/w/src/a.ts', old_string: 'a', new_string: 'b' },
          },
          { type: 'tool_use', id: 't2', name: 'Grep', input: { pattern: 'TODO' } },
          { type: 'thinking', thinking: 'hm', signature: 'x' },
        ],
      },
    });
    expect(parse(claude, line, '/w').map((e) => (e.kind === 'tool_call' ? e.summary : e.kind))).toEqual([
      'Edit src/a.ts',
      'Grep: TODO',
    ]);
  });

  it('says why it refused to run as root', () => {
    const tail =
      '--dangerously-skip-permissions cannot be used with root/sudo privileges for security reasons';
    expect(claude.classify(run([], 1, tail))).toEqual({
      class: 'tool',
      reason: expect.stringContaining('IS_SANDBOX=1'),
    });
  });
});

describe('codex exec --json', () => {
  const shell = [
    { kind: 'init', session: '01a247db-94c2-7a62-87a4-d05b4ea2b2fe' },
    { kind: 'tool_call', tool: 'shell', summary: 'Shell: echo hello > out.txt', id: 'item_0' },
    { kind: 'tool_result', ok: true, summary: '', id: 'item_0' },
    { kind: 'message', text: 'Done: out.txt contains hello.' },
    { kind: 'usage', input: 410, cachedInput: 140, output: 40 },
    { kind: 'finished', ok: true, turns: 1, text: 'Done: out.txt contains hello.' },
  ];

  it('reads a shell round', () => {
    const events = parse(codex, fixture('codex-shell'));
    expect(events).toEqual(shell);
    expect(codex.classify(run(events, 0))).toBeUndefined();
  });

  it('ignores its trailing "tokens used" and the number, and its stdin note', () => {
    const out = `Reading prompt from stdin...\n${fixture('codex-shell')}tokens used\n410\n`;
    expect(parse(codex, out)).toEqual(shell);
    // Nor does a token count become a reason.
    expect(codex.classify(run([], 1, 'tokens used\n410'))).toEqual({
      class: 'crash',
      reason: 'exited with code 1',
    });
  });

  it('classifies the usage limit as a rate limit, with when it resets and none of its advice', () => {
    const events = parse(codex, fixture('codex-rate-limit'));
    expect(events.slice(1)).toEqual([
      { kind: 'error', class: 'rate_limit', text: 'usage limit reached; resets at 9:18 PM' },
      { kind: 'finished', ok: false, turns: 1 },
    ]);
    expect(codex.classify(run(events, 1))).toEqual({
      class: 'rate_limit',
      reason: 'usage limit reached; resets at 9:18 PM',
    });
    // error.rs's wording for a Plus plan carries advice: it is not repeated.
    const plus =
      "You've hit your usage limit. Upgrade to Pro (https://openai.com/chatgpt/pricing), visit https://chatgpt.com/codex/settings/usage to purchase more credits or try again at 9:18 PM.";
    const r = codex.classify(run(parse(codex, JSON.stringify({ type: 'error', message: plus })), 1))!;
    expect(r.class).toBe('rate_limit');
    expect(r.reason).not.toMatch(ADVICE);
  });

  it('classifies high demand after reconnecting as an API error', () => {
    const events = parse(codex, fixture('codex-server-error'));
    expect(events.filter((e) => e.kind === 'error')).toEqual([
      { kind: 'error', class: 'api', text: 'API overloaded, reconnecting (1/1)' },
      { kind: 'error', class: 'api', text: 'API overloaded' },
    ]);
    expect(codex.classify(run(events, 1))).toEqual({ class: 'api', reason: 'API overloaded' });
  });

  it('says a run killed while it waited was killed', () => {
    const events = parse(codex, fixture('codex-hang'));
    expect(events).toEqual([{ kind: 'init', session: '01a247db-b086-7562-b1fc-d7f1258d4dad' }]);
    expect(codex.classify(run(events, null, '', 'SIGTERM'))).toEqual({
      class: 'crash',
      reason: 'killed by SIGTERM',
    });
  });

  // Hand-written from exec_events.rs: FileChangeItem {changes: [{path, kind}], status},
  // CommandExecutionItem {command, aggregated_output, exit_code, status}, ErrorItem, error.rs texts.
  it('reads file changes, failed commands, and unauthorized', () => {
    const lines = [
      {
        type: 'item.completed',
        item: {
          id: 'i1',
          type: 'file_change',
          changes: [{ path: '/w/src/a.ts', kind: 'update' }],
          status: 'completed',
        },
      },
      {
        type: 'item.completed',
        item: {
          id: 'i2',
          type: 'command_execution',
          command: "bash -lc 'npm test'",
          aggregated_output: '1 failed\nmore',
          exit_code: 1,
          status: 'failed',
        },
      },
      { type: 'item.completed', item: { id: 'i3', type: 'reasoning', text: 'thinking' } },
      { type: 'turn.failed', error: { message: 'unexpected status 401 Unauthorized: bad key' } },
    ];
    const events = parse(codex, lines.map((l) => JSON.stringify(l)).join('\n'), '/w');
    expect(events).toEqual([
      { kind: 'tool_call', tool: 'edit', summary: 'Edit src/a.ts', id: 'i1' },
      { kind: 'tool_result', ok: true, summary: '', id: 'i1' },
      { kind: 'tool_call', tool: 'shell', summary: 'Shell: npm test', id: 'i2' },
      { kind: 'tool_result', ok: false, summary: 'exit 1: 1 failed', id: 'i2' },
      { kind: 'error', class: 'auth', text: 'authentication failed (HTTP 401)' },
      { kind: 'finished', ok: false, turns: 1 },
    ]);
    expect(codex.classify(run(events, 1))?.class).toBe('auth');
  });

  it('unwraps the shell it runs commands in', () => {
    expect(unwrapShell("/bin/bash -c 'echo hello > out.txt'")).toBe('echo hello > out.txt');
    expect(unwrapShell("bash -lc 'echo '\\''hi'\\'''")).toBe("echo 'hi'");
    expect(unwrapShell('ls -la')).toBe('ls -la');
  });
});

describe('gemini stream-json', () => {
  it('reads a shell round, with per-model usage', () => {
    const events = parse(gemini, fixture('gemini-shell'));
    expect(events).toEqual([
      { kind: 'init', session: 'a8d3b0c1-8df3-400c-84df-b660c00eed1b', model: 'auto' },
      {
        kind: 'tool_call',
        tool: 'run_shell_command',
        summary: 'Shell: echo hello > out.txt',
        id: 'run_shell_command__run_shell_command_1796501923376_0',
      },
      {
        kind: 'tool_result',
        ok: true,
        summary: '',
        id: 'run_shell_command__run_shell_command_1796501923376_0',
      },
      { kind: 'message', text: 'Done: out.txt contains hello.' },
      { kind: 'usage', input: 100, cachedInput: 0, output: 20, model: 'gemini-3.5-flash-lite' },
      { kind: 'usage', input: 410, cachedInput: 140, output: 40, model: 'gemini-3.8-flash' },
      { kind: 'finished', ok: true, durationMs: 1121, text: 'Done: out.txt contains hello.' },
    ]);
    expect(gemini.classify(run(events, 0))).toBeUndefined();
  });

  it('joins the delta fragments of one answer into one message', () => {
    // nonInteractiveCli emits {type:'message', role:'assistant', content, delta:true} per chunk.
    const d = (content: string) =>
      JSON.stringify({ type: 'message', timestamp: 't', role: 'assistant', content, delta: true });
    const out = [d('Hello, '), d('world.'), fixture('gemini-hang').split('\n')[0], d('Bye.')].join('\n');
    expect(parse(gemini, out).filter((e) => e.kind === 'message')).toEqual([
      { kind: 'message', text: 'Hello, world.' },
      { kind: 'message', text: 'Bye.' },
    ]);
  });

  it('classifies an exhausted quota (exit 429 & 0xff) as a rate limit, without its advice', () => {
    const events = parse(gemini, fixture('gemini-rate-limit'));
    const f = gemini.classify(run(events, 173))!;
    expect(f).toEqual({ class: 'rate_limit', reason: 'quota exhausted; retry after 3600s' });
    expect(f.reason).not.toMatch(ADVICE);
    expect(events.filter((e) => e.kind === 'usage')).toHaveLength(1);
  });

  it('classifies a 500 (exit 500 & 0xff) as an API error', () => {
    const events = parse(gemini, fixture('gemini-server-error'));
    expect(gemini.classify(run(events, 244))).toEqual({ class: 'api', reason: 'API error 500' });
    // Nothing printed but the exit status.
    expect(gemini.classify(run([], 244))).toEqual({
      class: 'api',
      reason: 'API error 500 (gemini exit 244)',
    });
  });

  it('never gives a warning or a stack frame as a reason', () => {
    const tail =
      'YOLO mode is enabled. All tool calls will be automatically approved.\nError: boom\n    at main (file.js:1:1)';
    expect(gemini.classify(run([], 1, tail))).toEqual({
      class: 'crash',
      reason: 'exited with code 1: Error: boom',
    });
  });

  it('knows its FatalError exit codes', () => {
    expect(gemini.classify(run([], 53))?.class).toBe('turn_limit');
    expect(gemini.classify(run([], 55))).toEqual({
      class: 'tool',
      reason: 'refused to work in an untrusted folder (gemini exit 55)',
    });
    expect(gemini.classify(run([], 41))?.class).toBe('auth');
  });

  it('exits 0 when killed while it waited: only the missing report tells', () => {
    const events = parse(gemini, fixture('gemini-hang'));
    expect(events).toEqual([
      { kind: 'init', session: '41a56fe4-210a-4ece-98e3-9470b5636c77', model: 'auto' },
    ]);
    expect(attemptFailure(gemini, { ...run(events, 0), reported: false })?.class).toBe('no_report');
  });
});

describe('aider text', () => {
  // base_coder.py: tokens_report + cost_report; utils.format_tokens.
  it('reads the usage report into usage and the session cost', () => {
    const out = [
      'I will change the greeting.',
      'It now says hello.',
      '',
      'Applied edit to hello.py',
      'Tokens: 3.0k sent, 42 received. Cost: $0.0063 message, $0.0063 session.',
      'Tokens: 12k sent, 1.5k cache write, 8.2k cache hit, 310 received. Cost: $0.05 message, $0.12 session.',
      'Tokens: 116 sent, 30 received.',
    ].join('\n');
    expect(parse(aider, out)).toEqual([
      { kind: 'message', text: 'I will change the greeting.\nIt now says hello.' },
      { kind: 'tool_call', tool: 'edit', summary: 'Edit hello.py' },
      { kind: 'usage', input: 3000, cachedInput: 0, output: 42 },
      { kind: 'cost', usd: 0.0063 },
      { kind: 'usage', input: 12000, cachedInput: 8200, output: 310 },
      { kind: 'cost', usd: 0.12 },
      { kind: 'usage', input: 116, cachedInput: 0, output: 30 },
    ]);
  });

  it('takes a model error it gave up on as the outcome, even with exit 0', () => {
    // send_message: str(err) of the litellm exception, then exceptions.py's description.
    const out = [
      'litellm.RateLimitError: AnthropicException - {"type":"error","error":{"type":"rate_limit_error","message":"Number of request tokens has exceeded your per-minute rate limit"}}',
      'The API provider has rate limited you. Try again later or check your quotas.',
    ].join('\n');
    const events = parse(aider, out);
    expect(events.filter((e) => e.kind === 'error')).toEqual([
      { kind: 'error', class: 'rate_limit', text: 'rate limited' },
    ]);
    expect(aider.classify(run(events, 0))).toEqual({ class: 'rate_limit', reason: 'rate limited' });
    // After a later successful call, the error is history.
    const later = parse(aider, `${out}\nTokens: 2.0k sent, 10 received.`);
    expect(aider.classify(run(later, 0))).toBeUndefined();
    expect(attemptFailure(aider, { ...run(later, 0), reported: false })).toBeUndefined();
  });

  it('never gives its token report as a reason', () => {
    expect(aider.classify(run([], 1, 'Tokens: 3.0k sent, 42 received.'))).toEqual({
      class: 'crash',
      reason: 'exited with code 1',
    });
  });
});

describe('copilot and auggie text', () => {
  it('copilot: failing to reach its model is an API error (measured, 1.0.102)', () => {
    const out = [
      '● Response was interrupted due to a server error. Retrying...',
      '',
      'Could not connect to local model provider at http://127.0.0.1:9/v1.',
      '  Check that the service is running and the port is correct.',
      '',
      '',
      'Changes    +0 -0',
      'Duration   25s',
      'Resume     copilot --resume=0d3cdaf9-d61b-47d5-a2c8-64b5f32f313c',
    ].join('\n');
    const events = parse(copilot, out);
    expect(events.every((e) => e.kind === 'message')).toBe(true);
    expect(events).toHaveLength(3);
    expect(copilot.classify(run(events, 1, out))).toEqual({
      class: 'api',
      reason: 'could not reach the API',
    });
  });

  it('auggie: no login is an auth failure (measured, 0.36.0)', () => {
    const out = [
      '❌ No auth provided. Please log in with `auggie login` or set the AUGMENT_SESSION_AUTH environment variable.',
      '❌ Failed to initialize API connection',
      '   Reason: Cannot create API setup: Authentication failed: No auth provided. Please log in with `auggie login` or set the AUGMENT_SESSION_AUTH environment variable.',
    ].join('\n');
    const events = parse(auggie, out);
    expect(events.filter((e) => e.kind === 'error').map((e) => e.kind === 'error' && e.class)).toEqual([
      'auth',
      'crash',
    ]);
    expect(auggie.classify(run(events, 1, out))).toEqual({ class: 'auth', reason: 'not logged in' });
  });
});

describe('plain commands', () => {
  it('are text, judged by the exit code, failing with the last line they printed', () => {
    const events = parse(command, 'building\ncompile error in main.rs\n');
    expect(events).toEqual([{ kind: 'message', text: 'building\ncompile error in main.rs' }]);
    expect(command.classify(run(events, 3, 'building\ncompile error in main.rs'))).toEqual({
      class: 'crash',
      reason: 'exited with code 3: compile error in main.rs',
    });
    expect(attemptFailure(command, { ...run(events, 0), reported: false })).toBeUndefined();
    expect(command.classify(run([], 127, 'sh: 1: my-agent: not found'))).toEqual({
      class: 'not_found',
      reason: 'sh: 1: my-agent: not found',
    });
  });

  it('name their program only when it is a bare word', () => {
    expect(commandProgram('my-agent --fast')).toBe('my-agent');
    expect(commandProgram('./bin/agent.sh')).toBe('./bin/agent.sh');
    for (const c of [
      'FOO=1 x',
      'echo hi; exit 3',
      'if true; then x; fi',
      '(cd a && x)',
      '$HOME/x',
      '"x y"',
      '',
    ])
      expect(commandProgram(c), c).toBeUndefined();
    expect(findExecutable('sh', '/nonexistent:/bin:/usr/bin', '/')).toMatch(/\/sh$/);
    expect(findExecutable('no-such-program-tt', '/bin:/usr/bin', '/')).toBeUndefined();
  });
});

describe('parsers are robust', () => {
  const junk = [
    '',
    '   ',
    'plain text',
    '{',
    '{"type":',
    '[1,2]',
    'null',
    '42',
    '{}',
    '{"type":null}',
    '{"type":"unknown.thing","x":1}',
    '{"type":"assistant"}',
    '{"type":"assistant","message":null}',
    '{"type":"assistant","message":{"content":"text, not blocks"}}',
    '{"type":"assistant","message":{"content":[null,1,{"type":"tool_use"}]}}',
    '{"type":"user","message":{"content":[{"type":"tool_result","content":[{"text":5}]}]}}',
    '{"type":"result","modelUsage":5,"usage":"x","num_turns":-3,"total_cost_usd":"1"}',
    '{"type":"rate_limit_event","rate_limit_info":null}',
    '{"type":"system","subtype":"api_retry"}',
    '{"type":"item.completed","item":{"type":"command_execution"}}',
    '{"type":"item.completed","item":{"type":"file_change","changes":"x"}}',
    '{"type":"item.started"}',
    '{"type":"turn.completed","usage":{"input_tokens":-5,"output_tokens":1.5}}',
    '{"type":"turn.failed"}',
    '{"type":"tool_use","parameters":"x"}',
    '{"type":"tool_result","error":7}',
    '{"type":"result","status":"error","stats":{"models":{"m":null}}}',
    '{"type":"message","role":"assistant","content":7,"delta":true}',
    '\u001b[31mred\u001b[0m and \u0000 bytes \ufffd',
    'Tokens: k sent, . received.',
    'litellm.Weird: ',
    '❌',
  ];

  for (const a of [...ADAPTERS, command])
    it(`${a.name}: odd lines never throw, and a non-JSON line is a message`, () => {
      const events = parse(a, junk.join('\n'));
      expect(events.some((e) => e.kind === 'message' && e.text.includes('plain text'))).toBe(true);
      expect(() => a.classify(run(events, 1, junk.join('\n')))).not.toThrow();
      expect(() => a.classify(run(events, 0, ''))).not.toThrow();
    });
});

// Each release takes seconds to start, a minute on a busy 2-core machine: they are asked in parallel.
describe.concurrent('command lines against the pinned releases', () => {
  const cache = process.env.TT_AGENT_CLI_CACHE || join(homedir(), '.cache', 'tt-agent-clis');
  const help = (exe: string, args: readonly string[], home: string) =>
    new Promise<{ text: string; error?: string }>((resolve) => {
      execFile(
        exe,
        [...args],
        {
          timeout: 150_000,
          env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, NO_COLOR: '1', TERM: 'dumb' },
        },
        (err, stdout, stderr) =>
          resolve({ text: `${stdout}\n${stderr}`, ...(err ? { error: String(err.message) } : {}) }),
      );
    });

  for (const a of ADAPTERS) {
    // The cache keeps one npm prefix per release, so the path names the pinned release.
    const exe = join(cache, `${a.name}@${a.release}`, 'node_modules', '.bin', a.bin);
    const flags = [...a.args, ...Object.values(a.variants ?? {}).flat()].filter((w) => w.startsWith('-'));
    const present = existsSync(exe);
    (present ? it : it.skip)(
      `${a.name} ${a.release}: every flag of its command line is in its --help${
        present
          ? ''
          : ` (skipped: ${a.name}@${a.release} is not in ${cache}; scripts/agent-clis.sh installs it)`
      }`,
      async () => {
        const home = mkdtempSync(join(tmpdir(), 'tt-help-'));
        try {
          const { text, error } = await help(exe, a.helpArgs, home);
          expect(text.trim(), `${a.name} ${a.helpArgs.join(' ')} printed nothing (${error})`).not.toBe('');
          for (const f of new Set(flags))
            expect(text, `${a.name} --help lists ${f}`).toMatch(
              new RegExp(`(^|[\\s,\\[])${f.replace(/[-]/g, '\\-')}([\\s,=<\\[\\]]|$)`, 'm'),
            );
        } finally {
          rmSync(home, { recursive: true, force: true });
        }
      },
      180_000,
    );
  }
});
