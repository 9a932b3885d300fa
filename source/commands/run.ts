import { findTownRoot } from '../config/load.js';
import { TtError } from '../model/errors.js';
import { MalformedRecordError } from '../model/hash.js';
import { kebab, parseFlags } from '../services/flags.js';
import type { Command, Ctx, Flags, FlagSpec, Io } from './command.js';
import { COMMANDS } from './registry.js';

const GLOBAL_FLAGS: Record<string, FlagSpec> = {
  town: {
    type: 'string',
    shortFlag: 't',
    description: 'the town directory (default: the nearest one upwards)',
    value: 'dir',
  },
  verbose: { type: 'boolean', shortFlag: 'v', description: 'show stack traces on errors' },
  help: { type: 'boolean', shortFlag: 'h', description: 'show this help' },
};
const JSON_FLAG: FlagSpec = { type: 'boolean', description: 'print JSON instead of text' };

const flagLine = (name: string, f: FlagSpec): [string, string] => {
  const value = f.type === 'boolean' ? '' : ` <${f.value ?? (f.choices ? f.choices.join('|') : f.type)}>`;
  const dflt = f.default !== undefined && f.type !== 'boolean' ? ` (default ${f.default})` : '';
  return [`${f.shortFlag ? `-${f.shortFlag}, ` : '    '}--${kebab(name)}${value}`, f.description + dflt];
};

const flagsOf = (c: Command): Record<string, FlagSpec> => ({
  ...(c.flags ?? {}),
  ...(c.json ? { json: JSON_FLAG } : {}),
  ...GLOBAL_FLAGS,
});

export const commandHelp = (c: Command): string => {
  const lines = [`Usage: tt ${c.name}${c.args ? ` ${c.args}` : ''}`, '', c.summary];
  if (c.description) lines.push('', c.description);
  const rows = Object.entries(flagsOf(c)).map(([n, f]) => flagLine(n, f));
  const w = Math.max(...rows.map((r) => r[0].length));
  lines.push('', 'Options:', ...rows.map(([a, b]) => `  ${a.padEnd(w)}  ${b}`));
  return lines.join('\n');
};

export const mainHelp = (): string => {
  const shown = COMMANDS.filter((c) => !c.hidden);
  const w = Math.max(...shown.map((c) => c.name.length));
  return [
    'tt: multi-agent orchestration for coding agents, over Redis',
    '',
    'Usage: tt <command> [options]      tt <command> --help for its options',
    '',
    'Commands:',
    ...shown.map((c) => `  ${c.name.padEnd(w)}  ${c.summary}`),
    '',
    'Global options: -t/--town <dir>, --json (read commands), -v/--verbose, -h/--help',
  ].join('\n');
};

/** Global options may come before the verb (tt -t ../town status); they are moved after it. */
const leadingGlobals = (argv: string[]): { globals: string[]; rest: string[] } => {
  const globals: string[] = [];
  let i = 0;
  while (i < argv.length) {
    const a = argv[i]!;
    const width =
      a === '-t' || a === '--town'
        ? 2
        : a.startsWith('--town=') || a === '-v' || a === '--verbose' || a === '--json'
          ? 1
          : 0;
    if (width === 0) break;
    globals.push(...argv.slice(i, i + width));
    i += width;
  }
  return { globals, rest: argv.slice(i) };
};

/** Finds the command named by the leading words of argv (longest match first). */
const findCommand = (argv: string[]): { command?: Command; rest: string[]; group?: string } => {
  const { globals, rest: words0 } = leadingGlobals(argv);
  const words = words0.slice(0, 2).filter((w) => !w.startsWith('-'));
  for (let n = words.length; n > 0; n--) {
    const name = words.slice(0, n).join(' ');
    const command = COMMANDS.find((c) => c.name === name);
    if (command) return { command, rest: [...words0.slice(n), ...globals] };
  }
  const group = words[0] && COMMANDS.some((c) => c.name.startsWith(`${words[0]} `)) ? words[0] : undefined;
  return { rest: words0, ...(group ? { group } : {}) };
};

