import { retryDelaysMs } from '../model/retry.js';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Redis } from 'ioredis';
import { resolveEndpoint, type Endpoint } from '../config/endpoint.js';
import {
  CONFIG_FILE,
  effectivePresets,
  findTownRoot,
  loadGlobalConfig,
  loadTownConfig,
  type Env,
} from '../config/load.js';
import type { GlobalConfig, TownConfig } from '../config/schema.js';
import type { Clock } from '../model/clock.js';
import { UsageError } from '../model/errors.js';
import { CLI_PRESETS } from '../runtime/clis/index.js';
import { connect, type Role } from '../redis/connect.js';
import { ensureManaged } from '../redis/server.js';
import { makeDb, type Db } from '../store/db.js';

export const systemClock: Clock = { now: () => Date.now() };

/** An open town: its config, where its Redis is, and a connection to it. */
export interface Town {
  readonly root: string;
  readonly config: TownConfig;
  readonly global: GlobalConfig;
  readonly presets: Record<string, string>;
  readonly endpoint: Endpoint;
  readonly env: Env;
  readonly db: Db;
  readonly clock: Clock;
  warn(line: string): void;
  /** Opens another connection to the same Redis (a blocking read needs its own). */
  connect(role: Role): Promise<Redis>;
  close(): Promise<void>;
}

export interface Where {
  cwd: string;
  env: Env;
  /** -t/--town: a town directory; otherwise the nearest one upwards from cwd. */
  town?: string;
  /** Where warnings go (malformed records skipped, and the like). */
  warn?: (line: string) => void;
}

export const hostFacts = (env: Env) => ({ tmpdir: env.TMPDIR || tmpdir(), uid: process.getuid?.() ?? 0 });

/**
 * The town's directory: -t/--town, else $TT_TOWN (a worker sets it for its agent's CLI, whose
 * worktree lies outside the town), else the nearest town upwards from cwd.
 */
export const locateTown = (where: Where): string => {
  const given = where.town ?? (where.env.TT_TOWN || undefined);
  if (given) {
    const root = resolve(where.cwd, given);
    if (!existsSync(join(root, CONFIG_FILE)))
      throw new UsageError(
        `${root}${where.town ? '' : ' (from TT_TOWN)'} is not a town (no ${CONFIG_FILE}); run tt init there`,
      );
    return root;
  }
  const root = findTownRoot(where.cwd);
  if (!root)
    throw new UsageError(
      `no ${CONFIG_FILE} here or in any parent directory: run tt init, or pass -t <town dir>`,
    );
  return root;
};

/** Reads a town's config and endpoint without touching Redis. */
export const readTown = (where: Where) => {
  const root = locateTown(where);
  const config = loadTownConfig(root);
  const global = loadGlobalConfig(where.env);
  const endpoint = resolveEndpoint(config, root, where.env, hostFacts(where.env));
  return { root, config, global, endpoint, presets: effectivePresets(CLI_PRESETS, config, global) };
};

/** Opens a town: loads its config, starts its managed Redis when needed, and connects. */
export const openTown = async (
  where: Where,
  role: Role = 'cli',
  clock: Clock = systemClock,
): Promise<Town> => {
  const t = readTown(where);
  if (t.endpoint.kind === 'managed') await ensureManaged(t.endpoint, where.env);
  const redis = await connect(t.endpoint, role);
  const extra: Redis[] = [];
  return {
    ...t,
    env: where.env,
    clock,
    warn: where.warn ?? (() => {}),
    db: makeDb(redis, t.config.name, clock),
    async connect(r: Role) {
      const c = await connect(t.endpoint, r);
      extra.push(c);
      return c;
    },
    async close() {
      for (const c of [...extra, redis]) c.disconnect();
    },
  };
};

/** Retry delays in force for this town. */
export const townDelays = (t: Town): number[] =>
  retryDelaysMs(t.config.tasks.maxAttempts, t.config.tasks.backoffBaseSecs, t.config.tasks.backoffMaxSecs);
