import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { z } from 'zod';
import { UsageError } from '../model/errors.js';
import { describeIssue, GlobalConfig, TownConfig, TownsRegistry } from './schema.js';

export const CONFIG_FILE = 'tt.config.json';

export type Env = Record<string, string | undefined>;

/** The directory of global state: $TT_HOME, else ~/.tt. */
export const ttHome = (env: Env): string => env.TT_HOME || join(env.HOME || homedir(), '.tt');

/** The town containing `start`: the nearest directory upwards holding tt.config.json. */
export const findTownRoot = (start: string): string | undefined => {
  let dir = resolve(start);
  for (;;) {
    if (existsSync(join(dir, CONFIG_FILE))) return dir;
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
};

const readJson = (path: string, label: string): unknown => {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`${label}: cannot read it (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${label}: not valid JSON: ${(e as Error).message}`);
  }
};

export const parseWith = <S extends z.ZodType>(schema: S, value: unknown, label: string): z.infer<S> => {
  const r = schema.safeParse(value);
  if (!r.success) throw new UsageError(describeIssue(label, r.error));
  return r.data;
};

export const loadTownConfig = (root: string): TownConfig =>
  parseWith(TownConfig, readJson(join(root, CONFIG_FILE), CONFIG_FILE), CONFIG_FILE);

export const loadGlobalConfig = (env: Env): GlobalConfig => {
  const path = join(ttHome(env), 'config.json');
  if (!existsSync(path)) return GlobalConfig.parse({});
  return parseWith(GlobalConfig, readJson(path, path), path);
};

/** Writes JSON atomically (temp file, then rename), so a crash never leaves half a file. */
export const writeJsonAtomic = (path: string, value: unknown, mode = 0o644): void => {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`, { mode });
  renameSync(tmp, path);
};

export const loadTowns = (env: Env): TownsRegistry => {
  const path = join(ttHome(env), 'towns.json');
  if (!existsSync(path)) return TownsRegistry.parse({});
  return parseWith(TownsRegistry, readJson(path, path), path);
};

/** Records a town in the registry by its path (renaming the entry if the name changed). */
export const registerTown = (env: Env, name: string, path: string): void => {
  const reg = loadTowns(env);
  const towns = reg.towns.filter((t) => t.path !== path);
  towns.push({ name, path });
  writeJsonAtomic(join(ttHome(env), 'towns.json'), { towns });
};

/** CLI presets in force: the built-ins (runtime/clis CLI_PRESETS), then global, then the town's own. */
export const effectivePresets = (
  builtIn: Readonly<Record<string, string>>,
  town: TownConfig | undefined,
  global: GlobalConfig,
): Record<string, string> => ({
  ...builtIn,
  ...global.clis,
  ...(town?.clis ?? {}),
});

/** The CLI new agents get when spawn names none: the town's, then the global default, then claude. */
export const defaultCli = (town: TownConfig | undefined, global: GlobalConfig): string =>
  town?.defaultCli ?? global.defaultCli ?? 'claude';
