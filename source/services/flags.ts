import meow from 'meow';

/**
 * The flag grammar of tt's verbs, shared by every front: the CLI parses argv with it, and the
 * console's command line parses what follows a verb (:spawn ada --cli sim) with the same
 * definitions and the same parser, so a flag means one thing wherever it is typed.
 */

export type FlagType = 'string' | 'boolean' | 'number';

export interface FlagSpec {
  type: FlagType;
  shortFlag?: string;
  isMultiple?: boolean;
  choices?: readonly string[];
  default?: string | boolean | number;
  description: string;
  /** Shown in help as the value's name: --priority <level>. */
  value?: string;
}

export type Flags = Record<string, string | boolean | number | string[] | undefined>;

export const str = (flags: Flags, name: string): string | undefined => {
  const v = flags[name];
  return typeof v === 'string' ? v : undefined;
};

const toMeowFlags = (specs: Record<string, FlagSpec>) =>
  Object.fromEntries(
    Object.entries(specs).map(([n, f]) => [
      n,
      {
        type: f.type,
        ...(f.shortFlag ? { shortFlag: f.shortFlag } : {}),
        ...(f.isMultiple ? { isMultiple: true } : {}),
      },
    ]),
  );

export const kebab = (s: string): string => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const camel = (s: string) => s.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/**
 * `--result -` names stdin, but the flag parser takes a lone dash for an argument and leaves the
 * flag empty; a dash after a long string flag is joined to it (`--result=-`).
 */
const joinDashValues = (argv: readonly string[], specs: Record<string, FlagSpec>): string[] => {
  const out: string[] = [];
  for (let k = 0; k < argv.length; k++) {
    const a = argv[k]!;
    if (a === '--') return [...out, ...argv.slice(k)];
    const m = /^--([a-z][a-z0-9-]*)$/.exec(a);
    if (m && argv[k + 1] === '-' && specs[camel(m[1]!)]?.type === 'string') {
      out.push(`${a}=-`);
      k++;
    } else out.push(a);
  }
  return out;
};

/** Checks parsed flags against a verb's table: unknown flags, wrong types, bad choices. */
const checkFlags = (verb: string, specs: Record<string, FlagSpec>, flags: Flags): string | undefined => {
  for (const [name, value] of Object.entries(flags)) {
    const spec = specs[name];
    if (!spec) return `unknown option --${kebab(name)} (see tt ${verb} --help)`;
    if (
      spec.type === 'number' &&
      value !== undefined &&
      (typeof value !== 'number' || !Number.isFinite(value))
    )
      return `--${kebab(name)} needs a number`;
    if (spec.type === 'string' && value === '' && !spec.isMultiple) return `--${kebab(name)} needs a value`;
    if (spec.type === 'string' && typeof value !== 'string' && !spec.isMultiple && value !== undefined)
      return `--${kebab(name)} needs a value`;
    if (spec.choices && typeof value === 'string' && !spec.choices.includes(value))
      return `--${kebab(name)} must be one of ${spec.choices.join(', ')}`;
  }
  return undefined;
};

/** Arguments parsed by a verb's flag table: the words, the flags, and what is wrong, if anything. */
export interface Parsed {
  args: string[];
  flags: Flags;
  /** One line: the first unknown flag or bad value. */
  problem?: string;
}

/**
 * Parses a verb's arguments with meow over its flag table; defaults fill the flags not given.
 * `problem` names the first unknown flag or bad value (the `--help` flag, when in the table, is
 * left for the caller to answer first). The process title is left as it was (meow renames it).
 */
export const parseFlags = (
  argv: readonly string[],
  specs: Record<string, FlagSpec>,
  verb: string,
): Parsed => {
  const title = process.title;
  let cli;
  try {
    cli = meow({
      importMeta: import.meta,
      pkg: {},
      argv: joinDashValues(argv, specs),
      autoHelp: false,
      autoVersion: false,
      allowUnknownFlags: true,
      booleanDefault: undefined,
      flags: toMeowFlags(specs) as never,
    });
  } finally {
    if (process.title !== title) process.title = title;
  }
  const flags = cli.flags as Flags;
  for (const [n, f] of Object.entries(specs))
    if (flags[n] === undefined && f.default !== undefined) flags[n] = f.default;
  const args = cli.input.map(String);
  const problem = checkFlags(verb, specs, flags);
  return problem === undefined ? { args, flags } : { args, flags, problem };
};
