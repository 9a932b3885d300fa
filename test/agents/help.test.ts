// Contract tests on the pinned CLIs' --help: the flags tt's adapters rely on are still there.
// copilot and auggie are only checked this far (no end-to-end run against the stand-in model).
import { readFileSync, rmSync } from 'node:fs';
import { afterEach, describe, expect, test } from 'vitest';
import {
  AGENT_CLI_PINS,
  agentCliOrSkip,
  requireAgentCli,
  makeWorkdir,
  runAgent,
  setupAgent,
  type AgentCliName,
} from '../helpers/agent-clis.js';

const HELP: Record<AgentCliName, { args: string[]; flags: string[] }> = {
  claude: {
    args: ['--help'],
    flags: [
      '-p, --print',
      '--output-format',
      'stream-json',
      '--verbose',
      '--dangerously-skip-permissions',
      '--resume',
    ],
  },
  codex: {
    args: ['exec', '--help'],
    flags: [
      '--json',
      '--dangerously-bypass-approvals-and-sandbox',
      '--skip-git-repo-check',
      '-c, --config',
      '--output-last-message',
    ],
  },
  gemini: {
    args: ['--help'],
    flags: ['--output-format', 'stream-json', '--yolo', '--skip-trust', '--approval-mode', '--resume'],
  },
  copilot: {
    args: ['--help'],
    flags: ['-p, --prompt', '--allow-all-tools', '--output-format', '--silent', '--model'],
  },
  auggie: {
    args: ['--help'],
    flags: ['-p, --print', '--output-format', '--quiet', '--instruction', '--max-turns'],
  },
};

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

test('scripts/agent-clis.sh installs the releases the tests look for', () => {
  const script = readFileSync(new URL('../../scripts/agent-clis.sh', import.meta.url), 'utf8');
  for (const p of Object.values(AGENT_CLI_PINS))
    expect(script).toContain(`"${p.name}|${p.pkg}|${p.version}|${p.bin}"`);
});

describe('agent CLI --help', () => {
  for (const name of Object.keys(HELP) as AgentCliName[]) {
    const { cli, skip } = agentCliOrSkip(name);
    const t = skip ? test.skip : test;
    t(
      `${name} ${cli?.version ?? (skip ? `(skipped: ${skip})` : '(missing)')} lists the flags tt relies on`,
      async () => {
        // No model is contacted: the base URL goes nowhere.
        const setup = setupAgent(name, { baseUrl: 'http://127.0.0.1:9' });
        cleanups.push(setup.cleanup);
        const cwd = makeWorkdir(name);
        cleanups.push(() => rmSync(cwd, { recursive: true, force: true }));
        const run = await runAgent(requireAgentCli(name), setup, {
          cwd,
          prompt: '',
          timeoutMs: 45_000,
          args: HELP[name].args,
        });
        expect(run.exitCode, run.stderr).toBe(0);
        for (const flag of HELP[name].flags)
          expect(run.stdout, `${name} --help lists ${flag}`).toContain(flag);
      },
      60_000,
    );
  }
});
