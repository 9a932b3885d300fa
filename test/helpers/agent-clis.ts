// The real coding-agent CLIs for the end-to-end agent suite (test/agents): where the pinned
// releases are cached (scripts/agent-clis.sh installs them), how each is pointed at the stand-in
// model (test/helpers/model-server.ts) with no real credentials and no network, and a runner that
// starts one non-interactively in its own process group with the prompt on stdin.
//
// The environment is built from nothing but PATH and a few locale variables: a developer's own
// API keys, proxies or CLI settings never reach a test run.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export type AgentCliName = 'claude' | 'codex' | 'gemini' | 'copilot' | 'auggie';

export interface AgentCliPin {
  name: AgentCliName;
  pkg: string;
  version: string;
  bin: string;
}

/** Keep in step with scripts/agent-clis.sh. Each release runs on Node 20. */
export const AGENT_CLI_PINS: Record<AgentCliName, AgentCliPin> = {
  claude: { name: 'claude', pkg: '@anthropic-ai/claude-code', version: '2.1.197', bin: 'claude' },
  codex: { name: 'codex', pkg: '@openai/codex', version: '0.171.0', bin: 'codex' },
  gemini: { name: 'gemini', pkg: '@google/gemini-cli', version: '0.61.0', bin: 'gemini' },
  copilot: { name: 'copilot', pkg: '@github/copilot', version: '1.0.102', bin: 'copilot' },
  auggie: { name: 'auggie', pkg: '@augmentcode/auggie', version: '0.36.0', bin: 'auggie' },
};

export const agentCliCache = (): string =>
  process.env.TT_AGENT_CLI_CACHE || path.join(os.homedir(), '.cache', 'tt-agent-clis');

export interface AgentCli extends AgentCliPin {
  /** The installed executable. */
  path: string;
}

/** The cached executable of a pinned CLI, or undefined when it is not installed. */
export function findAgentCli(name: AgentCliName): AgentCli | undefined {
  const pin = AGENT_CLI_PINS[name];
  const dir = path.join(agentCliCache(), `${name}@${pin.version}`);
  const exe = path.join(dir, 'node_modules', '.bin', pin.bin);
  if (!existsSync(path.join(dir, '.tt-installed')) || !existsSync(exe)) return undefined;
  return { ...pin, path: exe };
}

const warned = new Set<AgentCliName>();

/**
 * The CLI for a test, or the reason to skip it. Outside CI a missing cache skips (the reason is
 * printed once per CLI and names the install script). Under CI=true nothing is skipped: the
 * tests run and `requireAgentCli` fails them, so the suite cannot go green by running nothing.
 */
export function agentCliOrSkip(name: AgentCliName): { cli?: AgentCli; skip?: string } {
  const cli = findAgentCli(name);
  if (cli) return { cli };
  if (process.env.CI && process.env.CI !== 'false' && process.env.CI !== '0') return {};
  const reason = missingReason(name);
  if (!warned.has(name)) {
    warned.add(name);
    console.warn(`skipping ${name} tests: ${reason}`);
  }
  return { skip: reason };
}

/** The cached CLI, or an error that says how to install it. */
export function requireAgentCli(name: AgentCliName): AgentCli {
  const cli = findAgentCli(name);
  if (!cli) throw new Error(missingReason(name));
  return cli;
}

function missingReason(name: AgentCliName): string {
  const pin = AGENT_CLI_PINS[name];
  return `${pin.pkg}@${pin.version} is not in ${agentCliCache()} (run scripts/agent-clis.sh --all)`;
}

/** The fake key every CLI is given; the model server ignores it and never records it. */
export const FAKE_API_KEY = 'tt-test-key';

export interface AgentSetup {
  name: AgentCliName;
  /** Argument vector after the executable: the CLI's non-interactive, structured-output mode. */
  args: string[];
  env: Record<string, string>;
  /** The temporary HOME (and config dirs under it); removed by cleanup(). */
  home: string;
  cleanup(): void;
}

export interface SetupOptions {
  /** The model server's base URL (http://127.0.0.1:PORT). */
  baseUrl: string;
  /** Extra arguments after the standard ones. */
  extraArgs?: string[];
  /** Extra or overriding environment variables. */
  env?: Record<string, string>;
  /** codex only: extra keys for [model_providers.standin] (request_max_retries, ...). */
  codexProvider?: Record<string, string | number | boolean>;
  /** gemini only: merged into ~/.gemini/settings.json `general` (maxAttempts, ...). */
  geminiGeneral?: Record<string, unknown>;
}

function baseEnv(home: string): Record<string, string> {
  // Error reports and scratch files the CLIs write to the temp dir stay inside the temp HOME.
  const tmp = path.join(home, 'tmp');
  mkdirSync(tmp, { recursive: true });
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: home,
    USER: os.userInfo().username,
    LOGNAME: os.userInfo().username,
    SHELL: '/bin/bash',
    LANG: 'C.UTF-8',
    TERM: 'dumb',
    TMPDIR: tmp,
    NO_COLOR: '1',
  };
  return env;
}

/**
 * Builds a temporary HOME, the CLI's config files in it, its environment and its arguments, all
 * pointing at the stand-in model at `baseUrl`.
 */
