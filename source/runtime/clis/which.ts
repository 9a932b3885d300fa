import { accessSync, constants, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';

/** Finding the executable a command line starts with, as `sh -c` would. */

const isExecutableFile = (p: string): boolean => {
  try {
    accessSync(p, constants.X_OK);
    return statSync(p).isFile();
  } catch {
    return false;
  }
};

/** The full path of `bin` on a PATH (a name with a slash is a path, relative to `cwd`). */
export const findExecutable = (bin: string, path: string | undefined, cwd: string): string | undefined => {
  if (bin.includes('/')) {
    const p = isAbsolute(bin) ? bin : resolve(cwd, bin);
    return isExecutableFile(p) ? p : undefined;
  }
  for (const dir of (path ?? '').split(':')) {
    if (!dir) continue;
    const p = join(dir, bin);
    if (isExecutableFile(p)) return p;
  }
  return undefined;
};

/** Shell keywords and builtins: a command line starting with one is a shell construct. */
const SHELL_WORDS = new Set(
  (
    '! . : [ [[ { } alias bg break case cd command continue do done echo elif else esac eval exec exit ' +
    'export false fg fi for function getopts hash if in jobs kill let local printf pwd read readonly ' +
    'return select set shift source test then time times trap true type ulimit umask unalias unset ' +
    'until wait while'
  ).split(' '),
);
const BARE_WORD = /^[A-Za-z0-9_.+/@%:,-]+$/;

/**
 * The program a command line runs, when that is plain: its first word, if that is a bare word
 * (no quoting, expansion or assignment) and not a shell keyword or builtin. Undefined for a shell
 * construct (`FOO=1 x`, `if ...`, `(cd a && x)`, `$HOME/x`), which is left to the shell.
 */
export const commandProgram = (commandLine: string): string | undefined => {
  const first = commandLine.trim().split(/\s+/, 1)[0] ?? '';
  if (!first || !BARE_WORD.test(first) || SHELL_WORDS.has(first)) return undefined;
  return first;
};
