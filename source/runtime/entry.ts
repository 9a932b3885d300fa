import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The tt entry script to start workers with: dist/cli.js beside this module when running
 * built, else the repository's built copy (tests run the sources); $TT_ENTRY overrides.
 */
export const ttEntry = (env: Record<string, string | undefined> = process.env): string => {
  if (env.TT_ENTRY) return env.TT_ENTRY;
  const built = fileURLToPath(new URL('../cli.js', import.meta.url));
  return existsSync(built) ? built : fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
};

/** A word for `sh`, single-quoted. */
const quoted = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * Writes `<dir>/tt`, a shim that runs this same tt, so a CLI started by a worker (with <dir>
 * first on its PATH, or by its absolute path, TT_BIN) reports back through the tt that started
 * it. With `town`, the shim also knows its town: TT_TOWN, when the CLI's shell lost it (some CLIs
 * filter what their commands inherit), is set to it, since an agent's worktree lies outside the
 * town and walking up from it finds none. Returns the directory.
 */
export const writeShim = (
  dir: string,
  env: Record<string, string | undefined> = process.env,
  town?: string,
): string => {
  mkdirSync(dir, { recursive: true });
  const shim = join(dir, 'tt');
  const setTown = town ? `if [ -z "$TT_TOWN" ]; then TT_TOWN=${quoted(town)}; export TT_TOWN; fi\n` : '';
  writeFileSync(shim, `#!/bin/sh\n${setTown}exec ${quoted(process.execPath)} ${quoted(ttEntry(env))} "$@"\n`);
  chmodSync(shim, 0o755);
  return dir;
};
