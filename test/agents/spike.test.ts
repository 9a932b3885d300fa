// End-to-end spike: the real claude, codex and gemini CLIs (pinned, cached by
// scripts/agent-clis.sh) against the stand-in model (test/helpers/model-server.ts). Each runs in
// its non-interactive structured-output mode in a temp directory with the prompt on stdin:
//   shell        - the model has the CLI run `echo hello > out.txt` with its shell tool, then ends
//   rate-limit   - the model answers 429 with that vendor's quota headers
//   server-error - the model answers 500 on every try (the CLI's retries turned down)
//   hang         - the model never answers; the run is killed from outside
// The stdout JSONL of each case is compared with test/agents/fixtures/<cli>-<case>.jsonl by the
// kinds of events it holds; TT_UPDATE_AGENT_FIXTURES=1 rewrites the fixtures from this run.
// Findings are in docs/AGENT-CLIS.md.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import {
  agentCliOrSkip,
  requireAgentCli,
  FAKE_API_KEY,
  makeWorkdir,
  parseJsonl,
  runAgent,
  setupAgent,
  type AgentCliName,
  type AgentRun,
  type SetupOptions,
} from '../helpers/agent-clis.js';
import {
  rateLimited,
  startModelServer,
  turn,
  type ModelServer,
  type Turn,
  type Vendor,
} from '../helpers/model-server.js';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');
const UPDATE = process.env.TT_UPDATE_AGENT_FIXTURES === '1';
const PROMPT = 'Create a file out.txt containing the word hello, using the shell.';
/** A run's own limit; start-up alone has taken 15 s on a busy 2-core machine (gemini). */
const RUN_MS = 60_000;
const TEST_MS = 90_000;

const VENDOR: Record<string, Vendor> = { claude: 'anthropic', codex: 'openai', gemini: 'gemini' };

/** Per CLI: settings that make it give up on a failing model quickly (default retries run > 60 s). */
const FAST_FAIL: Record<string, Partial<SetupOptions>> = {
  claude: { env: { CLAUDE_CODE_MAX_RETRIES: '1' } },
  codex: { codexProvider: { request_max_retries: 1, stream_max_retries: 1 } },
  gemini: { geminiGeneral: { maxAttempts: 2 } },
};

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Start-up times (spawn to first model request) for the summary printed at the end. */
const startup: Record<string, number[]> = {};
afterAll(() => {
  const lines = Object.entries(startup).map(
    ([k, v]) => `${k}: ${v.map((ms) => `${(ms / 1000).toFixed(1)} s`).join(', ')}`,
  );
  if (lines.length)
    console.log(`agent CLI start-up (spawn to first model request):\n  ${lines.join('\n  ')}`);
});

interface CaseRun {
  run: AgentRun;
  server: ModelServer;
  workdir: string;
  events: any[];
  /** ms from spawn to the CLI's first request to the model server. */
  startupMs?: number;
  /** Exit status and output tails, for assertion messages. */
  diag: string;
}

async function runCase(
  name: AgentCliName,
  caseName: string,
  script: Turn[],
  opts: Partial<SetupOptions> & { stopAfterMainRequestMs?: number } = {},
): Promise<CaseRun> {
  const cli = requireAgentCli(name);
  const server = await startModelServer(script);
  cleanups.push(() => server.close());
  const setup = setupAgent(name, { ...opts, baseUrl: server.url });
  cleanups.push(() => setup.cleanup());
  const workdir = makeWorkdir(name);
  cleanups.push(() => rmSync(workdir, { recursive: true, force: true }));
  const stop =
    opts.stopAfterMainRequestMs === undefined
      ? undefined
      : server.waitForRequest().then(() => new Promise((r) => setTimeout(r, opts.stopAfterMainRequestMs)));
  const run = await runAgent(cli, setup, { cwd: workdir, prompt: PROMPT, timeoutMs: RUN_MS, stop });
  const { events } = parseJsonl(run.stdout);
  const first = server.requests[0];
  const startupMs = first ? server.startedAt + first.at - run.startedAt : undefined;
  if (startupMs !== undefined) (startup[name] ??= []).push(startupMs);
  const fixture = path.join(FIXTURES, `${name}-${caseName}.jsonl`);
  if (UPDATE) {
    mkdirSync(FIXTURES, { recursive: true });
    writeFileSync(fixture, run.stdout);
  }
  // Nothing secret leaves the CLI in a header the server kept.
  expect(JSON.stringify(server.requests.map((r) => r.headers))).not.toContain(FAKE_API_KEY);
  const diag = `exit ${run.exitCode} signal ${run.signal} after ${run.durationMs} ms\nstdout:\n${run.stdout.slice(-3000)}\nstderr:\n${run.stderr.slice(-3000)}`;
  if (!UPDATE) {
    expect(existsSync(fixture), `fixture ${fixture} (write it with TT_UPDATE_AGENT_FIXTURES=1)`).toBe(true);
    const want = kinds(parseJsonl(readFileSync(fixture, 'utf8')).events);
    expect(kinds(events), `event kinds differ from ${path.basename(fixture)}\n${diag}`).toEqual(want);
  }
  return { run, server, workdir, events, startupMs, diag };
}

/** The distinct kinds of events (type, plus subtype or item type) a JSONL stream holds. */
function kinds(events: any[]): string[] {
  const out = new Set<string>();
  for (const e of events) {
    const sub = e?.subtype ?? e?.item?.type ?? e?.role;
    out.add(sub ? `${e?.type}/${sub}` : String(e?.type));
  }
  return [...out].sort();
}

const last = (events: any[]) => events[events.length - 1];