export function setupAgent(name: AgentCliName, opts: SetupOptions): AgentSetup {
  const home = mkdtempSync(path.join(os.tmpdir(), `tt-${name}-home-`));
  const env = baseEnv(home);
  let args: string[];
  switch (name) {
    case 'claude':
      Object.assign(env, {
        ANTHROPIC_BASE_URL: opts.baseUrl,
        ANTHROPIC_API_KEY: FAKE_API_KEY,
        // --dangerously-skip-permissions refuses to run as root without it.
        IS_SANDBOX: '1',
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
        DISABLE_AUTOUPDATER: '1',
        DISABLE_TELEMETRY: '1',
        DISABLE_ERROR_REPORTING: '1',
      });
      args = ['-p', '--output-format', 'stream-json', '--verbose', '--dangerously-skip-permissions'];
      break;
    case 'codex': {
      const codexHome = path.join(home, '.codex');
      mkdirSync(codexHome, { recursive: true });
      const provider = {
        name: 'stand-in',
        base_url: `${opts.baseUrl}/v1`,
        wire_api: 'responses',
        env_key: 'TT_STANDIN_API_KEY',
        ...opts.codexProvider,
      };
      const toml = [
        'model_provider = "standin"',
        '',
        '[model_providers.standin]',
        ...Object.entries(provider).map(([k, v]) => `${k} = ${JSON.stringify(v)}`),
        '',
        // Turn metadata otherwise says analytics_enabled: true.
        '[analytics]',
        'enabled = false',
        '',
      ].join('\n');
      writeFileSync(path.join(codexHome, 'config.toml'), toml);
      Object.assign(env, { CODEX_HOME: codexHome, TT_STANDIN_API_KEY: FAKE_API_KEY });
      args = [
        'exec',
        '--json',
        '--dangerously-bypass-approvals-and-sandbox',
        '--skip-git-repo-check',
        '-c',
        'allow_login_shell=false',
      ];
      break;
    }
    case 'gemini': {
      const dir = path.join(home, '.gemini');
      mkdirSync(dir, { recursive: true });
      writeFileSync(
        path.join(dir, 'settings.json'),
        JSON.stringify(
          {
            security: { auth: { selectedType: 'gemini-api-key' } },
            privacy: { usageStatisticsEnabled: false },
            general: { enableAutoUpdate: false, enableAutoUpdateNotification: false, ...opts.geminiGeneral },
          },
          null,
          2,
        ),
      );
      Object.assign(env, {
        GOOGLE_GEMINI_BASE_URL: opts.baseUrl,
        GEMINI_API_KEY: FAKE_API_KEY,
        GEMINI_CLI_TRUST_WORKSPACE: 'true',
      });
      args = ['--output-format', 'stream-json', '--yolo', '--skip-trust'];
      break;
    }
    case 'copilot':
    case 'auggie':
      args = [];
      break;
  }
  Object.assign(env, opts.env);
  return {
    name,
    args: [...args, ...(opts.extraArgs ?? [])],
    env,
    home,
    cleanup: () => rmSync(home, { recursive: true, force: true }),
  };
}

export interface AgentRun {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Epoch ms of the spawn. */
  startedAt: number;
  durationMs: number;
  /** The run was killed because it outlived timeoutMs. */
  timedOut: boolean;
}

/**
 * Runs the CLI in `cwd` with `prompt` on stdin, in its own process group; on timeout the whole
 * group gets SIGTERM, then SIGKILL a second later.
 */
export function runAgent(
  cli: AgentCli,
  setup: AgentSetup,
  opts: {
    cwd: string;
    prompt: string;
    timeoutMs: number;
    args?: string[];
    /** Resolves to end the run early (the group gets SIGTERM, then SIGKILL). */
    stop?: Promise<unknown>;
  },
): Promise<AgentRun> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cli.path, opts.args ?? setup.args, {
      cwd: opts.cwd,
      env: setup.env,
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.stdin.on('error', () => {});
    child.stdin.end(opts.prompt);
    let timedOut = false;
    let reaped = false;
    const killGroup = (sig: NodeJS.Signals) => {
      // Once the group leader is reaped its pid may be reused: never signal it then.
      if (reaped) return;
      try {
        if (child.pid) process.kill(-child.pid, sig);
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup('SIGTERM');
      setTimeout(() => killGroup('SIGKILL'), 1000).unref();
    }, opts.timeoutMs);
    void opts.stop?.then(() => {
      killGroup('SIGTERM');
      setTimeout(() => killGroup('SIGKILL'), 1000).unref();
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    // Anything the CLI left behind in its group (a shell it started) goes with it, so that its
    // pipes close; the group outlives its leader while a member lives, so the id is still ours.
    child.on('exit', () => killGroup('SIGKILL'));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      reaped = true;
      resolve({
        exitCode: code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        startedAt: started,
        durationMs: Date.now() - started,
        timedOut,
      });
    });
  });
}

/** Parses JSONL output; lines that are not JSON are returned apart. */
export function parseJsonl(text: string): { events: any[]; other: string[] } {
  const events: any[] = [];
  const other: string[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      events.push(JSON.parse(line));
    } catch {
      other.push(line);
    }
  }
  return { events, other };
}

/** A fresh empty working directory for one run. */
export const makeWorkdir = (name: string): string => mkdtempSync(path.join(os.tmpdir(), `tt-${name}-work-`));
