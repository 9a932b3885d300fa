/**
 * CLI presets: a name for a command line. The built-in ones come from the CLI adapters
 * (runtime/clis, `CLI_PRESETS`); a town's or the global config may add or override presets.
 */

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