const groupHelp = (group: string): string => {
  const subs = COMMANDS.filter((c) => c.name.startsWith(`${group} `));
  const w = Math.max(...subs.map((c) => c.name.length));
  return [
    `Usage: tt ${group} <subcommand>`,
    '',
    'Subcommands:',
    ...subs.map((c) => `  ${c.name.padEnd(w)}  ${c.summary}`),
  ].join('\n');
};

/** No verb found: help for a group of subverbs, or one line saying the verb is unknown. */
const noCommand = (argv: string[], rest: string[], group: string | undefined, io: Io): number => {
  if (!group) {
    io.err(`tt: unknown command "${rest[0] ?? argv[0]}" (see tt --help)`);
    return 2;
  }
  const sub = rest[1];
  if (sub === undefined || sub === '--help' || sub === '-h') {
    io.out(groupHelp(group));
    return sub === undefined ? 2 : 0;
  }
  io.err(`tt ${group}: unknown subcommand "${sub}"\n${groupHelp(group)}`);
  return 2;
};

/** What is wrong with a verb's flags or its number of arguments, as one line; undefined if nothing. */
const usageProblem = (command: Command, args: string[], problem: string | undefined): string | undefined => {
  const usage = `usage: tt ${command.name}${command.args ? ` ${command.args}` : ''}`;
  if (problem) return problem;
  if (args.length < (command.minArgs ?? 0)) return `missing arguments; ${usage}`;
  if (command.maxArgs !== undefined && args.length > command.maxArgs) return `too many arguments; ${usage}`;
  return undefined;
};

/** Runs a verb with its parsed arguments: its exit code, its error as one line, its warnings after. */
const runVerb = async (command: Command, args: string[], flags: Flags, io: Io): Promise<number> => {
  const warnings: string[] = [];
  const ctx: Ctx = {
    args,
    flags,
    io,
    json: Boolean(flags.json),
    where: {
      cwd: io.cwd,
      env: io.env,
      ...(typeof flags.town === 'string' ? { town: flags.town } : {}),
      warn: (l) => warnings.push(l),
    },
    printJson: (v) => {
      io.out(JSON.stringify(v, null, 2));
    },
  };
  try {
    const code = await command.run(ctx);
    return typeof code === 'number' ? code : 0;
  } catch (e) {
    if (e instanceof TtError) {
      io.err(`tt ${command.name}: ${e.message}`);
      return e.exitCode;
    }
    if (e instanceof MalformedRecordError) {
      io.err(`tt ${command.name}: ${e.message}`);
      return 1;
    }
    io.err(`tt ${command.name}: ${(e as Error)?.message ?? String(e)}`);
    if (flags.verbose && e instanceof Error && e.stack) io.err(e.stack);
    return 1;
  } finally {
    for (const w of warnings) io.err(`warning: ${w}`);
  }
};

/** Runs tt with these arguments; returns the exit code. Never calls process.exit. */
export const run = async (argv: string[], io: Io): Promise<number> => {
  // tt alone, in a town on a terminal, opens the console.
  if (argv.length === 0 && io.terminal?.stdout.isTTY && findTownRoot(io.cwd)) return run(['console'], io);
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    io.out(mainHelp());
    return 0;
  }
  if (argv[0] === '--version' || argv[0] === '-V') {
    io.out((await import('../config/version.js')).VERSION);
    return 0;
  }
  const { command, rest, group } = findCommand(argv);
  if (!command) return noCommand(argv, rest, group, io);
  const { args, flags, problem } = parseFlags(rest, flagsOf(command), command.name);
  // ps shows the verb and its arguments.
  if (io.setTitle) process.title = ['tt', ...argv].join(' ');
  if (flags.help) {
    io.out(commandHelp(command));
    return 0;
  }
  const wrong = usageProblem(command, args, problem);
  if (wrong) {
    io.err(`tt ${command.name}: ${wrong}`);
    return 2;
  }
  return runVerb(command, args, flags, io);
};