for (const name of ['claude', 'codex', 'gemini'] as const) {
  const { cli, skip } = agentCliOrSkip(name);
  const vendor = VENDOR[name]!;
  describe(skip ? `${name} (skipped: ${skip})` : `${name} ${cli?.version ?? '(missing)'}`, () => {
    const t = skip ? test.skip : test;

    t(
      'runs a shell command through its shell tool, then ends with a text',
      async () => {
        const c = await runCase(name, 'shell', [
          turn.shell('echo hello > out.txt', { usage: { input: 120, output: 30, cached: 40 } }),
          turn.say('Done: out.txt contains hello.', { usage: { input: 150, output: 10, cached: 100 } }),
        ]);
        const diag = c.diag;
        expect(c.run.exitCode, diag).toBe(0);
        expect(readFileSync(path.join(c.workdir, 'out.txt'), 'utf8')).toBe('hello\n');
        const main = c.server.mainRequests();
        expect(main.map((r) => r.turn)).toEqual([0, 1]);
        expect(main[1]!.toolResult, 'the tool result came back in the second request').toBeDefined();
        expect(c.server.overrun).toBe(0);
        switch (name) {
          case 'claude': {
            const result = last(c.events);
            expect(result).toMatchObject({
              type: 'result',
              subtype: 'success',
              is_error: false,
              num_turns: 2,
            });
            expect(result.result).toBe('Done: out.txt contains hello.');
            // The result sums both turns; cache reads are counted apart from input_tokens.
            expect(result.usage).toMatchObject({
              input_tokens: 270,
              output_tokens: 40,
              cache_read_input_tokens: 140,
            });
            expect(result.total_cost_usd).toBeGreaterThan(0);
            break;
          }
          case 'codex': {
            const cmd = c.events.find(
              (e) => e.type === 'item.completed' && e.item?.type === 'command_execution',
            );
            expect(cmd?.item).toMatchObject({ exit_code: 0, status: 'completed' });
            expect(cmd.item.command).toContain('echo hello > out.txt');
            expect(last(c.events)).toMatchObject({
              type: 'turn.completed',
              usage: { input_tokens: 410, cached_input_tokens: 140, output_tokens: 40 },
            });
            break;
          }
          case 'gemini': {
            const use = c.events.find((e) => e.type === 'tool_use');
            expect(use).toMatchObject({
              tool_name: 'run_shell_command',
              parameters: { command: 'echo hello > out.txt' },
            });
            expect(c.events.find((e) => e.type === 'tool_result')).toMatchObject({ status: 'success' });
            const result = last(c.events);
            expect(result).toMatchObject({ type: 'result', status: 'success' });
            expect(result.stats.tool_calls).toBe(1);
            break;
          }
        }
      },
      TEST_MS,
    );

    t(
      'stops on a 429 with the vendor quota headers',
      async () => {
        const c = await runCase(name, 'rate-limit', [rateLimited(vendor)]);
        const diag = c.diag;
        const end = last(c.events);
        switch (name) {
          case 'claude':
            expect(c.run.exitCode, diag).toBe(1);
            expect(end).toMatchObject({ type: 'result', is_error: true, api_error_status: 429 });
            expect(end.result).toMatch(/^API Error: Request rejected \(429\)/);
            break;
          case 'codex':
            expect(c.run.exitCode, diag).toBe(1);
            expect(end.type).toBe('turn.failed');
            expect(end.error.message).toMatch(/usage limit/);
            break;
          case 'gemini':
            // gemini exits with the HTTP status as its code: 429 & 0xff.
            expect(c.run.exitCode, diag).toBe(429 & 0xff);
            expect(end).toMatchObject({ type: 'result', status: 'error' });
            expect(end.error.message).toMatch(/exhausted/);
            break;
        }
        expect(c.server.mainRequests().length, 'a used-up quota is not retried').toBe(1);
      },
      TEST_MS,
    );

    t(
      'gives up after its retries on a 500',
      async () => {
        const c = await runCase(name, 'server-error', [turn.fail(500, { times: Infinity })], FAST_FAIL[name]);
        const diag = c.diag;
        const end = last(c.events);
        expect(c.server.mainRequests().length, 'retried at least once').toBeGreaterThan(1);
        switch (name) {
          case 'claude':
            expect(c.run.exitCode, diag).toBe(1);
            expect(end).toMatchObject({ type: 'result', is_error: true, api_error_status: 500 });
            expect(c.events.some((e) => e.type === 'system' && e.subtype === 'api_retry')).toBe(true);
            break;
          case 'codex':
            expect(c.run.exitCode, diag).toBe(1);
            expect(end.type).toBe('turn.failed');
            break;
          case 'gemini':
            expect(c.run.exitCode, diag).toBe(500 & 0xff);
            expect(end).toMatchObject({ type: 'result', status: 'error' });
            break;
        }
      },
      TEST_MS,
    );

    t(
      'waits on a model that never answers until it is killed',
      async () => {
        const c = await runCase(name, 'hang', [turn.hang()], {
          ...FAST_FAIL[name],
          stopAfterMainRequestMs: 5000,
        });
        const diag = c.diag;
        expect(c.run.timedOut, diag).toBe(false);
        // Still waiting 5 s after its request, so it was our SIGTERM that ended it; how each
        // reports that differs, and gemini's looks like success.
        switch (name) {
          case 'claude':
            expect(c.run.exitCode, diag).toBe(143);
            break;
          case 'codex':
            expect(c.run.signal, diag).toBe('SIGTERM');
            break;
          case 'gemini':
            expect(c.run.exitCode, diag).toBe(0);
            break;
        }
        expect(c.events.some((e) => e.type === 'result' || e.type === 'turn.completed')).toBe(false);
      },
      TEST_MS,
    );
  });
}
