/** Built-in coding-agent CLIs: a name for each non-interactive command line. */
export const CLI_PRESETS: Record<string, string> = {
  claude: 'claude --print --dangerously-skip-permissions',
  codex: 'codex exec --dangerously-bypass-approvals-and-sandbox',
  'codex-mini':
    'codex exec --dangerously-bypass-approvals-and-sandbox -m gpt-5.4-mini -c model_reasoning_effort="medium"',
  aider: 'aider --yes --no-auto-commits --message-file /dev/stdin',
  gemini: 'gemini',
  copilot: 'gh copilot',
  auggie: 'auggie --print',
  cursor: 'cursor',
  sim: '(built in: a simulated agent, no LLM)',
};

/**
 * The preset name for a CLI given on the command line or in config: an exact preset name (from
 * the town's, the global, then the built-in table), or a preset whose command is exactly this
 * string; anything else is a shell command of its own and is kept verbatim.
 */
export const normaliseCli = (cli: string, presets: Record<string, string>): string => {
  const c = cli.trim();
  if (c in presets) return c;
  const byCommand = Object.entries(presets).find(([, cmd]) => cmd === c);
  return byCommand ? byCommand[0] : c;
};

/** The command line to run for a CLI name (a preset's command, or the string itself). */
export const cliCommand = (cli: string, presets: Record<string, string>): string => presets[cli] ?? cli;
