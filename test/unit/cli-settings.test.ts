import { describe, expect, it } from 'vitest';
import { cliSettings } from '../../source/runtime/cli-executor.js';
import { claude } from '../../source/runtime/clis/claude.js';
import { command } from '../../source/runtime/clis/command.js';
import { gemini } from '../../source/runtime/clis/gemini.js';
import { AgentConfig } from '../../source/config/schema.js';

describe('cliSettings', () => {
  it('gives a coding-agent preset its adapter, the report judge and agent timeouts', () => {
    expect(cliSettings('claude', 'claude -p', AgentConfig.parse({}))).toEqual({
      command: 'claude -p',
      adapter: claude,
      judge: 'report',
      timeoutMs: 3_600_000,
      stallMs: 600_000,
    });
    expect(cliSettings('gemini', 'gemini').adapter).toBe(gemini);
    // A variant is its CLI's.
    expect(cliSettings('codex-mini', 'codex -m x').judge).toBe('report');
  });

  it('gives any other command the plain adapter, the exit code and no timeouts', () => {
    expect(cliSettings('make test', 'make test', AgentConfig.parse({}))).toEqual({
      command: 'make test',
      adapter: command,
      judge: 'exit',
      timeoutMs: 0,
      stallMs: 0,
    });
  });

  it('takes the judge and the timeouts from config, 0 meaning none', () => {
    const c = AgentConfig.parse({ judge: { mine: 'report', claude: 'exit' }, stallTimeoutSecs: 0 });
    expect(cliSettings('mine', './agent.sh', c)).toMatchObject({
      adapter: command,
      judge: 'report',
      timeoutMs: 3_600_000,
      stallMs: 0,
    });
    expect(cliSettings('claude', 'claude', c)).toMatchObject({ judge: 'exit', timeoutMs: 0, stallMs: 0 });
    const set = AgentConfig.parse({ taskTimeoutSecs: 1.5, stallTimeoutSecs: 2 });
    expect(cliSettings('make', 'make', set)).toMatchObject({ timeoutMs: 1500, stallMs: 2000 });
  });

  it('refuses a judge that is neither report nor exit', () => {
    expect(AgentConfig.safeParse({ judge: { claude: 'vibes' } }).success).toBe(false);
  });
});
