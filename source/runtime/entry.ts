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

/**
 * Writes `<dir>/tt`, a shim that runs this same tt, so a CLI started by a worker (with <dir>
 * first on its PATH) reports back through the tt that started it. Returns the directory.
 */
export const writeShim = (dir: string, env: Record<string, string | undefined> = process.env): string => {
  mkdirSync(dir, { recursive: true });
  const shim = join(dir, 'tt');
  writeFileSync(shim, `#!/bin/sh\nexec '${process.execPath}' '${ttEntry(env)}' "$@"\n`);
  chmodSync(shim, 0o755);
  return dir;
};
